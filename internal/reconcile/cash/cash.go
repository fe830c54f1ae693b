// Package cash checks tills' cash: for each register and shift — the time
// between two drawer counts of that register — the cash that should be in
// the drawer against what was counted.
//
//	expected = float + cash taken on sales (tips included)
//	         − cash refunded on returns − cash given back on voids of sales
//	         + cash taken back on voids of refunds − payouts
//	variance = counted − expected   (negative: the drawer is short)
//
// The canonical DrawerCount has no payout or float fields, so they come
// from the count event's attributes when the POS sends them ("payouts":
// cash taken out of the drawer during the shift for petty expenses or
// tips paid to staff; "float": the float the shift started with, in minor
// units) and otherwise from configuration (the register's float; no
// payouts). The package computes; it stores nothing. Report raises a
// cash_variance exception for a shift outside the tolerance.
package cash

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// Attribute names read from a DrawerCount event.
const (
	AttrPayouts = "payouts"
	AttrFloat   = "float"
)

// Config is one store's cash policy.
type Config struct {
	// Floats are the opening floats by register; DefaultFloat is used for
	// a register not listed. A count's "float" attribute wins over both.
	Floats       map[string]event.Amount
	DefaultFloat event.Amount
	// Tolerance is the largest variance (either sign, minor units) that
	// still counts as balanced.
	Tolerance event.Amount
}

func (c Config) float(register string) event.Amount {
	if f, ok := c.Floats[register]; ok {
		return f
	}
	return c.DefaultFloat
}

// Shift is one register's cash between two counts.
type Shift struct {
	Store    string `json:"store"`
	Register string `json:"register"`
	// Cashier is who counted (the count's cashier).
	Cashier  string `json:"cashier,omitempty"`
	Currency string `json:"currency"`
	// Start is the previous count of the register (zero: none known, the
	// shift starts where the data does); End is this count.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// CountEventID is the drawer count closing the shift; empty for an
	// open shift (cash taken after the last count).
	CountEventID string `json:"count_event_id,omitempty"`
	Open         bool   `json:"open,omitempty"`

	Float       event.Amount `json:"float"`
	CashSales   event.Amount `json:"cash_sales"`
	CashRefunds event.Amount `json:"cash_refunds"`
	// VoidedNet is cash given back by voids (voided sales minus voided
	// refunds).
	VoidedNet event.Amount  `json:"voided_net"`
	Payouts   event.Amount  `json:"payouts"`
	Expected  event.Amount  `json:"expected"`
	Counted   *event.Amount `json:"counted,omitempty"`
	Variance  *event.Amount `json:"variance,omitempty"`
	// POSExpected is what the till itself expected, when it says.
	POSExpected *event.Amount `json:"pos_expected,omitempty"`
	Within      bool          `json:"within_tolerance"`

	Sales   int `json:"sales"`
	Refunds int `json:"refunds"`
	Voids   int `json:"voids"`
	// Events are the cash documents of the shift (evidence).
	Events []string `json:"events"`
}

// move is one cash movement at a register.
type move struct {
	at       time.Time
	register string
	currency string
	id       string
	sale     event.Amount // cash in on a sale
	refund   event.Amount // cash out on a return
	voided   event.Amount // cash out by a void (negative: in)
	kind     int          // 1 sale, 2 refund, 3 void
}

// Result is a store's shifts over a window.
type Result struct {
	Shifts []Shift `json:"shifts"`
	// Unassigned is cash taken on documents with no register, by
	// currency: it cannot be checked against any drawer.
	Unassigned map[string]event.Amount `json:"unassigned,omitempty"`
	// Problems are counts the check could not use (a bad attribute).
	Problems []string `json:"problems,omitempty"`
}

// Compute checks the shifts of one store whose count falls in [from, to),
// plus the open shift of every register with cash taken in the window
// after its last count. events must include the store's events from the
// start of the earliest such shift (in practice: a day before from); they
// are sorted by time here. target looks up the event a void reverses when
// it is not among events (nil: only events are searched).
func Compute(store string, events []*event.Event, target func(id string) *event.Event, cfg Config, from, to time.Time) Result {
	evs := append([]*event.Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].OccurredAt.Before(evs[j].OccurredAt) })
	lookup := Lookup(evs, target)
	var res Result
	var moves []move
	counts := map[string][]*event.Event{}
	for _, e := range evs {
		if e.Location != store {
			continue
		}
		if dc, ok := e.Body.(*event.DrawerCount); ok {
			counts[dc.Register] = append(counts[dc.Register], e)
			continue
		}
		m, ok := cashMove(e, lookup)
		if !ok {
			continue
		}
		if m.register == "" {
			if !m.at.Before(from) && m.at.Before(to) {
				if res.Unassigned == nil {
					res.Unassigned = map[string]event.Amount{}
				}
				res.Unassigned[m.currency] += m.sale - m.refund - m.voided
			}
			continue
		}
		moves = append(moves, m)
	}
	// A drawer is a register's cash in one currency.
	type drawer struct{ register, currency string }
	drawers := map[drawer]bool{}
	byDrawer := map[drawer][]*event.Event{}
	for r, cs := range counts {
		for _, c := range cs {
			d := drawer{r, c.Body.(*event.DrawerCount).Currency}
			drawers[d] = true
			byDrawer[d] = append(byDrawer[d], c)
		}
	}
	for _, m := range moves {
		if !m.at.Before(from) && m.at.Before(to) {
			drawers[drawer{m.register, m.currency}] = true
		}
	}
	keys := make([]drawer, 0, len(drawers))
	for d := range drawers {
		keys = append(keys, d)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].register != keys[j].register {
			return keys[i].register < keys[j].register
		}
		return keys[i].currency < keys[j].currency
	})
	for _, d := range keys {
		var prev time.Time
		for _, c := range byDrawer[d] {
			if !c.OccurredAt.Before(to) {
				break
			}
			if !c.OccurredAt.Before(from) {
				s, err := closedShift(store, c, prev, moves, cfg)
				if err != nil {
					res.Problems = append(res.Problems, err.Error())
				} else {
					res.Shifts = append(res.Shifts, s)
				}
			}
			prev = c.OccurredAt
		}
		// Cash taken after the drawer's last count before to: an open
		// shift.
		s := Shift{Store: store, Register: d.register, Currency: d.currency, Start: prev, Open: true, Float: cfg.float(d.register)}
		tally(&s, moves, prev, to, false)
		if s.Sales+s.Refunds+s.Voids == 0 {
			continue
		}
		s.Expected = s.Float + s.CashSales - s.CashRefunds - s.VoidedNet - s.Payouts
		res.Shifts = append(res.Shifts, s)
	}
	return res
}

func closedShift(store string, c *event.Event, prev time.Time, moves []move, cfg Config) (Shift, error) {
	dc := c.Body.(*event.DrawerCount)
	s := Shift{Store: store, Register: dc.Register, Cashier: dc.Cashier, Currency: dc.Currency, Start: prev, End: c.OccurredAt,
		CountEventID: c.ID, Float: cfg.float(dc.Register), POSExpected: dc.Expected}
	if v, ok := c.Attributes[AttrFloat]; ok {
		f, err := attrAmount(v)
		if err != nil {
			return s, fmt.Errorf("drawer count %s (register %s): attribute %s: %w", c.ID, dc.Register, AttrFloat, err)
		}
		s.Float = f
	}
	if v, ok := c.Attributes[AttrPayouts]; ok {
		p, err := attrAmount(v)
		if err != nil {
			return s, fmt.Errorf("drawer count %s (register %s): attribute %s: %w", c.ID, dc.Register, AttrPayouts, err)
		}
		s.Payouts = p
	}
	tally(&s, moves, prev, c.OccurredAt, true)
	s.Expected = s.Float + s.CashSales - s.CashRefunds - s.VoidedNet - s.Payouts
	counted := dc.Counted
	variance := counted - s.Expected
	s.Counted, s.Variance = &counted, &variance
	s.Within = abs(variance) <= cfg.Tolerance
	return s, nil
}

// tally adds the register's cash moves in the shift's currency in
// (after, until] (until itself excluded when closed is false).
func tally(s *Shift, moves []move, after, until time.Time, closed bool) {
	for _, m := range moves {
		if m.register != s.Register || m.currency != s.Currency || !m.at.After(after) {
			continue
		}
		if m.at.After(until) || (!closed && !m.at.Before(until)) {
			continue
		}
		s.CashSales += m.sale
		s.CashRefunds += m.refund
		s.VoidedNet += m.voided
		switch m.kind {
		case 1:
			s.Sales++
		case 2:
			s.Refunds++
		case 3:
			s.Voids++
		}
		s.Events = append(s.Events, m.id)
	}
}

// cashMove returns the cash an event moves at its register, if any.
func cashMove(e *event.Event, lookup func(string) *event.Event) (move, bool) {
	m := move{at: e.OccurredAt, id: e.ID}
	switch b := e.Body.(type) {
	case *event.Sale:
		m.register, m.currency, m.kind = b.Register, b.Currency, 1
		m.sale = cashOf(b.Tenders)
		return m, m.sale != 0
	case *event.Return:
		m.register, m.currency, m.kind = b.Register, b.Currency, 2
		m.refund = cashOf(b.Tenders)
		return m, m.refund != 0
	case *event.Void:
		t := lookup(b.VoidedEventID)
		if t == nil {
			return m, false
		}
		m.kind = 3
		switch tb := t.Body.(type) {
		case *event.Sale:
			m.register, m.currency, m.voided = tb.Register, tb.Currency, cashOf(tb.Tenders)
		case *event.Return:
			m.register, m.currency, m.voided = tb.Register, tb.Currency, -cashOf(tb.Tenders)
		default:
			return m, false
		}
		if b.Register != "" {
			m.register = b.Register // the cash goes back out of the voiding till
		}
		return m, m.voided != 0
	}
	return m, false
}

func cashOf(ts []event.Tender) event.Amount {
	var n event.Amount
	for _, t := range ts {
		if t.Kind == event.TenderCash {
			n += t.Amount + t.Tip
		}
	}
	return n
}

func attrAmount(v string) (event.Amount, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer amount in minor units", v)
	}
	return event.Amount(n), nil
}

func abs(a event.Amount) event.Amount {
	if a < 0 {
		return -a
	}
	return a
}

// Key is the exception key of a shift's variance.
func Key(s Shift) string {
	return exception.KindCashVariance + ":" + s.Store + ":" + s.Register + ":" + s.CountEventID
}

// Report raises a cash_variance exception for every counted shift outside
// the tolerance and resolves the key of every shift within it. Critical
// is the variance from which an exception is critical rather than a
// warning (0: ten times the tolerance, at least one major unit).
func Report(ctx context.Context, inbox exception.Inbox, zone string, shifts []Shift, tolerance, critical event.Amount) error {
	for _, s := range shifts {
		if s.Open || s.Variance == nil {
			continue
		}
		key := Key(s)
		if s.Within {
			if err := inbox.Resolve(ctx, key, "drawer balanced within tolerance"); err != nil {
				return err
			}
			continue
		}
		limit := critical
		if limit <= 0 {
			limit = max(10*tolerance, 100)
		}
		sev := exception.Warning
		if abs(*s.Variance) >= limit {
			sev = exception.Critical
		}
		word := "over"
		if *s.Variance < 0 {
			word = "short"
		}
		err := inbox.Raise(ctx, exception.Exception{Key: key, Kind: exception.KindCashVariance, Severity: sev,
			Location: s.Store, Zone: zone, Subject: "register " + s.Register,
			Title: fmt.Sprintf("register %s drawer %s by %s (counted %s, expected %s)", s.Register, word,
				event.Money{Amount: abs(*s.Variance), Currency: s.Currency}, event.Money{Amount: *s.Counted, Currency: s.Currency},
				event.Money{Amount: s.Expected, Currency: s.Currency}),
			Evidence: map[string]any{"shift": s, "tolerance": tolerance}})
		if err != nil {
			return err
		}
	}
	return nil
}

// Lookup finds an event by ID among events, then through target (which
// may be nil): how a void or a return finds the sale it refers to.
func Lookup(events []*event.Event, target func(id string) *event.Event) func(id string) *event.Event {
	byID := make(map[string]*event.Event, len(events))
	for _, e := range events {
		byID[e.ID] = e
	}
	return func(id string) *event.Event {
		if e := byID[id]; e != nil {
			return e
		}
		if target != nil {
			return target(id)
		}
		return nil
	}
}
