// Package erpnext posts tillsync documents to ERPNext through the Frappe
// REST API: GET/POST /api/resource/{DocType}, whitelisted methods under
// /api/method/, and "Authorization: token api_key:api_secret".
// References: https://docs.frappe.io/framework/user/en/api/rest and
// https://docs.frappe.io/erpnext/sales-integration.
//
// # What a document becomes
//
//   - cash_sale: a submitted Sales Invoice with is_pos = 1 and
//     update_stock = 1 (revenue, payments by Mode of Payment and the stock
//     out of the store's warehouse in one document). Not a POS Invoice:
//     those belong to ERPNext's own POS sessions (POS Opening Entry) and are
//     only consolidated into Sales Invoices by a POS Closing Entry, a
//     lifecycle an outside till does not have.
//   - cash_refund: a return Sales Invoice (is_return = 1, negative
//     quantities and payments) with return_against naming the sale's
//     invoice when the refund reverses one.
//   - sales_order: a submitted Sales Order; fulfilment: a submitted Delivery
//     Note (po_no carries the shop's order ID on both).
//   - inventory_adjustment: Stock Entries of type Material Issue (losses)
//     and Material Receipt (gains); a document with both becomes two, the
//     second under the external ID + "#2".
//   - inventory_count: a Stock Reconciliation.
//   - transfer_order / transfer_receipt: Material Transfers into and out of
//     the goods-in-transit warehouse.
//   - summary: a submitted Journal Entry (tenders debited, taxes and net
//     sales credited; refused if tenders and sales differ).
//   - order_cancel is refused permanently: cancelling a submitted order is
//     left to a person.
//
// Every document is inserted with docstatus 1, so Frappe validates and
// submits it in the same transaction: there is never a draft to finish.
//
// # Exactly once
//
// Each document carries the external ID in a custom Data field (ref_field,
// by default tillsync_id) with Unique ticked on every DocType posted.
// Before inserting, one GET /api/resource/{DocType}?filters=[["tillsync_id",
// "in",[…]]] per DocType reads which of the batch's references exist; only
// the missing ones are inserted. If a document is inserted concurrently
// anyway, the unique field makes Frappe refuse the second one
// (UniqueValidationError, 417; DuplicateEntryError, 409, for a duplicate
// name): the connector looks it up and counts the document as delivered.
//
// # Batches
//
// The missing documents of a batch, of whatever DocTypes, go in one POST
// /api/method/frappe.client.insert_many {"docs": […]} (at most 200). Frappe
// runs a request in one database transaction and rolls it back on error,
// so one invalid document refuses the whole call; the connector then
// inserts the documents one by one (POST /api/resource/{DocType}) so the
// good ones go through and only the bad one fails, permanently, with
// Frappe's message. Returns whose sale is in the same batch are inserted in
// a second call, once the sale has its name.
//
// # Failures
//
// Frappe answers with the exception's http_status_code and a JSON body
// with exc_type, exception and _server_messages. 401 AuthenticationError
// is a permanent credentials error naming api_key and api_secret; 403
// PermissionError permanent; 417 ValidationError (LinkValidationError for
// an unknown item, MandatoryError, …), 404 and 409 permanent for the
// document; 429 TooManyRequestsError, and 503 with Retry-After,
// rate-limited; other 5xx, timeouts and resets transient.
package erpnext
