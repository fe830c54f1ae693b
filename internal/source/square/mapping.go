package square

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Source is the source name on every event from Square.
const Source = "square"

// unmappableError is Square data that cannot become canonical events as
// configured (an unmapped location, a quantity finer than a thousandth, a
// foreign currency). The handler refuses the notification with 422 so that
// Square redelivers it after the configuration is fixed.
type unmappableError struct{ msg string }

func (e *unmappableError) Error() string { return e.msg }

func unmappable(format string, args ...any) error {
	return &unmappableError{msg: fmt.Sprintf(format, args...)}
}

// mapper turns Square objects into canonical events. It is pure: no I/O.
type mapper struct {
	cfg    *Config
	ignore map[string]bool
}

func newMapper(cfg *Config) *mapper {
	m := &mapper{cfg: cfg, ignore: map[string]bool{}}
	for _, l := range cfg.IgnoreLocations {
		m.ignore[l] = true
	}
	return m
}

// location maps a Square location ID; ignored reports a location tillsync
// deliberately does not track.
func (m *mapper) location(sq, path string) (loc string, ignored bool, err error) {
	if l, ok := m.cfg.Locations[sq]; ok {
		return l, false, nil
	}
	if m.ignore[sq] {
		return "", true, nil
	}
	return "", false, unmappable("%s: Square location %q is not in the source's locations (map it, or list it under ignore_locations)", path, sq)
}

// sku maps a catalog object ID; lines without one get a synthetic SKU.
func (m *mapper) sku(catalogID, itemType string) string {
	switch {
	case catalogID != "":
		if s, ok := m.cfg.SKUs[catalogID]; ok {
			return s
		}
		return catalogID
	case itemType == "GIFT_CARD":
		return m.cfg.GiftCardSKU
	}
	return m.cfg.CustomAmountSKU
}

// amount converts Square money (already integer minor units) after
// checking its currency; a missing money object is zero.
func (m *mapper) amount(mo *money, path string) (event.Amount, error) {
	if mo == nil {
		return 0, nil
	}
	if mo.Currency != "" && mo.Currency != m.cfg.Currency {
		return 0, unmappable("%s: currency %s, but the source is configured for %s", path, mo.Currency, m.cfg.Currency)
	}
	return event.Amount(mo.Amount), nil
}

// eventID joins parts into an event ID. Square's IDs keep it well under the
// 128-byte limit; should one not, the tail is replaced by a hash so the ID
// stays stable and unique.
func eventID(parts ...string) string {
	id := strings.Join(parts, ":")
	const maxLen = 128
	if len(id) <= maxLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:16])
	return id[:maxLen-len(h)-1] + ":" + h
}

// parseTime reads an RFC 3339 timestamp as Square writes them.
func parseTime(s, path string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, unmappable("%s: %q is not an RFC 3339 time", path, s)
	}
	return t.UTC(), nil
}

func (m *mapper) newEvent(id, loc string, at time.Time, attrs map[string]string, body event.Body) *event.Event {
	return &event.Event{
		ID: id, Type: body.Type(), Location: loc, Source: Source, OccurredAt: at, Zone: m.cfg.Zone,
		Attributes: attrs, Body: body,
	}
}

// orderResult is what an order maps to now.
type orderResult struct {
	events []*event.Event
	// final: every event the order will ever map to is in events (or it
	// maps to none), so later notifications about it need no fetch.
	final bool
	// waiting says why an order is not final yet (still OPEN, refund
	// pending).
	waiting string
}

// order maps a fetched order. src is the order its returns came from, when
// it has any (for the kind of tender each refund went back to); nil when
// unknown.
//
// The rules:
//   - Only a COMPLETED order maps to anything: an OPEN one may still
//     change, a CANCELED one never sold. (Order states:
//     https://developer.squareup.com/reference/square/enums/OrderState.)
//   - An order whose refunds are still PENDING waits for them to settle:
//     a refund.updated notification follows when they do
//     (https://developer.squareup.com/docs/payments-api/webhooks).
//   - Line items become a Sale "square:order:<id>" with the order's
//     tenders; returns become a Return "square:order:<id>:return" with the
//     order's settled refunds. Return and exchange orders are separate
//     orders whose returns name the source order
//     (https://developer.squareup.com/docs/orders-api/order-returns-exchanges).
//   - In an exchange, the returned value that was not refunded pays for the
//     new items: it is a store_credit tender on both the Return and the
//     Sale, so each balances on its own.
func (m *mapper) order(o *order, src *order) (orderResult, error) {
	switch o.State {
	case "COMPLETED":
	case "CANCELED":
		return orderResult{final: true}, nil
	default:
		return orderResult{waiting: "order is " + o.State}, nil
	}
	loc, ignored, err := m.location(o.LocationID, "order.location_id")
	if err != nil || ignored {
		return orderResult{final: ignored}, err
	}
	at, err := m.orderTime(o)
	if err != nil {
		return orderResult{}, err
	}
	attrs := func() map[string]string {
		return map[string]string{"square_order_id": o.ID, "square_location_id": o.LocationID}
	}
	var res orderResult
	var credit event.Amount
	if len(o.Returns) > 0 {
		ret, c, pending, err := m.orderReturn(o, src)
		if err != nil {
			return orderResult{}, err
		}
		if pending {
			return orderResult{waiting: "a refund on the order is pending"}, nil
		}
		credit = c
		if ret != nil {
			res.events = append(res.events, m.newEvent(eventID("square", "order", o.ID, "return"), loc, at, attrs(), ret))
		}
	}
	if len(o.LineItems) > 0 {
		sale, err := m.orderSale(o, credit)
		if err != nil {
			return orderResult{}, err
		}
		res.events = append(res.events, m.newEvent(eventID("square", "order", o.ID), loc, at, attrs(), sale))
	}
	res.final = true
	return res, nil
}

// orderTime is when the order completed.
func (m *mapper) orderTime(o *order) (time.Time, error) {
	for _, c := range []struct{ path, v string }{{"closed_at", o.ClosedAt}, {"updated_at", o.UpdatedAt}, {"created_at", o.CreatedAt}} {
		if c.v != "" {
			return parseTime(c.v, "order."+c.path)
		}
	}
	return time.Time{}, unmappable("order %s has no closed_at, updated_at or created_at", o.ID)
}

func (m *mapper) orderSale(o *order, credit event.Amount) (*event.Sale, error) {
	taxes, discounts := index(o.Taxes, o.Discounts)
	lines, err := m.lines(o.LineItems, taxes, discounts, "order.line_items", false)
	if err != nil {
		return nil, err
	}
	extra, err := m.extraLines(o.ServiceCharges, o.RoundingAdjustment, "order", false)
	if err != nil {
		return nil, err
	}
	lines = append(lines, extra...)
	tenders, err := m.tenders(o.Tenders)
	if err != nil {
		return nil, err
	}
	if credit > 0 {
		tenders = append(tenders, event.Tender{Kind: event.TenderStoreCredit, Amount: credit, Reference: eventID("square", "exchange", o.ID)})
	}
	return &event.Sale{Currency: m.cfg.Currency, Lines: lines, Tenders: tenders}, nil
}

// orderReturn maps the returns of an order and its settled refunds; credit
// is the returned value that was not refunded.
func (m *mapper) orderReturn(o *order, src *order) (ret *event.Return, credit event.Amount, pending bool, err error) {
	ret = &event.Return{Currency: m.cfg.Currency}
	sources := map[string]bool{}
	for i := range o.Returns {
		r := &o.Returns[i]
		path := fmt.Sprintf("order.returns[%d]", i)
		sources[r.SourceOrderID] = true
		taxes, discounts := index(r.ReturnTaxes, r.ReturnDiscounts)
		lines, err := m.lines(r.ReturnLineItems, taxes, discounts, path+".return_line_items", true)
		if err != nil {
			return nil, 0, false, err
		}
		extra, err := m.extraLines(r.ReturnServiceCharges, r.RoundingAdjustment, path, true)
		if err != nil {
			return nil, 0, false, err
		}
		ret.Lines = append(ret.Lines, lines...)
		ret.Lines = append(ret.Lines, extra...)
	}
	if len(sources) == 1 {
		for s := range sources {
			if s != "" {
				ret.OriginalEventID = eventID("square", "order", s)
			}
		}
	}
	var refunded int64
	for i, rf := range o.Refunds {
		path := fmt.Sprintf("order.refunds[%d]", i)
		switch rf.Status {
		case "PENDING":
			return nil, 0, true, nil
		case "APPROVED", "COMPLETED":
		default: // REJECTED, FAILED: no money went back
			continue
		}
		amt, err := m.amount(rf.AmountMoney, path+".amount_money")
		if err != nil {
			return nil, 0, false, err
		}
		t := refundTender(rf, src)
		t.Amount = amt
		ret.Tenders = append(ret.Tenders, t)
		refunded += int64(amt)
		if ret.Reason == "" {
			ret.Reason = truncate(rf.Reason, 500)
		}
	}
	if len(ret.Lines) == 0 {
		return nil, 0, false, nil
	}
	var total int64
	for i := range ret.Lines {
		lt, _ := ret.Lines[i].Total()
		total += lt
	}
	if gap := total - refunded; gap > 0 {
		credit = event.Amount(gap)
		ret.Tenders = append(ret.Tenders, event.Tender{Kind: event.TenderStoreCredit, Amount: credit, Reference: eventID("square", "exchange", o.ID)})
	}
	return ret, credit, false, nil
}

// refundTender finds the kind of tender a refund went back to in the source
// order; card when the source order is unknown.
func refundTender(rf orderRefund, src *order) event.Tender {
	t := event.Tender{Kind: event.TenderCard, Reference: rf.ID}
	if src == nil {
		return t
	}
	for _, st := range src.Tenders {
		if rf.TenderID != "" && (st.ID == rf.TenderID || st.PaymentID == rf.TenderID) {
			t.Kind = tenderKind(st.Type)
			t.Card = card(t.Kind, st)
		}
	}
	return t
}

func index(taxes []orderTax, discounts []orderDiscount) (map[string]orderTax, map[string]orderDiscount) {
	t := make(map[string]orderTax, len(taxes))
	for _, x := range taxes {
		t[x.UID] = x
	}
	d := make(map[string]orderDiscount, len(discounts))
	for _, x := range discounts {
		d[x.UID] = x
	}
	return t, d
}

// lines maps order line items (or return line items).
func (m *mapper) lines(items []lineItem, taxes map[string]orderTax, discounts map[string]orderDiscount, path string, ret bool) ([]event.SaleLine, error) {
	out := make([]event.SaleLine, 0, len(items))
	for i := range items {
		l, err := m.line(&items[i], taxes, discounts, fmt.Sprintf("%s[%d]", path, i), ret)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// line maps one line item. Square has done the arithmetic: the extended
// price is gross_sales_money (base price plus modifiers, times quantity),
// discounts and taxes are what it applied to the line; Square's quantities
// are decimal strings and are parsed exactly.
func (m *mapper) line(li *lineItem, taxes map[string]orderTax, discounts map[string]orderDiscount, path string, ret bool) (event.SaleLine, error) {
	q, err := event.ParseQty(li.Quantity)
	if err != nil {
		return event.SaleLine{}, unmappable("%s.quantity: %v", path, err)
	}
	l := event.SaleLine{LineID: li.UID, SKU: m.sku(li.CatalogObjectID, li.ItemType), Description: describe(li), Quantity: q}
	if l.UnitPrice, err = m.amount(li.BasePriceMoney, path+".base_price_money"); err != nil {
		return l, err
	}
	gross, grossPath := li.GrossSalesMoney, path+".gross_sales_money"
	if ret {
		gross, grossPath = li.GrossReturnMoney, path+".gross_return_money"
	}
	if gross != nil {
		g, err := m.amount(gross, grossPath)
		if err != nil {
			return l, err
		}
		l.Amount = &g
	}
	totalDiscount, err := m.amount(li.TotalDiscountMoney, path+".total_discount_money")
	if err != nil {
		return l, err
	}
	var applied event.Amount
	for j, d := range li.AppliedDiscounts {
		a, err := m.amount(d.AppliedMoney, fmt.Sprintf("%s.applied_discounts[%d].applied_money", path, j))
		if err != nil {
			return l, err
		}
		if a == 0 {
			continue
		}
		od := discounts[d.DiscountUID]
		l.Discounts = append(l.Discounts, event.Discount{Amount: a, Reason: truncate(od.Name, 500), Code: od.CatalogObjectID})
		applied += a
	}
	if applied != totalDiscount { // applied discounts absent or partial: keep Square's total
		l.Discounts = nil
		if totalDiscount != 0 {
			l.Discounts = []event.Discount{{Amount: totalDiscount}}
		}
	}
	totalTax, err := m.amount(li.TotalTaxMoney, path+".total_tax_money")
	if err != nil {
		return l, err
	}
	var taxed event.Amount
	for j, t := range li.AppliedTaxes {
		a, err := m.amount(t.AppliedMoney, fmt.Sprintf("%s.applied_taxes[%d].applied_money", path, j))
		if err != nil {
			return l, err
		}
		ot := taxes[t.TaxUID]
		l.Taxes = append(l.Taxes, event.Tax{Code: truncate(ot.Name, 100), RateBP: basisPoints(ot.Percentage), Amount: a, Included: ot.Type == "INCLUSIVE"})
		taxed += a
	}
	if taxed != totalTax {
		// Without the applied taxes, tell additive from inclusive by
		// Square's own line total.
		l.Taxes = nil
		if totalTax != 0 {
			tax := event.Tax{Amount: totalTax}
			if li.TotalMoney != nil {
				t, _ := l.Total()
				tax.Included = t == li.TotalMoney.Amount
			}
			l.Taxes = []event.Tax{tax}
		}
	}
	if ret && li.CatalogObjectID == "" {
		l.Restock = new(bool) // a custom amount brings nothing back to the shelf
	}
	return l, nil
}

// extraLines maps service charges and a cash rounding adjustment to lines
// with synthetic SKUs, so the document's lines add up to what was paid.
func (m *mapper) extraLines(charges []serviceCharge, r *rounding, path string, ret bool) ([]event.SaleLine, error) {
	var out []event.SaleLine
	noRestock := func() *bool {
		if ret {
			return new(bool)
		}
		return nil
	}
	for i, c := range charges {
		p := fmt.Sprintf("%s.service_charges[%d]", path, i)
		amt, err := m.amount(c.AppliedMoney, p+".applied_money")
		if err != nil {
			return nil, err
		}
		tax, err := m.amount(c.TotalTaxMoney, p+".total_tax_money")
		if err != nil {
			return nil, err
		}
		l := event.SaleLine{LineID: c.UID, SKU: m.cfg.ServiceChargeSKU, Description: truncate(c.Name, 1000),
			Quantity: event.Units(1), UnitPrice: amt, Restock: noRestock()}
		if tax != 0 {
			l.Taxes = []event.Tax{{Amount: tax}}
		}
		out = append(out, l)
	}
	if r != nil && r.AmountMoney != nil && r.AmountMoney.Amount != 0 {
		a, err := m.amount(r.AmountMoney, path+".rounding_adjustment.amount_money")
		if err != nil {
			return nil, err
		}
		l := event.SaleLine{SKU: m.cfg.RoundingSKU, Description: truncate(r.Name, 1000), Quantity: event.Units(1), Restock: noRestock()}
		if a > 0 {
			l.UnitPrice = a
		} else {
			l.Discounts = []event.Discount{{Amount: -a, Reason: "cash rounding"}}
		}
		out = append(out, l)
	}
	return out, nil
}

// tenders maps an order's tenders. A tender's amount_money includes its
// tip; the canonical amount does not.
func (m *mapper) tenders(ts []tender) ([]event.Tender, error) {
	var out []event.Tender
	for i, t := range ts {
		path := fmt.Sprintf("order.tenders[%d]", i)
		amt, err := m.amount(t.AmountMoney, path+".amount_money")
		if err != nil {
			return nil, err
		}
		tip, err := m.amount(t.TipMoney, path+".tip_money")
		if err != nil {
			return nil, err
		}
		if t.Type == "NO_SALE" || (amt == 0 && tip == 0) {
			continue
		}
		ref := t.PaymentID
		if ref == "" {
			ref = t.ID
		}
		kind := tenderKind(t.Type)
		out = append(out, event.Tender{Kind: kind, Amount: amt - tip, Tip: tip, Reference: ref, Card: card(kind, t)})
	}
	return out, nil
}

// tenderKind maps Square's TenderType
// (https://developer.squareup.com/reference/square/objects/TenderType):
// cards and card-like electronic payments (wallets, bank accounts, buy
// now pay later) are card; a Square house account is store credit.
func tenderKind(t string) event.TenderKind {
	switch t {
	case "CASH":
		return event.TenderCash
	case "SQUARE_GIFT_CARD":
		return event.TenderGiftCard
	case "SQUARE_ACCOUNT":
		return event.TenderStoreCredit
	}
	return event.TenderCard
}

// card keeps the card's brand, last four digits and entry method: nothing
// else of the card leaves Square's payload.
func card(kind event.TenderKind, t tender) *event.Card {
	if kind != event.TenderCard || t.CardDetails == nil {
		return nil
	}
	c := &event.Card{Entry: entryMethods[t.CardDetails.EntryMethod]}
	if t.CardDetails.Card != nil {
		c.Brand = t.CardDetails.Card.CardBrand
		if l4 := t.CardDetails.Card.Last4; len(l4) == 4 && strings.Trim(l4, "0123456789") == "" {
			c.Last4 = l4
		}
	}
	if *c == (event.Card{}) {
		return nil
	}
	return c
}

// entryMethods maps TenderCardDetailsEntryMethod to canonical entry modes.
var entryMethods = map[string]string{
	"EMV": "chip", "CONTACTLESS": "contactless", "SWIPED": "swipe", "KEYED": "keyed", "ON_FILE": "online",
}

// basisPoints converts a Square percentage ("7.25") to basis points,
// rounded half up; 0 when it does not parse (the rate is informational).
func basisPoints(pct string) int64 {
	q, err := event.ParseQty(pct)
	if err != nil || q < 0 {
		return 0
	}
	return (int64(q) + 5) / 10 // thousandths of a percent → hundredths
}

func describe(li *lineItem) string {
	d := li.Name
	if li.VariationName != "" {
		if d != "" {
			d += " "
		}
		d += "(" + li.VariationName + ")"
	}
	return truncate(d, 1000)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// legacyRefund maps a completed refund that names no order: a Return of
// its amount with nothing restocked, "square:refund:<id>".
func (m *mapper) legacyRefund(rf *refund) (*event.Event, bool, error) {
	loc, ignored, err := m.location(rf.LocationID, "refund.location_id")
	if err != nil || ignored {
		return nil, ignored, err
	}
	amt, err := m.amount(rf.AmountMoney, "refund.amount_money")
	if err != nil {
		return nil, false, err
	}
	ts := rf.UpdatedAt
	if ts == "" {
		ts = rf.CreatedAt
	}
	at, err := parseTime(ts, "refund.updated_at")
	if err != nil {
		return nil, false, err
	}
	body := &event.Return{
		Currency: m.cfg.Currency, Reason: truncate(rf.Reason, 500),
		Lines:   []event.SaleLine{{SKU: m.cfg.CustomAmountSKU, Quantity: event.Units(1), UnitPrice: amt, Restock: new(bool)}},
		Tenders: []event.Tender{{Kind: event.TenderCard, Amount: amt, Reference: rf.ID}},
	}
	attrs := map[string]string{"square_refund_id": rf.ID, "square_payment_id": rf.PaymentID, "square_location_id": rf.LocationID}
	return m.newEvent(eventID("square", "refund", rf.ID), loc, at, attrs, body), false, nil
}

// counts maps inventory.count.updated: each IN_STOCK count is Square's
// quantity on hand of an item variation at a location as of calculated_at,
// so it is a StockCount at that time. Counts in other states (SOLD, WASTE,
// …: a state change sends the count before and after,
// https://developer.squareup.com/docs/inventory-api/webhooks) say nothing
// about stock on hand and are skipped. A negative count (Square lets stock
// go below zero) is counted as zero, the original kept in the
// square_quantity attribute.
func (m *mapper) counts(cs []inventoryCount) ([]*event.Event, error) {
	var out []*event.Event
	seen := map[string]bool{}
	for i, c := range cs {
		path := fmt.Sprintf("inventory_counts[%d]", i)
		if c.State != "IN_STOCK" {
			continue
		}
		loc, ignored, err := m.location(c.LocationID, path+".location_id")
		if err != nil {
			return nil, err
		}
		if ignored {
			continue
		}
		if c.CatalogObjectID == "" {
			return nil, unmappable("%s.catalog_object_id is missing", path)
		}
		q, err := event.ParseQty(c.Quantity)
		if err != nil {
			return nil, unmappable("%s.quantity: %v", path, err)
		}
		at, err := parseTime(c.CalculatedAt, path+".calculated_at")
		if err != nil {
			return nil, err
		}
		attrs := map[string]string{"square_catalog_object_id": c.CatalogObjectID, "square_location_id": c.LocationID}
		if q < 0 {
			attrs["square_quantity"] = c.Quantity
			q = 0
		}
		id := eventID("square", "inventory", c.CatalogObjectID, c.LocationID, at.Truncate(event.Precision).Format("2006-01-02T15:04:05.000000Z"))
		if seen[id] {
			continue
		}
		seen[id] = true
		body := &event.StockCount{Lines: []event.Line{{SKU: m.sku(c.CatalogObjectID, "ITEM"), Quantity: q}}}
		out = append(out, m.newEvent(id, loc, at, attrs, body))
	}
	return out, nil
}
