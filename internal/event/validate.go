package event

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Problem is one broken rule, naming the field by its JSON path.
type Problem struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Field + ": " + p.Message + " (" + p.Rule + ")" }

// ValidationError lists every problem found in one event.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid event: " + strings.Join(parts, "; ")
}

// MaxFutureSkew is how far in the future, relative to when it was received,
// an event may say it happened: till clocks drift, but not by a day.
const MaxFutureSkew = 24 * time.Hour

// Validate checks the event against the canonical rules and returns a
// *ValidationError naming every field at fault, or nil.
func (e *Event) Validate() error {
	v := &validator{}
	v.id("id", e.ID, 128)
	v.id("location", e.Location, 64)
	v.id("source", e.Source, 64)
	if newBody(e.Type) == nil {
		v.fail("type", "known_type", fmt.Sprintf("unknown event type %q", e.Type))
	}
	if e.OccurredAt.IsZero() {
		v.fail("occurred_at", "required", "is required")
	} else if !e.ReceivedAt.IsZero() && e.OccurredAt.After(e.ReceivedAt.Add(MaxFutureSkew)) {
		v.fail("occurred_at", "not_future", fmt.Sprintf("is more than %s after received_at", MaxFutureSkew))
	}
	if e.Zone == "" {
		v.fail("zone", "required", "is required (the store's IANA time zone, e.g. Europe/Berlin)")
	} else if _, err := LoadZone(e.Zone); err != nil {
		v.fail("zone", "iana_zone", fmt.Sprintf("%q is not an IANA time zone", e.Zone))
	}
	switch {
	case e.Body == nil:
		v.fail("data", "required", "is required")
	case e.Body.Type() != e.Type:
		v.fail("data", "matches_type", fmt.Sprintf("holds a %s, not a %s", e.Body.Type(), e.Type))
	default:
		v.path = "data"
		e.Body.validate(v)
	}
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}

var zones sync.Map // string → *time.Location

// LoadZone is time.LoadLocation with a cache: events name their zone on every
// record, and loading it from the zone database each time is slow. Unlike
// time.LoadLocation it accepts only zone names: not "" (UTC) nor "Local"
// (whatever zone the server runs in).
func LoadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone name", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

type validator struct {
	path     string
	problems []Problem
}

func (v *validator) at(field string) string {
	switch {
	case v.path == "":
		return field
	case field == "":
		return v.path
	}
	return v.path + "." + field
}

func (v *validator) fail(field, rule, msg string) {
	v.problems = append(v.problems, Problem{Field: v.at(field), Rule: rule, Message: msg})
}

// in runs f with the path extended by field (and index, when ≥ 0).
func (v *validator) in(field string, index int, f func()) {
	saved := v.path
	if index >= 0 {
		field = fmt.Sprintf("%s[%d]", field, index)
	}
	v.path = v.at(field)
	f()
	v.path = saved
}

func validID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("._:/@#-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// id checks a required identifier: printable, no spaces, bounded.
func (v *validator) id(field, s string, maxLen int) {
	switch {
	case s == "":
		v.fail(field, "required", "is required")
	case len(s) > maxLen:
		v.fail(field, "max_length", fmt.Sprintf("is %d bytes long; the limit is %d", len(s), maxLen))
	case !validID(s):
		v.fail(field, "id_charset", "may hold only letters, digits and . _ : / @ # -")
	}
}

// optionalID checks an ID that may be absent (at most 128 bytes).
func (v *validator) optionalID(field, s string) {
	if s != "" {
		v.id(field, s, 128)
	}
}

func (v *validator) text(field, s string, maxLen int) {
	if len(s) > maxLen {
		v.fail(field, "max_length", fmt.Sprintf("is %d bytes long; the limit is %d", len(s), maxLen))
	}
}

// currency checks a document's "currency" field.
func (v *validator) currency(code string) {
	const field = "currency"
	if code == "" {
		v.fail(field, "required", "is required (an ISO 4217 code such as EUR)")
		return
	}
	if _, ok := MinorUnits(code); !ok {
		v.fail(field, "iso4217", fmt.Sprintf("%q is not an ISO 4217 currency code", code))
	}
}

// amount checks a money amount: an integer, not negative (refunds are
// Return documents with positive amounts, never negative sales).
func (v *validator) amount(field string, a Amount) bool {
	switch {
	case a == invalidAmount:
		v.fail(field, "integer_minor_units", "must be an integer number of minor units (1299 for 12.99)")
		return false
	case a < 0:
		v.fail(field, "not_negative", fmt.Sprintf("is %d; it must not be negative", a))
		return false
	}
	return true
}

// qty checks a quantity; sign is +1 for "must be positive", 0 for "must not
// be negative", and -2 for "any non-zero value".
func (v *validator) qty(field string, q Qty, sign int) bool {
	switch {
	case q == invalidQty:
		v.fail(field, "decimal", "must be a decimal number with at most 3 decimal places")
		return false
	case sign == 1 && q <= 0:
		v.fail(field, "positive", fmt.Sprintf("is %s; it must be greater than zero", q))
		return false
	case sign == 0 && q < 0:
		v.fail(field, "not_negative", fmt.Sprintf("is %s; it must not be negative", q))
		return false
	case sign == -2 && q == 0:
		v.fail(field, "non_zero", "must not be zero")
		return false
	}
	return true
}

const maxLines = 1000

func (v *validator) lines(lines []Line, sign int) {
	if len(lines) == 0 {
		v.fail("lines", "required", "needs at least one line")
		return
	}
	if len(lines) > maxLines {
		v.fail("lines", "max_items", fmt.Sprintf("has %d lines; the limit is %d", len(lines), maxLines))
		return
	}
	for i, l := range lines {
		v.in("lines", i, func() {
			v.id("sku", l.SKU, 128)
			v.optionalID("code", l.Code)
			v.qty("quantity", l.Quantity, sign)
		})
	}
}

// saleLines checks priced lines and returns their total in minor units
// (extended price − discounts + taxes not included in the price).
func (v *validator) saleLines(lines []SaleLine) (total int64, ok bool) {
	if len(lines) == 0 {
		v.fail("lines", "required", "needs at least one line")
		return 0, false
	}
	if len(lines) > maxLines {
		v.fail("lines", "max_items", fmt.Sprintf("has %d lines; the limit is %d", len(lines), maxLines))
		return 0, false
	}
	ok = true
	sumFits := true
	for i, l := range lines {
		v.in("lines", i, func() {
			v.id("sku", l.SKU, 128)
			v.optionalID("code", l.Code)
			v.text("description", l.Description, 1000)
			good := v.qty("quantity", l.Quantity, 1)
			good = v.amount("unit_price", l.UnitPrice) && good
			if l.Amount != nil {
				good = v.amount("amount", *l.Amount) && good
			}
			for j, d := range l.Discounts {
				v.in("discounts", j, func() {
					good = v.amount("amount", d.Amount) && good
					v.text("reason", d.Reason, 500)
				})
			}
			for j, t := range l.Taxes {
				v.in("taxes", j, func() {
					good = v.amount("amount", t.Amount) && good
					if t.RateBP < 0 {
						v.fail("rate_bp", "not_negative", "must not be negative")
					}
				})
			}
			if !good {
				ok = false
				return
			}
			if _, fits := l.Extended(); !fits {
				v.fail("quantity", "overflow", "quantity × unit_price does not fit in 64 bits")
				ok = false
				return
			}
			lt, fits := l.Total()
			if !fits {
				v.fail("", "overflow", "the line total does not fit in 64 bits")
				ok = false
				return
			}
			total, fits = add(total, lt)
			sumFits = sumFits && fits
		})
	}
	if ok && !sumFits {
		v.fail("lines", "overflow", "the lines total does not fit in 64 bits")
		ok = false
	}
	return total, ok
}

// add returns a + b and whether the sum fits in an int64.
func add(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0)
}

// Extended returns the line's price before discounts: the till's own Amount
// when sent, else Quantity × UnitPrice rounded half away from zero.
func (l *SaleLine) Extended() (int64, bool) {
	if l.Amount != nil {
		return int64(*l.Amount), true
	}
	return l.Quantity.MulMinor(int64(l.UnitPrice))
}

// Total returns what the customer pays for the line: extended price minus
// discounts plus taxes not already included. It reports false if any step
// overflows.
func (l *SaleLine) Total() (int64, bool) {
	t, ok := l.Extended()
	for _, d := range l.Discounts {
		var fits bool
		t, fits = add(t, -int64(d.Amount))
		ok = ok && fits && d.Amount != math.MinInt64
	}
	for _, x := range l.Taxes {
		if !x.Included {
			var fits bool
			t, fits = add(t, int64(x.Amount))
			ok = ok && fits
		}
	}
	return t, ok
}

var tenderKinds = map[TenderKind]bool{
	TenderCard: true, TenderCash: true, TenderGiftCard: true, TenderStoreCredit: true,
}

// tenders checks payments and that they balance the document's total.
func (v *validator) tenders(tenders []Tender, total int64, totalOK bool) {
	var paid int64
	ok, paidFits := true, true
	for i, t := range tenders {
		v.in("tenders", i, func() {
			if !tenderKinds[t.Kind] {
				v.fail("kind", "tender_kind", fmt.Sprintf("%q is not one of card, cash, gift_card, store_credit", t.Kind))
			}
			ok = v.amount("amount", t.Amount) && ok
			ok = v.amount("tip", t.Tip) && ok
			v.text("reference", t.Reference, 200)
			if t.Card != nil {
				if t.Kind != TenderCard {
					v.fail("card", "card_tender_only", "is only allowed on a card tender")
				}
				if t.Card.Last4 != "" && !fourDigits(t.Card.Last4) {
					v.fail("card.last4", "four_digits", "must be exactly four digits")
				}
			}
			var fits bool
			paid, fits = add(paid, int64(t.Amount))
			paidFits = paidFits && fits
		})
	}
	if !ok || !totalOK {
		return
	}
	if !paidFits {
		v.fail("tenders", "overflow", "the tender amounts sum to more than fits in 64 bits")
		return
	}
	if len(tenders) == 0 && total != 0 {
		v.fail("tenders", "required", "needs at least one tender for a non-zero total")
		return
	}
	if paid != total {
		v.fail("tenders", "balanced", fmt.Sprintf("sum to %d but the lines total %d (tips excluded)", paid, total))
	}
}

func fourDigits(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (s *Sale) validate(v *validator) {
	v.currency(s.Currency)
	v.text("notes", s.Notes, 2000)
	v.optionalID("order_id", s.OrderID)
	total, ok := v.saleLines(s.Lines)
	v.tenders(s.Tenders, total, ok)
}

func (r *Return) validate(v *validator) {
	v.currency(r.Currency)
	v.optionalID("original_event_id", r.OriginalEventID)
	v.text("reason", r.Reason, 500)
	v.text("notes", r.Notes, 2000)
	total, ok := v.saleLines(r.Lines)
	v.tenders(r.Tenders, total, ok)
}

func (d *Void) validate(v *validator) { v.id("voided_event_id", d.VoidedEventID, 128) }

func (a *Adjustment) validate(v *validator) {
	if strings.TrimSpace(a.Reason) == "" {
		v.fail("reason", "required", "is required (damaged, theft, found, correction, …)")
	}
	v.text("reason", a.Reason, 200)
	v.lines(a.Lines, -2)
}

func (r *Receipt) validate(v *validator) { v.lines(r.Lines, 1) }

func (t *TransferOut) validate(v *validator) {
	v.id("transfer_id", t.TransferID, 128)
	v.id("to_location", t.ToLocation, 64)
	v.lines(t.Lines, 1)
}

func (t *TransferIn) validate(v *validator) {
	v.id("transfer_id", t.TransferID, 128)
	v.id("from_location", t.FromLocation, 64)
	v.lines(t.Lines, 1)
}

func (c *StockCount) validate(v *validator) {
	v.lines(c.Lines, 0)
	seen := make(map[string]bool, len(c.Lines))
	for i, l := range c.Lines {
		if seen[l.SKU] {
			v.in("lines", i, func() { v.fail("sku", "unique", fmt.Sprintf("%q is counted twice in one count", l.SKU)) })
		}
		seen[l.SKU] = true
	}
}

func (d *DrawerCount) validate(v *validator) {
	v.id("register", d.Register, 64)
	v.currency(d.Currency)
	v.amount("counted", d.Counted)
	if d.Expected != nil {
		v.amount("expected", *d.Expected)
	}
}

func (o *OnlineOrder) validate(v *validator) {
	v.id("order_id", o.OrderID, 128)
	v.id("channel", o.Channel, 64)
	v.currency(o.Currency)
	v.saleLines(o.Lines)
}

func (f *Fulfilment) validate(v *validator) {
	v.id("order_id", f.OrderID, 128)
	v.lines(f.Lines, 1)
}

func (c *OrderCancel) validate(v *validator) { v.id("order_id", c.OrderID, 128) }
