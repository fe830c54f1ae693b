package erpnext

import (
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
)

// DocTypes tillsync creates.
const (
	salesInvoice   = "Sales Invoice"
	salesOrder     = "Sales Order"
	deliveryNote   = "Delivery Note"
	stockEntry     = "Stock Entry"
	reconciliation = "Stock Reconciliation"
	journalEntry   = "Journal Entry"
)

// submitted is docstatus 1: Frappe inserts the document and submits it in
// the same transaction, so no draft is ever left behind.
const submitted = 1

// records maps one document to the ERPNext documents it becomes.
func (c *Connector) records(d *erp.Document) ([]*record, error) {
	if d.ExternalID == "" {
		return nil, erpPermanent("a document without an external ID cannot be posted exactly once")
	}
	switch d.Kind {
	case erp.CashSale, erp.CashRefund:
		return c.salesInvoice(d)
	case erp.SalesOrder:
		return c.salesOrder(d)
	case erp.Fulfilment:
		return c.deliveryNote(d)
	case erp.InventoryAdjustment:
		return c.adjustment(d)
	case erp.InventoryCount:
		return c.reconciliation(d)
	case erp.TransferOrder, erp.TransferReceipt:
		return c.transfer(d)
	case erp.Summary:
		return c.journal(d)
	case erp.OrderCancel:
		return nil, erpPermanent("order_cancel %s: cancelling a submitted Sales Order is a person's decision in ERPNext (it may be partly delivered or billed): exclude order cancellations from this destination", d.ExternalID)
	}
	return nil, erpPermanent("%s %s: unknown document kind", d.Kind, d.ExternalID)
}

func (c *Connector) warehouseAt(loc string) (string, error) {
	wh, ok := c.cfg.warehouses[loc]
	if !ok {
		return "", erpPermanent("location %q has no warehouse: add it to the warehouses setting (e.g. %s=Store 1 - TS)", loc, loc)
	}
	return wh, nil
}

// base is what every document carries: its DocType, the reference, the
// company, the store's calendar day as posting date (set_posting_time, or
// ERPNext would post it today), and docstatus 1.
func (c *Connector) base(doctype, ref string, d *erp.Document) map[string]any {
	return map[string]any{
		"doctype":          doctype,
		c.cfg.refField:     ref,
		"company":          c.cfg.company,
		"docstatus":        submitted,
		"posting_date":     d.LocalDate,
		"set_posting_time": 1,
	}
}

// salesInvoice maps a till sale or refund to a POS Sales Invoice.
//
// Why a Sales Invoice with is_pos and not a POS Invoice: POS Invoices
// belong to ERPNext's own POS, live inside a POS Opening Entry's session
// and are only consolidated into Sales Invoices by its POS Closing Entry.
// An outside till has no such session; a submitted Sales Invoice with
// is_pos = 1 and update_stock = 1 books, in one document, the revenue, the
// payments by mode of payment (the POS Profile's accounts) and the stock
// leaving the store's warehouse, which is what the till did. Lines are
// priced as the till priced them (net of discounts, taxes included).
// A refund is a return invoice (is_return = 1, negative quantities and
// payments) against the sale it reverses (return_against), when it has one.
// https://docs.frappe.io/erpnext/sales-integration
func (c *Connector) salesInvoice(d *erp.Document) ([]*record, error) {
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	exp, err := exponent(d.Currency)
	if err != nil {
		return nil, err
	}
	refund := d.Kind == erp.CashRefund
	sign := int64(1)
	if refund {
		sign = -1
	}
	b := c.base(salesInvoice, d.ExternalID, d)
	b["customer"], b["currency"] = c.cfg.customer, d.Currency
	b["is_pos"], b["update_stock"], b["set_warehouse"] = 1, 1, wh
	if c.cfg.posProfile != "" {
		b["pos_profile"] = c.cfg.posProfile
	}
	if c.cfg.taxes != "" {
		b["taxes_and_charges"] = c.cfg.taxes
	}
	items, err := pricedItems(d, wh, sign, exp)
	if err != nil {
		return nil, err
	}
	b["items"] = items
	// One row per Mode of Payment: two card brands are one "Credit Card".
	var modes []string
	paid := map[string]int64{}
	for _, p := range d.Payments {
		mode, ok := c.cfg.modes[p.Method]
		if !ok {
			return nil, erpPermanent("%s %s: no Mode of Payment for tender %q: add it to modes_of_payment", d.Kind, d.ExternalID, p.Method)
		}
		if _, seen := paid[mode]; !seen {
			modes = append(modes, mode)
		}
		paid[mode] += sign * abs64(p.Amount)
	}
	payments := make([]any, 0, len(modes))
	for _, mode := range modes {
		payments = append(payments, map[string]any{"mode_of_payment": mode, "amount": money(paid[mode], exp)})
	}
	b["payments"] = payments
	remarks := []string{"POS receipt " + firstOf(d.Reference, d.ExternalID) + " at " + d.Location}
	if d.Memo != "" {
		remarks = append(remarks, d.Memo)
	}
	r := &record{doctype: salesInvoice, ref: d.ExternalID, body: b}
	if refund {
		b["is_return"] = 1
		r.reverses = d.Reverses
	} else if d.Reverses != "" {
		remarks = append(remarks, "reverses the return "+d.Reverses)
	}
	b["remarks"] = strings.Join(remarks, "; ")
	return []*record{r}, nil
}

// pricedItems are item rows at the till's prices: rate = line amount ÷
// quantity.
func pricedItems(d *erp.Document, wh string, sign int64, exp int) ([]any, error) {
	if len(d.Lines) == 0 {
		return nil, erpPermanent("%s %s has no lines", d.Kind, d.ExternalID)
	}
	items := make([]any, 0, len(d.Lines))
	for _, l := range d.Lines {
		q := abs(l.Quantity)
		items = append(items, map[string]any{"item_code": l.SKU, "qty": quantity(q * event.Qty(sign)),
			"rate": unitPrice(abs64(l.Amount), q, exp), "warehouse": wh})
	}
	return items, nil
}

// salesOrder maps an online order to a submitted Sales Order for the
// store's warehouse; po_no carries the shop's order ID, which the
// fulfilment's Delivery Note repeats.
func (c *Connector) salesOrder(d *erp.Document) ([]*record, error) {
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	exp, err := exponent(d.Currency)
	if err != nil {
		return nil, err
	}
	b := c.base(salesOrder, d.ExternalID, d)
	delete(b, "posting_date")
	delete(b, "set_posting_time")
	b["customer"], b["currency"], b["set_warehouse"] = c.cfg.customer, d.Currency, wh
	b["transaction_date"], b["delivery_date"] = d.LocalDate, d.LocalDate
	if d.Reference != "" {
		b["po_no"] = d.Reference
	}
	if c.cfg.taxes != "" {
		b["taxes_and_charges"] = c.cfg.taxes
	}
	items, err := pricedItems(d, wh, 1, exp)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		it.(map[string]any)["delivery_date"] = d.LocalDate
	}
	b["items"] = items
	return []*record{{doctype: salesOrder, ref: d.ExternalID, body: b}}, nil
}

// deliveryNote maps a fulfilment to a submitted Delivery Note from the
// store's warehouse: the goods leave the shelf; prices come from the price
// list, billing from the order.
func (c *Connector) deliveryNote(d *erp.Document) ([]*record, error) {
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	b := c.base(deliveryNote, d.ExternalID, d)
	b["customer"], b["set_warehouse"] = c.cfg.customer, wh
	if d.Reference != "" {
		b["po_no"] = d.Reference
	}
	b["items"] = stockItems(d.Lines, "warehouse", wh)
	return []*record{{doctype: deliveryNote, ref: d.ExternalID, body: b}}, nil
}

// stockItems are item rows with quantities only, each with its warehouses.
func stockItems(lines []erp.Line, kv ...string) []any {
	items := make([]any, 0, len(lines))
	for _, l := range lines {
		row := map[string]any{"item_code": l.SKU, "qty": quantity(abs(l.Quantity))}
		for i := 0; i+1 < len(kv); i += 2 {
			row[kv[i]] = kv[i+1]
		}
		items = append(items, row)
	}
	return items
}

// adjustment maps signed stock changes to Stock Entries: Material Issue
// for losses (s_warehouse), Material Receipt for gains (t_warehouse). One
// Stock Entry has one purpose, so a document with both becomes two: the
// issue under the external ID, the receipt under the external ID + "#2".
// Both go in the same insert_many call.
func (c *Connector) adjustment(d *erp.Document) ([]*record, error) {
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	var out, in []erp.Line
	for _, l := range d.Lines {
		switch {
		case l.Quantity < 0:
			out = append(out, l)
		case l.Quantity > 0:
			in = append(in, l)
		}
	}
	if len(out)+len(in) == 0 {
		return nil, erpPermanent("%s %s: no quantity to adjust", d.Kind, d.ExternalID)
	}
	var recs []*record
	ref := d.ExternalID
	for _, part := range []struct {
		lines      []erp.Line
		typ, field string
	}{{out, "Material Issue", "s_warehouse"}, {in, "Material Receipt", "t_warehouse"}} {
		if len(part.lines) == 0 {
			continue
		}
		b := c.base(stockEntry, ref, d)
		b["stock_entry_type"] = part.typ
		b["remarks"] = firstOf(d.Memo, "adjustment") + " (tillsync " + d.ExternalID + ")"
		b["items"] = stockItems(part.lines, part.field, wh)
		recs = append(recs, &record{doctype: stockEntry, ref: ref, body: b})
		ref = d.ExternalID + "#2"
	}
	return recs, nil
}

// reconciliation maps a stock count to a Stock Reconciliation: counted
// quantities replace the book quantities of the store's warehouse.
func (c *Connector) reconciliation(d *erp.Document) ([]*record, error) {
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	b := c.base(reconciliation, d.ExternalID, d)
	b["purpose"] = "Stock Reconciliation"
	b["items"] = stockItems(d.Lines, "warehouse", wh)
	return []*record{{doctype: reconciliation, ref: d.ExternalID, body: b}}, nil
}

// transfer maps a transfer to a Material Transfer through the
// goods-in-transit warehouse: the shipment into transit, the receipt out
// of it into the receiving store.
func (c *Connector) transfer(d *erp.Document) ([]*record, error) {
	if c.cfg.transit == "" {
		return nil, erpPermanent("%s %s: set transit_warehouse to post transfers", d.Kind, d.ExternalID)
	}
	src, dst := "", ""
	var err error
	if d.Kind == erp.TransferOrder {
		src, err = c.warehouseAt(d.Location)
		dst = c.cfg.transit
	} else {
		src = c.cfg.transit
		dst, err = c.warehouseAt(d.ToLocation)
	}
	if err != nil {
		return nil, err
	}
	b := c.base(stockEntry, d.ExternalID, d)
	b["stock_entry_type"] = "Material Transfer"
	b["remarks"] = fmt.Sprintf("transfer %s from %s to %s", d.Reference, d.Location, d.ToLocation)
	b["items"] = stockItems(d.Lines, "s_warehouse", src, "t_warehouse", dst)
	return []*record{{doctype: stockEntry, ref: d.ExternalID, body: b}}, nil
}

// journal maps a summary to a submitted Journal Entry: each tender debited
// to its account, each tax credited to its account, the rest credited to
// sales. Tenders must add up to the sales (tips are paid on top and not
// posted here); a summary that does not balance is refused rather than
// booked with a hidden difference.
func (c *Connector) journal(d *erp.Document) ([]*record, error) {
	if c.cfg.salesAccount == "" {
		return nil, erpPermanent("summary %s: set sales_account (and payment_accounts, tax_accounts) to post summaries", d.ExternalID)
	}
	exp, err := exponent(d.Currency)
	if err != nil {
		return nil, err
	}
	var paid, sold, taxed int64
	var rows []any
	entry := func(account string, signed int64) {
		if signed == 0 {
			return
		}
		debit, credit := signed, int64(0)
		if signed < 0 {
			debit, credit = 0, -signed
		}
		row := map[string]any{"account": account,
			"debit_in_account_currency": money(debit, exp), "credit_in_account_currency": money(credit, exp)}
		if c.cfg.costCenter != "" {
			row["cost_center"] = c.cfg.costCenter
		}
		rows = append(rows, row)
	}
	for _, p := range d.Payments {
		acct, ok := c.cfg.payAccts[p.Method]
		if !ok {
			return nil, erpPermanent("summary %s: no account for tender %q: add it to payment_accounts", d.ExternalID, p.Method)
		}
		entry(acct, p.Amount)
		paid += p.Amount
	}
	for _, l := range d.Lines {
		sold += l.Amount
	}
	for _, t := range d.Taxes {
		acct, ok := c.cfg.taxAccts[t.Code]
		if !ok {
			return nil, erpPermanent("summary %s: no account for tax code %q: add it to tax_accounts", d.ExternalID, t.Code)
		}
		entry(acct, -t.Amount)
		taxed += t.Amount
	}
	if paid != sold {
		return nil, erpPermanent("summary %s does not balance: tenders %s, sales %s", d.ExternalID, money(paid, exp), money(sold, exp))
	}
	entry(c.cfg.salesAccount, -(sold - taxed))
	b := c.base(journalEntry, d.ExternalID, d)
	b["voucher_type"] = "Journal Entry"
	b["user_remark"] = fmt.Sprintf("tillsync summary %s %s–%s", d.Location,
		d.PeriodStart.UTC().Format("2006-01-02 15:04"), d.PeriodEnd.UTC().Format("2006-01-02 15:04"))
	b["accounts"] = rows
	return []*record{{doctype: journalEntry, ref: d.ExternalID, body: b}}, nil
}

func abs(q event.Qty) event.Qty {
	if q < 0 {
		return -q
	}
	return q
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
