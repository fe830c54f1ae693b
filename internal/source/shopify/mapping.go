package shopify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tillsync/tillsync/internal/event"
)

// Topics the handler maps (https://shopify.dev/docs/api/webhooks).
const (
	TopicOrdersCreate          = "orders/create"
	TopicOrdersPaid            = "orders/paid"
	TopicOrdersCancelled       = "orders/cancelled"
	TopicRefundsCreate         = "refunds/create"
	TopicFulfillmentsCreate    = "fulfillments/create"
	TopicInventoryLevelsUpdate = "inventory_levels/update"
	TopicInventoryItemsCreate  = "inventory_items/create"
	TopicInventoryItemsUpdate  = "inventory_items/update"
	TopicProductsCreate        = "products/create"
	TopicProductsUpdate        = "products/update"
)

// Source is the event source of everything this package emits.
const Source = "shopify"

// The three ways a delivery can fail to map; the handler turns each into
// its HTTP answer.
type (
	// badPayload: the payload is malformed (400).
	badPayload struct{ msg string }
	// unplaceable: the payload is well formed but names something tillsync
	// cannot place — an unmapped location, a line without SKU (422 or
	// parked).
	unplaceable struct{ msg string }
	// notYet: the payload refers to something not seen yet; Shopify's retry
	// may find it (503 while the delivery is younger than WaitFor).
	notYet struct{ msg string }
)

func (e *badPayload) Error() string  { return e.msg }
func (e *unplaceable) Error() string { return e.msg }
func (e *notYet) Error() string      { return e.msg }

func badf(format string, args ...any) error { return &badPayload{fmt.Sprintf(format, args...)} }
func unplaceablef(format string, args ...any) error {
	return &unplaceable{fmt.Sprintf(format, args...)}
}

// delivery is one webhook request as the mapping sees it.
type delivery struct {
	topic       string
	eventID     string
	webhookID   string
	apiVersion  string
	triggeredAt time.Time
	received    time.Time
	body        []byte
}

// age is how long ago Shopify triggered the delivery (zero when the header
// was missing).
func (d *delivery) age() time.Duration {
	if d.triggeredAt.IsZero() {
		return 0
	}
	return d.received.Sub(d.triggeredAt)
}

// mapped is what a delivery became.
type mapped struct {
	events []*event.Event
	// ignored says why a delivery produced no event.
	ignored string
	// after runs once the events are durable (remembering what was seen).
	after func()
}

// ids builds canonical event IDs from Shopify's own IDs, so a redelivery —
// hours later, after a restart — maps to the same ID and the log's
// dedupe-forever absorbs it.
type ids struct{ shop string }

func (i ids) order(id ID) string       { return "shopify:" + i.shop + ":order:" + string(id) }
func (i ids) orderCreate(id ID) string { return i.order(id) + ":create" }
func (i ids) orderCancel(id ID) string { return i.order(id) + ":cancel" }
func (i ids) refund(id ID) string      { return "shopify:" + i.shop + ":refund:" + string(id) }
func (i ids) fulfillment(id ID) string { return "shopify:" + i.shop + ":fulfillment:" + string(id) }
func (i ids) inventory(item, loc ID, at time.Time) string {
	return "shopify:" + i.shop + ":inventory:" + string(item) + ":" + string(loc) + ":" + at.UTC().Format(time.RFC3339Nano)
}

// order kinds remembered per order ID.
const (
	kindPOS = "pos"
	kindWeb = "web"
)

func (h *Handler) mapDelivery(ctx context.Context, d *delivery) (*mapped, error) {
	switch d.topic {
	case TopicOrdersCreate:
		return h.orderCreate(d)
	case TopicOrdersCancelled:
		return h.orderCancelled(d)
	case TopicOrdersPaid:
		// Payment changes no stock and the canonical events have no
		// payment-status field: a web order's money reaches the ERP with its
		// sales order, a POS order is paid when it is created.
		var o Order
		if err := decode(d.body, &o); err != nil {
			return nil, &badPayload{err.Error()}
		}
		return &mapped{ignored: "orders/paid changes no stock; payment is recorded with the order"}, nil
	case TopicRefundsCreate:
		return h.refund(d)
	case TopicFulfillmentsCreate:
		return h.fulfillment(ctx, d)
	case TopicInventoryLevelsUpdate:
		return h.inventoryLevel(ctx, d)
	case TopicInventoryItemsCreate, TopicInventoryItemsUpdate:
		return h.inventoryItem(d)
	case TopicProductsCreate, TopicProductsUpdate:
		return h.product(d)
	}
	return &mapped{ignored: fmt.Sprintf("topic %q is not mapped; unsubscribe it", d.topic)}, nil
}

// currency resolves a document's currency and its minor-unit exponent.
func (h *Handler) currency(code string) (string, int, error) {
	if code == "" {
		code = h.cfg.Currency
	}
	if code == "" {
		return "", 0, badf("no currency: the payload names none and the source has no currency configured")
	}
	exp, ok := event.MinorUnits(code)
	if !ok {
		return "", 0, badf("currency %q is not an ISO 4217 code", code)
	}
	return code, exp, nil
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// envelope builds an event with the delivery's headers as attributes (which
// are not part of the fingerprint: a redelivery with other headers is still
// a duplicate).
func (h *Handler) envelope(d *delivery, id string, loc string, at time.Time, body event.Body, attrs map[string]string) *event.Event {
	a := map[string]string{"shopify.shop": h.cfg.Shop, "shopify.topic": d.topic}
	for k, v := range map[string]string{
		"shopify.event_id": d.eventID, "shopify.webhook_id": d.webhookID, "shopify.api_version": d.apiVersion,
	} {
		if v != "" {
			a[k] = v
		}
	}
	if !d.triggeredAt.IsZero() {
		a["shopify.triggered_at"] = d.triggeredAt.UTC().Format(time.RFC3339Nano)
	}
	for k, v := range attrs {
		if v != "" {
			a[k] = v
		}
	}
	return &event.Event{
		ID: id, Type: body.Type(), Location: loc, Source: Source, OccurredAt: at.UTC(),
		Zone: h.cfg.zone(loc), Attributes: a, Body: body,
	}
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// lineKind classifies an order line.
type lineKind int

const (
	lineStock    lineKind = iota // a SKU: stock moves
	lineNonStock                 // custom sale item or gift card: money only
	lineTip                      // a tip entered as a line: goes to the tender
)

// classify tells what a line is. A line of a product variant without a SKU
// cannot be placed: tillsync keys stock by SKU.
func classify(path string, li *LineItem) (lineKind, error) {
	switch {
	case li.GiftCard:
		return lineNonStock, nil
	case li.SKU != "":
		return lineStock, nil
	case li.VariantID == "" && strings.EqualFold(strings.TrimSpace(li.Title), "tip"):
		return lineTip, nil
	case li.VariantID == "":
		return lineNonStock, nil // custom sale item: no product, no stock
	}
	return 0, unplaceablef("%s (variant %s, %q) has no SKU: give the variant a SKU in Shopify, then resend or replay the delivery", path, li.VariantID, li.Title)
}

// pricer converts a document's amounts.
type pricer struct {
	cur           string
	exp           int
	taxesIncluded bool
	apps          []DiscountApplication
}

func (p *pricer) amount(field string, d Decimal) (event.Amount, error) {
	if d == "" {
		return 0, nil
	}
	v, err := minor(string(d), p.exp)
	if err != nil {
		return 0, badf("%s: %v (%s)", field, err, p.cur)
	}
	return event.Amount(v), nil
}

// line prices an order line: unit price, discounts from its
// discount_allocations (reason and code from the discount application they
// belong to) and its tax_lines.
func (p *pricer) line(path string, li *LineItem, sku, description string) (event.SaleLine, error) {
	if li.Quantity <= 0 {
		return event.SaleLine{}, badf("%s.quantity is %d; it must be positive", path, li.Quantity)
	}
	price, err := p.amount(path+".price", li.PriceSet.shop(li.Price))
	if err != nil {
		return event.SaleLine{}, err
	}
	sl := event.SaleLine{
		LineID: string(li.ID), SKU: sku, Description: clip(description, 1000),
		Quantity: event.Units(li.Quantity), UnitPrice: price,
	}
	sl.Discounts, err = p.discounts(path, li.DiscountAllocations)
	if err != nil {
		return event.SaleLine{}, err
	}
	sl.Taxes, err = p.taxes(path, li.TaxLines)
	return sl, err
}

func (p *pricer) discounts(path string, das []DiscountAllocation) ([]event.Discount, error) {
	var out []event.Discount
	for i, da := range das {
		a, err := p.amount(fmt.Sprintf("%s.discount_allocations[%d].amount", path, i), da.AmountSet.shop(da.Amount))
		if err != nil {
			return nil, err
		}
		if a == 0 {
			continue
		}
		d := event.Discount{Amount: a, Reason: "discount"}
		if j := da.DiscountApplicationIndex; j >= 0 && j < len(p.apps) {
			app := p.apps[j]
			d.Code = clip(app.Code, 200)
			d.Reason = clip(firstNonEmpty(app.Title, app.Description, app.Code, app.Type, "discount"), 500)
		}
		out = append(out, d)
	}
	return out, nil
}

func (p *pricer) taxes(path string, tls []TaxLine) ([]event.Tax, error) {
	var out []event.Tax
	for i, tl := range tls {
		a, err := p.amount(fmt.Sprintf("%s.tax_lines[%d].price", path, i), tl.PriceSet.shop(tl.Price))
		if err != nil {
			return nil, err
		}
		t := event.Tax{Code: clip(tl.Title, 100), Amount: a, Included: p.taxesIncluded}
		if tl.Rate != "" {
			if t.RateBP, err = basisPoints(string(tl.Rate)); err != nil {
				return nil, badf("%s.tax_lines[%d].rate: %v", path, i, err)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// linesTotal sums what the lines cost (validated bounds: amounts are
// int64-parsed, a sum that overflows is caught by Validate).
func linesTotal(lines []event.SaleLine) int64 {
	var t int64
	for i := range lines {
		lt, _ := lines[i].Total()
		t += lt
	}
	return t
}

// balance makes lines and money agree when the money is known exactly (from
// transactions) and the lines do not explain all of it: an excess becomes a
// non-stock line (shipping, fees, adjustments), a shortfall a discount on the
// lines, last first (a refund discrepancy, a partial payment). The tenders
// stay what was really paid.
func (h *Handler) balance(lines []event.SaleLine, paid int64, isReturn bool) []event.SaleLine {
	diff := paid - linesTotal(lines)
	switch {
	case diff > 0:
		l := event.SaleLine{SKU: h.cfg.NonStockSKU, Description: "charges not on a line (shipping, fees, adjustments)",
			Quantity: event.Units(1), UnitPrice: event.Amount(diff)}
		if isReturn {
			l.Restock = new(false)
		}
		lines = append(lines, l)
	case diff < 0:
		short := -diff
		reason := "payment short of the order total"
		if isReturn {
			reason = "refund discrepancy: less refunded than the lines"
		}
		for i := len(lines) - 1; i >= 0 && short > 0; i-- {
			t, _ := lines[i].Total()
			take := min(t, short)
			if take <= 0 {
				continue
			}
			lines[i].Discounts = append(lines[i].Discounts, event.Discount{Amount: event.Amount(take), Reason: reason})
			short -= take
		}
	}
	return lines
}

// card keeps the brand and last four digits of a masked card number.
func card(pd *PaymentDetails) *event.Card {
	if pd == nil {
		return nil
	}
	c := &event.Card{Brand: strings.ToLower(strings.TrimSpace(pd.CreditCardCompany))}
	n := strings.TrimSpace(pd.CreditCardNumber)
	if len(n) >= 4 && digits(n[len(n)-4:]) {
		c.Last4 = n[len(n)-4:]
	}
	if c.Brand == "" && c.Last4 == "" {
		return nil
	}
	return c
}

// tenders converts successful transactions of the given kinds. ok is false
// when a transaction is in another currency than the document, whose
// amounts cannot be added to the lines'.
func (h *Handler) tenders(p *pricer, txs []Transaction, kinds ...string) (tenders []event.Tender, paid int64, ok bool, err error) {
	for i, tx := range txs {
		if tx.Status != "success" || !contains(kinds, tx.Kind) {
			continue
		}
		if tx.Currency != "" && tx.Currency != p.cur {
			return nil, 0, false, nil
		}
		a, err := p.amount(fmt.Sprintf("transactions[%d].amount", i), tx.Amount)
		if err != nil {
			return nil, 0, false, err
		}
		t := event.Tender{Kind: h.cfg.tender(tx.Gateway), Amount: a, Reference: clip(string(tx.ID), 200)}
		if t.Kind == event.TenderCard {
			t.Card = card(tx.PaymentDetails)
		}
		tenders = append(tenders, t)
		paid += int64(a)
	}
	return tenders, paid, true, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// gatewayTender picks one tender kind for payment_gateway_names when there
// are no transactions to split the amount by.
func (h *Handler) gatewayTender(names []string) event.TenderKind {
	kind := event.TenderKind("")
	for _, n := range names {
		k := h.cfg.tender(n)
		if kind == "" {
			kind = k
		} else if k != kind {
			return event.TenderCard // split payment: the card part is the usual remainder
		}
	}
	if kind == "" {
		return event.TenderCard
	}
	return kind
}

// orderCreate maps orders/create: a POS order is a Sale at its location, any
// other source an OnlineOrder reserving at the order's location or the
// default location.
func (h *Handler) orderCreate(d *delivery) (*mapped, error) {
	var o Order
	if err := decode(d.body, &o); err != nil {
		return nil, &badPayload{err.Error()}
	}
	if o.ID == "" {
		return nil, badf("id is required")
	}
	at := firstTime(o.ProcessedAt, o.CreatedAt)
	if at.IsZero() {
		return nil, badf("order %s: created_at is required", o.ID)
	}
	loc, ok := h.cfg.location(o.LocationID)
	if !ok {
		return nil, unplaceablef("order %s: Shopify location %s is not in the source's location map; add it", o.ID, o.LocationID)
	}
	cur, exp, err := h.currency(o.Currency)
	if err != nil {
		return nil, err
	}
	p := &pricer{cur: cur, exp: exp, taxesIncluded: o.TaxesIncluded, apps: o.DiscountApplications}
	pos := h.cfg.isPOS(o.SourceName)
	attrs := map[string]string{
		"shopify.order_id": string(o.ID), "shopify.order_name": o.Name, "shopify.source_name": o.SourceName,
		"shopify.total_price": string(o.TotalPrice), "shopify.gateways": strings.Join(o.PaymentGatewayNames, ","),
	}
	if o.Test {
		attrs["shopify.test"] = "true"
	}
	var lines []event.SaleLine
	for i := range o.LineItems {
		li := &o.LineItems[i]
		path := fmt.Sprintf("order %s line_items[%d]", o.ID, i)
		kind, err := classify(path, li)
		if err != nil {
			return nil, err
		}
		switch {
		case kind == lineTip:
			continue // the tip is total_tip_received, paid on top of the tender
		case kind == lineNonStock && !pos:
			continue // reserves nothing
		}
		sku, desc := li.SKU, firstNonEmpty(li.Name, li.Title)
		if kind == lineNonStock {
			sku, desc = h.cfg.NonStockSKU, nonStockLabel(li)+": "+desc
		}
		sl, err := p.line(path, li, sku, desc)
		if err != nil {
			return nil, err
		}
		lines = append(lines, sl)
	}
	id := h.ids.orderCreate(o.ID)
	kind := kindWeb
	if pos {
		kind = kindPOS
	}
	remember := func() { h.orders.put(string(o.ID), kind) }
	if !pos {
		if len(lines) == 0 {
			return &mapped{ignored: fmt.Sprintf("web order %s has no line with stock (gift cards, custom items only)", o.ID), after: remember}, nil
		}
		body := &event.OnlineOrder{OrderID: h.ids.order(o.ID), Channel: h.cfg.WebChannel, Currency: cur, Lines: lines}
		return &mapped{events: []*event.Event{h.envelope(d, id, loc, at, body, attrs)}, after: remember}, nil
	}
	for i, sh := range o.ShippingLines {
		path := fmt.Sprintf("order %s shipping_lines[%d]", o.ID, i)
		li := LineItem{ID: sh.ID, Title: sh.Title, Quantity: 1, Price: sh.Price, PriceSet: sh.PriceSet,
			DiscountAllocations: sh.DiscountAllocations, TaxLines: sh.TaxLines}
		sl, err := p.line(path, &li, h.cfg.NonStockSKU, "shipping: "+sh.Title)
		if err != nil {
			return nil, err
		}
		lines = append(lines, sl)
	}
	if len(lines) == 0 {
		return nil, badf("POS order %s has no line items", o.ID)
	}
	tip, err := p.amount("total_tip_received", o.TotalTipReceived)
	if err != nil {
		return nil, err
	}
	sale := &event.Sale{
		ReceiptNumber: clip(o.Name, 100), Register: string(o.DeviceID), Cashier: string(o.UserID),
		Currency: cur, Notes: clip(o.Note, 2000),
	}
	tenders, paid, ok, err := h.tenders(p, o.Transactions, "sale", "capture")
	if err != nil {
		return nil, err
	}
	if ok && len(tenders) > 0 && tip > 0 {
		// Transactions include the tip; a tender's amount excludes it.
		i := largest(tenders)
		if tenders[i].Amount >= tip {
			tenders[i].Amount -= tip
			tenders[i].Tip = tip
			paid -= int64(tip)
		} else {
			ok = false
		}
	}
	if ok && len(tenders) > 0 {
		sale.Lines, sale.Tenders = h.balance(lines, paid, false), tenders
	} else {
		// No transactions in the payload (the usual case): one tender of the
		// gateway's kind for exactly what the lines cost.
		sale.Lines = lines
		if total := linesTotal(lines); total != 0 || tip != 0 {
			sale.Tenders = []event.Tender{{Kind: h.gatewayTender(o.PaymentGatewayNames), Amount: event.Amount(total), Tip: tip}}
		}
	}
	return &mapped{events: []*event.Event{h.envelope(d, id, loc, at, sale, attrs)}, after: remember}, nil
}

func nonStockLabel(li *LineItem) string {
	if li.GiftCard {
		return "gift card"
	}
	return "custom item"
}

func largest(ts []event.Tender) int {
	j := 0
	for i := range ts {
		if ts[i].Amount > ts[j].Amount {
			j = i
		}
	}
	return j
}

// orderCancelled maps orders/cancelled of a web order to an OrderCancel that
// releases what is still reserved. A POS order's cancellation moves no
// stock by itself: goods come back only through a refund with a restock
// type, which refunds/create delivers — emitting a Void too would restock
// them twice.
func (h *Handler) orderCancelled(d *delivery) (*mapped, error) {
	var o Order
	if err := decode(d.body, &o); err != nil {
		return nil, &badPayload{err.Error()}
	}
	if o.ID == "" {
		return nil, badf("id is required")
	}
	if h.cfg.isPOS(o.SourceName) {
		return &mapped{ignored: fmt.Sprintf("POS order %s: a cancellation restocks only through its refund (refunds/create)", o.ID)}, nil
	}
	at := firstTime(o.CancelledAt, o.UpdatedAt, o.CreatedAt)
	if at.IsZero() {
		return nil, badf("order %s: cancelled_at is required", o.ID)
	}
	loc, ok := h.cfg.location(o.LocationID)
	if !ok {
		return nil, unplaceablef("order %s: Shopify location %s is not in the source's location map; add it", o.ID, o.LocationID)
	}
	body := &event.OrderCancel{OrderID: h.ids.order(o.ID), Reason: clip(o.CancelReason, 500)}
	attrs := map[string]string{"shopify.order_id": string(o.ID), "shopify.order_name": o.Name}
	return &mapped{events: []*event.Event{h.envelope(d, h.ids.orderCancel(o.ID), loc, at, body, attrs)}}, nil
}

// restocks tells whether a refunded line goes back on the shelf. RETURN
// ("restocking line items that were fulfilled") and the deprecated
// LEGACY_RESTOCK do; CANCEL ("restocking unfulfilled line items") does not
// change on-hand — the goods never left, and the web order's reservation is
// released by its cancellation or fulfilment; NO_RESTOCK does not
// (https://shopify.dev/docs/api/admin-graphql/latest/enums/RefundLineItemRestockType).
// Refunds from before restock_type fall back to the refund's restock flag.
func restocks(rli *RefundLineItem, legacy *bool) (bool, error) {
	switch strings.ToLower(rli.RestockType) {
	case "return", "legacy_restock":
		return true, nil
	case "cancel", "no_restock":
		return false, nil
	case "":
		return legacy != nil && *legacy, nil
	}
	return false, badf("restock_type %q is not no_restock, cancel, return or legacy_restock", rli.RestockType)
}

// refund maps refunds/create to a Return at the restock location (or the
// POS transaction's location, or the default location) with the refunded
// lines — SKUs from the embedded line items, so the order need not be known
// — and the refund transactions as tenders. Lines restocked at another
// location become an extra zero-priced Return there, so each location's
// stock is right and the money is booked once.
func (h *Handler) refund(d *delivery) (*mapped, error) {
	var r Refund
	if err := decode(d.body, &r); err != nil {
		return nil, &badPayload{err.Error()}
	}
	if r.ID == "" || r.OrderID == "" {
		return nil, badf("id and order_id are required")
	}
	at := firstTime(r.ProcessedAt, r.CreatedAt)
	if at.IsZero() {
		return nil, badf("refund %s: created_at is required", r.ID)
	}
	code := ""
	for _, rli := range r.RefundLineItems {
		if rli.SubtotalSet != nil && rli.SubtotalSet.ShopMoney.CurrencyCode != "" {
			code = rli.SubtotalSet.ShopMoney.CurrencyCode
			break
		}
	}
	for _, tx := range r.Transactions {
		if code == "" && tx.Currency != "" {
			code = tx.Currency
		}
	}
	cur, exp, err := h.currency(code)
	if err != nil {
		return nil, err
	}
	p := &pricer{cur: cur, exp: exp}
	type placed struct {
		line    event.SaleLine
		restock bool
		loc     string
		shopLoc ID // the Shopify location, for the ID of a restock elsewhere
	}
	var items []placed
	var subtotal, tax int64
	primary := ""
	for i := range r.RefundLineItems {
		rli := &r.RefundLineItems[i]
		path := fmt.Sprintf("refund %s refund_line_items[%d]", r.ID, i)
		if rli.Quantity <= 0 {
			continue // a money-only adjustment of a line
		}
		li := rli.LineItem
		kind, err := classify(path+".line_item", &li)
		if err != nil {
			return nil, err
		}
		if kind == lineTip {
			continue
		}
		restock, err := restocks(rli, r.Restock)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sku, desc := li.SKU, firstNonEmpty(li.Name, li.Title)
		if kind == lineNonStock {
			sku, desc, restock = h.cfg.NonStockSKU, nonStockLabel(&li)+": "+desc, false
		}
		loc := ""
		if restock {
			var ok bool
			if loc, ok = h.cfg.location(rli.LocationID); !ok {
				return nil, unplaceablef("%s: restock location %s is not in the source's location map; add it", path, rli.LocationID)
			}
			if primary == "" {
				primary = loc
			}
		}
		price, err := p.amount(path+".line_item.price", li.PriceSet.shop(li.Price))
		if err != nil {
			return nil, err
		}
		sub, err := p.amount(path+".subtotal", rli.SubtotalSet.shop(rli.Subtotal))
		if err != nil {
			return nil, err
		}
		tx, err := p.amount(path+".total_tax", rli.TotalTaxSet.shop(rli.TotalTax))
		if err != nil {
			return nil, err
		}
		sl := event.SaleLine{LineID: string(li.ID), SKU: sku, Description: clip(desc, 1000),
			Quantity: event.Units(rli.Quantity), UnitPrice: price}
		ext, _ := sl.Quantity.MulMinor(int64(price))
		switch {
		case int64(sub) < ext:
			sl.Discounts = []event.Discount{{Amount: event.Amount(ext - int64(sub)), Reason: "discounts of the original line"}}
		case int64(sub) > ext:
			a := sub
			sl.Amount = &a
		}
		if tx != 0 {
			sl.Taxes = []event.Tax{{Amount: tx}}
		}
		subtotal += int64(sub)
		tax += int64(tx)
		items = append(items, placed{line: sl, restock: restock, loc: loc, shopLoc: rli.LocationID})
	}
	if len(items) == 0 {
		return &mapped{ignored: fmt.Sprintf("refund %s refunds no line item (money only: shipping or an adjustment)", r.ID)}, nil
	}
	tenders, paid, ok, err := h.tenders(p, r.Transactions, "refund")
	if err != nil {
		return nil, err
	}
	// The payload does not say whether prices include tax; the refunded
	// amount settles it when it matches one reading exactly.
	included := h.cfg.TaxesIncluded
	if ok && len(tenders) > 0 {
		switch paid {
		case subtotal + tax:
			included = false
		case subtotal:
			included = true
		}
	}
	if primary == "" {
		for _, tx := range r.Transactions {
			if tx.LocationID != "" {
				if l, known := h.cfg.location(tx.LocationID); known {
					primary = l
					break
				}
			}
		}
	}
	if primary == "" {
		primary = h.cfg.DefaultLocation
	}
	var lines []event.SaleLine
	elsewhere := map[string][]event.SaleLine{}
	shopLoc := map[string]ID{}
	for _, it := range items {
		l := it.line
		for j := range l.Taxes {
			l.Taxes[j].Included = included
		}
		restock := it.restock && it.loc == primary
		l.Restock = &restock
		lines = append(lines, l)
		if it.restock && it.loc != primary {
			if _, ok := shopLoc[it.loc]; !ok {
				shopLoc[it.loc] = it.shopLoc
			}
			elsewhere[it.loc] = append(elsewhere[it.loc], event.SaleLine{LineID: l.LineID, SKU: l.SKU,
				Description: l.Description, Quantity: l.Quantity, Restock: new(true)})
		}
	}
	ret := &event.Return{
		OriginalEventID: h.ids.orderCreate(r.OrderID), Currency: cur, Reason: clip(r.Note, 500),
	}
	if ok && len(tenders) > 0 {
		ret.Lines, ret.Tenders = h.balance(lines, paid, true), tenders
	} else {
		// No refund transaction in the document's currency: if there was
		// none at all, nothing was paid back; otherwise one tender of the
		// gateway's kind for what the lines are worth.
		if !ok {
			var names []string
			for _, tx := range r.Transactions {
				names = append(names, tx.Gateway)
			}
			ret.Lines = lines
			ret.Tenders = []event.Tender{{Kind: h.gatewayTender(names), Amount: event.Amount(linesTotal(lines))}}
		} else {
			ret.Lines = h.balance(lines, 0, true)
		}
	}
	attrs := map[string]string{"shopify.order_id": string(r.OrderID), "shopify.refund_id": string(r.ID)}
	events := []*event.Event{h.envelope(d, h.ids.refund(r.ID), primary, at, ret, attrs)}
	locs := make([]string, 0, len(elsewhere))
	for l := range elsewhere {
		locs = append(locs, l)
	}
	sort.Strings(locs)
	for _, l := range locs {
		extra := &event.Return{OriginalEventID: h.ids.orderCreate(r.OrderID), Currency: cur, Lines: elsewhere[l],
			Reason: "restocked here; the refund's money is on " + h.ids.refund(r.ID)}
		id := h.ids.refund(r.ID) + ":restock:" + string(shopLoc[l])
		events = append(events, h.envelope(d, id, l, at, extra, attrs))
	}
	return &mapped{events: events}, nil
}

// orderKind tells whether an order was a POS sale or a web order: from
// memory, else from the log through Deps.Lookup. "" when neither knows.
func (h *Handler) orderKind(ctx context.Context, order ID) (string, error) {
	if k, ok := h.orders.get(string(order)); ok {
		return k, nil
	}
	if h.deps.Lookup == nil {
		return "", nil
	}
	id := h.ids.orderCreate(order)
	found, err := h.deps.Lookup(ctx, []string{id})
	if err != nil {
		return "", fmt.Errorf("look up order %s: %w", order, err)
	}
	switch found[id] {
	case event.TypeSale:
		h.orders.put(string(order), kindPOS)
		return kindPOS, nil
	case event.TypeOnlineOrder:
		h.orders.put(string(order), kindWeb)
		return kindWeb, nil
	}
	return "", nil
}

// fulfillment maps fulfillments/create to a Fulfilment of the shipped lines
// (SKUs from the embedded line items) at the fulfilling location. A POS
// order's fulfillment is skipped: its Sale already took the stock. Whether
// the order was POS comes from the log (Deps.Lookup); while the order is
// unknown and the delivery is young, the answer is 503 so that Shopify
// retries once orders/create has arrived.
func (h *Handler) fulfillment(ctx context.Context, d *delivery) (*mapped, error) {
	var f Fulfillment
	if err := decode(d.body, &f); err != nil {
		return nil, &badPayload{err.Error()}
	}
	if f.ID == "" || f.OrderID == "" {
		return nil, badf("id and order_id are required")
	}
	switch strings.ToLower(f.Status) {
	case "", "success", "pending", "open":
	default:
		return &mapped{ignored: fmt.Sprintf("fulfillment %s has status %q: nothing shipped", f.ID, f.Status)}, nil
	}
	at := firstTime(f.CreatedAt, f.UpdatedAt)
	if at.IsZero() {
		return nil, badf("fulfillment %s: created_at is required", f.ID)
	}
	kind, err := h.orderKind(ctx, f.OrderID)
	if err != nil {
		return nil, err
	}
	switch {
	case kind == kindPOS:
		return &mapped{ignored: fmt.Sprintf("fulfillment %s is of POS order %s, whose sale took the stock", f.ID, f.OrderID)}, nil
	case kind == "" && h.deps.Lookup != nil && d.age() < h.cfg.WaitFor:
		return nil, &notYet{fmt.Sprintf("order %s of fulfillment %s is not known yet (POS or web?); retry after orders/create", f.OrderID, f.ID)}
	}
	loc, ok := h.cfg.location(f.LocationID)
	if !ok {
		return nil, unplaceablef("fulfillment %s: Shopify location %s is not in the source's location map; add it", f.ID, f.LocationID)
	}
	var lines []event.Line
	for i := range f.LineItems {
		li := &f.LineItems[i]
		k, err := classify(fmt.Sprintf("fulfillment %s line_items[%d]", f.ID, i), li)
		if err != nil {
			return nil, err
		}
		if k != lineStock {
			continue
		}
		if li.Quantity <= 0 {
			return nil, badf("fulfillment %s line_items[%d].quantity is %d; it must be positive", f.ID, i, li.Quantity)
		}
		lines = append(lines, event.Line{SKU: li.SKU, Quantity: event.Units(li.Quantity)})
	}
	if len(lines) == 0 {
		return &mapped{ignored: fmt.Sprintf("fulfillment %s ships nothing with stock", f.ID)}, nil
	}
	tracking := f.TrackingNumber
	if tracking == "" && len(f.TrackingNumbers) > 0 {
		tracking = f.TrackingNumbers[0]
	}
	body := &event.Fulfilment{OrderID: h.ids.order(f.OrderID), FulfilmentID: string(f.ID), Lines: lines, TrackingRef: clip(tracking, 200)}
	attrs := map[string]string{"shopify.order_id": string(f.OrderID), "shopify.fulfillment_id": string(f.ID), "shopify.fulfillment_name": f.Name}
	return &mapped{events: []*event.Event{h.envelope(d, h.ids.fulfillment(f.ID), loc, at, body, attrs)}}, nil
}

// sku finds an inventory item's SKU: configured, learned from
// inventory_items/* and products/* deliveries, or resolved by Deps.ResolveSKU.
func (h *Handler) sku(ctx context.Context, item ID) (string, error) {
	if s := h.cfg.SKUs[string(item)]; s != "" {
		return s, nil
	}
	if s, ok := h.catalog.get(string(item)); ok && s != "" {
		return s, nil
	}
	if h.deps.ResolveSKU == nil {
		return "", nil
	}
	s, err := h.deps.ResolveSKU(ctx, string(item))
	if err != nil {
		return "", fmt.Errorf("resolve SKU of inventory item %s: %w", item, err)
	}
	if s != "" {
		h.catalog.put(string(item), s)
	}
	return s, nil
}

// inventoryLevel maps inventory_levels/update to a StockCount of the SKU at
// the location as of updated_at: an absolute level, so whichever delivery
// arrives last, the ledger anchors on the newest count.
func (h *Handler) inventoryLevel(ctx context.Context, d *delivery) (*mapped, error) {
	var lv InventoryLevel
	if err := decode(d.body, &lv); err != nil {
		return nil, &badPayload{err.Error()}
	}
	if lv.InventoryItemID == "" || lv.LocationID == "" || lv.UpdatedAt.IsZero() {
		return nil, badf("inventory_item_id, location_id and updated_at are required")
	}
	if h.cfg.InventoryLevels == LevelsIgnore {
		return &mapped{ignored: "inventory levels are configured to be ignored"}, nil
	}
	if lv.Available == nil {
		return &mapped{ignored: fmt.Sprintf("inventory item %s is not tracked", lv.InventoryItemID)}, nil
	}
	loc, ok := h.cfg.Locations[string(lv.LocationID)]
	if !ok {
		// A location tillsync does not manage (a 3PL, a pop-up): its levels
		// are Shopify's business alone.
		return &mapped{ignored: fmt.Sprintf("Shopify location %s is not in the source's location map", lv.LocationID)}, nil
	}
	sku, err := h.sku(ctx, lv.InventoryItemID)
	if err != nil {
		return nil, err
	}
	if sku == "" {
		msg := fmt.Sprintf("inventory item %s has no known SKU (inventory level payloads carry none); subscribe inventory_items/create and /update, list it under skus, or wire a SKU resolver", lv.InventoryItemID)
		if d.age() < h.cfg.WaitFor {
			return nil, &notYet{msg}
		}
		return nil, &unplaceable{msg}
	}
	qty := *lv.Available
	attrs := map[string]string{"shopify.inventory_item_id": string(lv.InventoryItemID), "shopify.location_id": string(lv.LocationID)}
	if qty < 0 {
		// Oversold in Shopify; stock on hand cannot be negative.
		attrs["shopify.available"] = fmt.Sprint(qty)
		qty = 0
	}
	key := string(lv.InventoryItemID) + "@" + string(lv.LocationID)
	at := lv.UpdatedAt.UTC().Truncate(event.Precision)
	body := &event.StockCount{Lines: []event.Line{{SKU: sku, Quantity: event.Units(qty)}}, CountID: "shopify-level"}
	e := h.envelope(d, h.ids.inventory(lv.InventoryItemID, lv.LocationID, at), loc, at, body, attrs)
	return &mapped{events: []*event.Event{e}, after: func() {
		newest := h.levels.update(key, func(old time.Time, ok bool) time.Time {
			if ok && old.After(at) {
				return old
			}
			return at
		})
		if newest.After(at) {
			h.stats.superseded.Add(1)
			h.log.Info("older inventory level arrived after a newer one; the newer count stands",
				"inventory_item_id", string(lv.InventoryItemID), "location", loc, "updated_at", at, "newest", newest)
		}
	}}, nil
}

// inventoryItem learns an inventory item's SKU.
func (h *Handler) inventoryItem(d *delivery) (*mapped, error) {
	var it InventoryItem
	if err := decode(d.body, &it); err != nil {
		return nil, &badPayload{err.Error()}
	}
	if it.ID == "" {
		return nil, badf("id is required")
	}
	if it.SKU == "" {
		return &mapped{ignored: fmt.Sprintf("inventory item %s has no SKU", it.ID)}, nil
	}
	h.catalog.put(string(it.ID), it.SKU)
	return &mapped{ignored: fmt.Sprintf("learned SKU %q of inventory item %s", it.SKU, it.ID)}, nil
}

// product learns its variants' inventory item SKUs.
func (h *Handler) product(d *delivery) (*mapped, error) {
	var p Product
	if err := decode(d.body, &p); err != nil {
		return nil, &badPayload{err.Error()}
	}
	n := 0
	for _, v := range p.Variants {
		if v.InventoryItemID != "" && v.SKU != "" {
			h.catalog.put(string(v.InventoryItemID), v.SKU)
			n++
		}
	}
	return &mapped{ignored: fmt.Sprintf("learned %d SKUs of product %s", n, p.ID)}, nil
}
