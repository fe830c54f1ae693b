// Package odoo posts tillsync documents to Odoo 19 through its external
// JSON-2 API: POST /json/2/<model>/<method> with the method's arguments as
// named JSON values, the user's API key as "Authorization: bearer <key>",
// and X-Odoo-Database when the server hosts several databases. Errors come
// back as an HTTP status with a JSON object (name, message, arguments,
// context, debug). Every call is one SQL transaction.
// Reference: https://www.odoo.com/documentation/19.0/developer/reference/external_api.html
//
// # What a document becomes
//
// An Odoo consultant wiring an external till into Odoo would not use
// pos.order: a POS order belongs to a pos.session opened on one of Odoo's
// own POS configurations and is accounted when that session closes, which
// an outside till never does. An invoice alone (account.move) books the
// money but moves no stock, and stock is the point of tillsync. What Odoo's
// own e-commerce and marketplace connectors create is a sale.order; so:
//
//   - cash_sale, sales_order: a sale.order for the walk-in customer
//     (customer_id) in the store's warehouse, confirmed with
//     action_confirm. Its delivery takes the stock out; invoicing follows the
//     company's invoicing policy, typically automated (OCA's
//     sale_automatic_workflow, or an automated action) so the consultant does
//     not have to validate thousands of till orders by hand.
//   - cash_refund (returns and post-voids): the same with negative
//     quantities, which Odoo invoices as a credit note and receives back into
//     stock; origin names the sale it reverses.
//   - inventory_adjustment: a validated stock.picking between the store's
//     stock location and the Inventory adjustment virtual location (losses
//     out, gains in; a document with both becomes two pickings, the second
//     under the external ID + "#2").
//   - transfer_order / transfer_receipt: validated stock.pickings into and
//     out of the transit location (two-step inter-warehouse transfer).
//   - summary: a posted account.move journal entry: tenders debited, taxes
//     and net sales credited, refused if tenders and sales differ.
//   - inventory_count, fulfilment, order_cancel are refused permanently with
//     the reason (counts set stock.quant quantities, which have no reference
//     to post exactly once; Odoo ships and cancels its sale orders itself):
//     leave them out of an Odoo destination.
//
// # Exactly once
//
// Each record carries the document's external ID in a Char field
// (ref_field, by default the custom field x_tillsync_id, added to
// sale.order, stock.picking and account.move). Before creating, one
// search_read per model reads which of the batch's references exist; only
// the missing ones are created. The finishing call (action_confirm,
// button_validate, action_post) is a second transaction, so a record found
// unfinished on redelivery is finished, not created again. A commit whose
// answer was lost therefore ends, on retry, as exactly one finished record.
//
// # Batches
//
// create takes a vals_list: one call creates every missing record of a
// model in a batch. It is one transaction, so one invalid record rolls back
// all of them; the connector then creates the records one by one, so the
// good documents still go through and only the bad one fails, permanently,
// with Odoo's message. Products and warehouses are looked up once by
// internal reference and code, then cached; an unknown SKU fails its
// document before anything is sent.
//
// # Failures
//
// 401 (and AccessDenied) is a permanent credentials error naming the
// api_key setting; 403 permanent (access rights); 422 (UserError,
// ValidationError) and 404 permanent; 429, and 503 with Retry-After,
// rate-limited; other 5xx, timeouts and resets transient.
package odoo
