package odoo

import (
	"context"
	"fmt"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
)

// Odoo stores datetimes in UTC as "YYYY-MM-DD HH:MM:SS".
const datetime = "2006-01-02 15:04:05"

// resolve looks up, once and then from the cache, the warehouses and
// products the batch refers to. A failure here is a failure of the whole
// call: nothing was written.
func (c *Connector) resolve(ctx context.Context, docs []erp.Document) error {
	codes, skus := map[string]bool{}, map[string]bool{}
	for i := range docs {
		for _, loc := range []string{docs[i].Location, docs[i].ToLocation} {
			if code, ok := c.cfg.warehouses[loc]; ok {
				codes[code] = true
			}
		}
		if docs[i].Kind != erp.Summary {
			for _, l := range docs[i].Lines {
				skus[l.SKU] = true
			}
		}
	}
	if err := c.resolveWarehouses(ctx, sortedKeys(codes)); err != nil {
		return err
	}
	return c.resolveProducts(ctx, sortedKeys(skus))
}

func (c *Connector) resolveWarehouses(ctx context.Context, codes []string) error {
	c.mu.Lock()
	var want []string
	for _, code := range codes {
		if _, ok := c.warehouses[code]; !ok {
			want = append(want, code)
		}
	}
	c.mu.Unlock()
	if len(want) == 0 {
		return nil
	}
	var rows []map[string]any
	err := c.call(ctx, "stock.warehouse", "search_read", map[string]any{
		"domain": []any{[]any{"code", "in", want}},
		"fields": []string{"code", "lot_stock_id", "int_type_id"},
	}, &rows)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, row := range rows {
		code, _ := row["code"].(string)
		id, ok1 := intOf(row["id"])
		stock, ok2 := intOf(row["lot_stock_id"])
		typ, ok3 := intOf(row["int_type_id"])
		if ok1 && ok2 && ok3 {
			c.warehouses[code] = warehouse{id: id, stock: stock, internalType: typ}
		}
	}
	return nil
}

// resolveProducts finds products by internal reference (default_code).
// search_read leaves archived products out, as Odoo's own pickers do.
func (c *Connector) resolveProducts(ctx context.Context, skus []string) error {
	c.mu.Lock()
	var want []string
	for _, sku := range skus {
		if _, ok := c.products[sku]; !ok {
			want = append(want, sku)
		}
	}
	c.mu.Unlock()
	if len(want) == 0 {
		return nil
	}
	var rows []map[string]any
	err := c.call(ctx, "product.product", "search_read", map[string]any{
		"domain": []any{[]any{"default_code", "in", want}},
		"fields": []string{"default_code"},
	}, &rows)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, row := range rows {
		sku, _ := row["default_code"].(string)
		id, ok := intOf(row["id"])
		if prev, dup := c.products[sku]; !ok || (dup && prev < id) {
			continue // the same internal reference twice: the oldest product wins
		}
		c.products[sku] = id
	}
	return nil
}

// forgetProducts drops a refused record's products from the cache, so the
// next attempt looks them up again (one may have been archived).
func (c *Connector) forgetProducts(r *record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sku, id := range c.products {
		if usesProduct(r.vals, id) {
			delete(c.products, sku)
		}
	}
}

func usesProduct(vals map[string]any, id int64) bool {
	for _, key := range []string{"order_line", "move_ids"} {
		cmds, _ := vals[key].([]any)
		for _, cmd := range cmds {
			if parts, ok := cmd.([]any); ok && len(parts) == 3 {
				if line, ok := parts[2].(map[string]any); ok && line["product_id"] == id {
					return true
				}
			}
		}
	}
	return false
}

// records maps one document to the Odoo records it becomes.
func (c *Connector) records(d *erp.Document) ([]*record, error) {
	if d.ExternalID == "" {
		return nil, erpPermanent("a document without an external ID cannot be posted exactly once")
	}
	switch d.Kind {
	case erp.CashSale, erp.CashRefund, erp.SalesOrder:
		return c.saleOrder(d)
	case erp.InventoryAdjustment:
		return c.adjustment(d)
	case erp.TransferOrder, erp.TransferReceipt:
		return c.transfer(d)
	case erp.Summary:
		return c.summary(d)
	case erp.InventoryCount:
		return nil, erpPermanent("%s %s: inventory counts are not posted to Odoo (a count sets stock.quant quantities, which carry no reference to post exactly once): exclude stock counts from this destination and count in Odoo", d.Kind, d.ExternalID)
	case erp.Fulfilment, erp.OrderCancel:
		return nil, erpPermanent("%s %s: Odoo ships and cancels confirmed sale orders through their own delivery pickings: exclude fulfilments and order cancellations from this destination", d.Kind, d.ExternalID)
	}
	return nil, erpPermanent("%s %s: unknown document kind", d.Kind, d.ExternalID)
}

func (c *Connector) warehouseAt(loc string) (warehouse, error) {
	code, ok := c.cfg.warehouses[loc]
	if !ok {
		return warehouse{}, erpPermanent("location %q has no warehouse: add it to the warehouses setting (e.g. %s=ST1)", loc, loc)
	}
	c.mu.Lock()
	wh, ok := c.warehouses[code]
	c.mu.Unlock()
	if !ok {
		return warehouse{}, erpPermanent("location %q maps to warehouse code %q, which Odoo does not know (setting warehouses)", loc, code)
	}
	return wh, nil
}

func (c *Connector) product(sku string) (int64, error) {
	c.mu.Lock()
	id, ok := c.products[sku]
	c.mu.Unlock()
	if !ok {
		return 0, erpPermanent("no active product with internal reference %q in Odoo", sku)
	}
	return id, nil
}

// saleOrder maps a till sale, a refund or an online order to a sale.order:
// the walk-in customer, the store's warehouse (its delivery takes the stock
// out), lines priced as the till priced them (net of discounts, taxes
// included: the products' sales taxes are set up price-included, as B2C
// retail prices are). A refund is the same order with negative quantities,
// which Odoo invoices as a credit note and receives back into the
// warehouse; origin names the sale it reverses.
func (c *Connector) saleOrder(d *erp.Document) ([]*record, error) {
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	exp, err := exponent(d.Currency)
	if err != nil {
		return nil, err
	}
	lines := make([]any, 0, len(d.Lines))
	for _, l := range d.Lines {
		pid, err := c.product(l.SKU)
		if err != nil {
			return nil, err
		}
		q, amount := abs(l.Quantity), l.Amount
		if amount < 0 {
			amount = -amount
		}
		price := unitPrice(amount, q, exp)
		if d.Kind == erp.CashRefund {
			q = -q
		}
		lines = append(lines, command(map[string]any{"product_id": pid, "product_uom_qty": quantity(q), "price_unit": price}))
	}
	vals := map[string]any{
		c.cfg.refField: d.ExternalID,
		"partner_id":   c.cfg.customerID,
		"warehouse_id": wh.id,
		"date_order":   d.Date.UTC().Format(datetime),
		"order_line":   lines,
	}
	if d.Reference != "" {
		vals["client_order_ref"] = d.Reference
	}
	switch {
	case d.Reverses != "":
		vals["origin"] = d.Reverses
	case d.Kind == erp.SalesOrder && d.Memo != "":
		vals["origin"] = d.Memo
	}
	return []*record{{model: modelSale, ref: d.ExternalID, vals: vals}}, nil
}

// adjustment moves stock between the store and the Inventory adjustment
// virtual location, where Odoo's own adjustments book their gains and
// losses. A picking has one source and one destination, so an adjustment
// with losses and gains becomes two pickings: the losses under the
// document's external ID, the gains under the external ID + "#2".
func (c *Connector) adjustment(d *erp.Document) ([]*record, error) {
	if c.cfg.adjustmentLoc == 0 {
		return nil, erpPermanent("%s %s: set adjustment_location_id (the Inventory adjustment virtual location) to post inventory adjustments", d.Kind, d.ExternalID)
	}
	wh, err := c.warehouseAt(d.Location)
	if err != nil {
		return nil, err
	}
	var out, in []erp.Line
	for _, l := range d.Lines {
		switch {
		case l.Quantity < 0:
			l.Quantity = -l.Quantity
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
		lines    []erp.Line
		src, dst int64
	}{{out, wh.stock, c.cfg.adjustmentLoc}, {in, c.cfg.adjustmentLoc, wh.stock}} {
		if len(part.lines) == 0 {
			continue
		}
		r, err := c.picking(d, ref, wh.internalType, part.src, part.dst, part.lines)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
		ref = d.ExternalID + "#2"
	}
	return recs, nil
}

// transfer ships stock in two steps through the transit location, as
// Odoo's inter-warehouse resupply does: the shipment leaves the sending
// store for transit, the receipt enters the receiving store from transit.
func (c *Connector) transfer(d *erp.Document) ([]*record, error) {
	if c.cfg.transitLoc == 0 {
		return nil, erpPermanent("%s %s: set transit_location_id (the inter-warehouse transit location) to post transfers", d.Kind, d.ExternalID)
	}
	if d.Kind == erp.TransferOrder {
		wh, err := c.warehouseAt(d.Location)
		if err != nil {
			return nil, err
		}
		r, err := c.picking(d, d.ExternalID, wh.internalType, wh.stock, c.cfg.transitLoc, d.Lines)
		return []*record{r}, err
	}
	wh, err := c.warehouseAt(d.ToLocation)
	if err != nil {
		return nil, err
	}
	r, err := c.picking(d, d.ExternalID, wh.internalType, c.cfg.transitLoc, wh.stock, d.Lines)
	return []*record{r}, err
}

// picking is a stock.picking whose moves are fully picked, so that
// button_validate books it without asking for quantities.
func (c *Connector) picking(d *erp.Document, ref string, pickingType, src, dst int64, lines []erp.Line) (*record, error) {
	moves := make([]any, 0, len(lines))
	for _, l := range lines {
		pid, err := c.product(l.SKU)
		if err != nil {
			return nil, err
		}
		q := quantity(abs(l.Quantity))
		moves = append(moves, command(map[string]any{
			"product_id": pid, "product_uom_qty": q, "quantity": q, "picked": true,
			"location_id": src, "location_dest_id": dst,
		}))
	}
	vals := map[string]any{
		c.cfg.refField:     ref,
		"picking_type_id":  pickingType,
		"location_id":      src,
		"location_dest_id": dst,
		"scheduled_date":   d.Date.UTC().Format(datetime),
		"move_ids":         moves,
	}
	if origin := firstOf(d.Reference, d.Memo); origin != "" {
		vals["origin"] = origin
	}
	return &record{model: modelPicking, ref: ref, vals: vals}, nil
}

// summary is a journal entry for a store's period: each tender debited to
// its account, each tax credited to its account, the rest credited to
// sales. Tenders must add up to the sales (tips are paid on top and not
// posted here); a summary that does not balance is refused rather than
// booked with a hidden difference.
func (c *Connector) summary(d *erp.Document) ([]*record, error) {
	if c.cfg.journalID == 0 || c.cfg.salesAccount == 0 {
		return nil, erpPermanent("summary %s: set summary_journal_id and sales_account_id to post summaries", d.ExternalID)
	}
	exp, err := exponent(d.Currency)
	if err != nil {
		return nil, err
	}
	var paid, sold, taxed int64
	var lines []any
	entry := func(account int64, name string, signed int64) {
		if signed == 0 {
			return
		}
		debit, credit := signed, int64(0)
		if signed < 0 {
			debit, credit = 0, -signed
		}
		lines = append(lines, command(map[string]any{"account_id": account, "name": name,
			"debit": money(debit, exp), "credit": money(credit, exp)}))
	}
	for _, p := range d.Payments {
		acct, ok := c.cfg.payAccounts[p.Method]
		if !ok {
			return nil, erpPermanent("summary %s: no account for tender %q: add it to payment_account_ids", d.ExternalID, p.Method)
		}
		name := p.Method
		if p.Brand != "" {
			name += " " + p.Brand
		}
		entry(acct, name, p.Amount)
		paid += p.Amount
	}
	for _, l := range d.Lines {
		sold += l.Amount
	}
	for _, t := range d.Taxes {
		acct, ok := c.cfg.taxAccounts[t.Code]
		if !ok {
			return nil, erpPermanent("summary %s: no account for tax code %q: add it to tax_account_ids", d.ExternalID, t.Code)
		}
		entry(acct, "tax "+t.Code, -t.Amount)
		taxed += t.Amount
	}
	if paid != sold {
		return nil, erpPermanent("summary %s does not balance: tenders %s, sales %s", d.ExternalID, money(paid, exp), money(sold, exp))
	}
	entry(c.cfg.salesAccount, "sales", -(sold - taxed))
	vals := map[string]any{
		c.cfg.refField: d.ExternalID,
		"move_type":    "entry",
		"journal_id":   c.cfg.journalID,
		"date":         d.LocalDate,
		"ref": fmt.Sprintf("tillsync %s %s–%s", d.Location,
			d.PeriodStart.UTC().Format(datetime), d.PeriodEnd.UTC().Format(datetime)),
		"line_ids": lines,
	}
	return []*record{{model: modelMove, ref: d.ExternalID, vals: vals}}, nil
}

// command is the one2many "create" command: (0, 0, values).
func command(vals map[string]any) []any { return []any{0, 0, vals} }

func abs(q event.Qty) event.Qty {
	if q < 0 {
		return -q
	}
	return q
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
