// Package closing is the end-of-day close of one store: sales and
// tenders of its local day, what each ERP confirmed (the completeness
// audit, with its re-deliveries), settlement matching, the cash check of
// every drawer, shrinkage scoring against the other stores' cashiers and
// registers that day, and the store's open exceptions — as one report in
// JSON and readable text.
//
// It composes the checks of internal/reconcile/...; it computes totals of
// its own only for sales and tenders. It never changes the log.
package closing

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/completeness"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/reconcile/shrinkage"
	"github.com/tillsync/tillsync/internal/store"
)

// Store is a configured store.
type Store struct {
	ID   string
	Zone string
}

// OpenCounter counts a store's open exceptions.
type OpenCounter interface {
	CountOpen(ctx context.Context, location string) (int, error)
}

// Closer closes store days against a hub's database.
type Closer struct {
	Store *store.Store
	// Stores are every configured store: the one closed, and the peers
	// its cashiers and registers are scored against.
	Stores       []Store
	Destinations []completeness.Destination
	// Cash returns a store's cash policy.
	Cash      func(store string) cash.Config
	Shrinkage shrinkage.Config
	// Inbox receives the exceptions (nil: none are raised, and the report
	// says the open count is not available unless Counter is set).
	Inbox   exception.Inbox
	Counter OpenCounter
	// Settlement, when set, is a matching engine holding settlement lines
	// (bank statements, PSP reports): the day's card tenders are matched
	// against them. Nil: the report says settlement is not available.
	Settlement *reconcile.Engine
	// Wait bounds the completeness audit's wait for re-deliveries.
	Wait time.Duration
	// ReportOnly reports without re-delivering or raising anything.
	ReportOnly bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Report is one store's closed day.
type Report struct {
	completeness.Day
	GeneratedAt time.Time `json:"generated_at"`
	// Complete is false while the day is not over in the store's zone:
	// the report is then a preview.
	Complete   bool                  `json:"day_complete"`
	Sales      []CurrencySales       `json:"sales"`
	Tenders    []TenderTotal         `json:"tenders"`
	ERP        []completeness.Result `json:"erp"`
	Settlement Settlement            `json:"settlement"`
	Cash       CashSection           `json:"cash"`
	Shrinkage  ShrinkageSection      `json:"shrinkage"`
	Exceptions Exceptions            `json:"exceptions"`
}

// CurrencySales are the day's documents in one currency. Values are
// tender totals without tips; Net = sales − returns − voided sales +
// voided returns.
type CurrencySales struct {
	Currency     string       `json:"currency"`
	Sales        int          `json:"sales"`
	SalesValue   event.Amount `json:"sales_value"`
	Returns      int          `json:"returns"`
	ReturnsValue event.Amount `json:"returns_value"`
	// NoReceiptReturns are returns with no original sale or receipt.
	NoReceiptReturns int          `json:"no_receipt_returns"`
	Voids            int          `json:"voids"`
	VoidsValue       event.Amount `json:"voids_value"`
	Discounts        event.Amount `json:"discounts"`
	Tips             event.Amount `json:"tips"`
	Net              event.Amount `json:"net"`
}

// TenderTotal is one tender kind in one currency: taken on sales,
// refunded on returns, reversed by voids.
type TenderTotal struct {
	Kind     event.TenderKind `json:"kind"`
	Currency string           `json:"currency"`
	Count    int              `json:"count"`
	Taken    event.Amount     `json:"taken"`
	Refunded event.Amount     `json:"refunded"`
	Voided   event.Amount     `json:"voided"`
	Tips     event.Amount     `json:"tips"`
	Net      event.Amount     `json:"net"`
}

// Settlement is what card settlement matching says of the day's card
// tenders: matched and open tenders, and the settlement lines (of any
// store or day in the files given) left open.
type Settlement struct {
	Available bool               `json:"available"`
	Note      string             `json:"note"`
	Summary   *reconcile.Summary `json:"summary,omitempty"`
}

// CashSection is the cash check of the day's drawers.
type CashSection struct {
	Shifts     []cash.Shift            `json:"shifts"`
	Unassigned map[string]event.Amount `json:"unassigned,omitempty"`
	Problems   []string                `json:"problems,omitempty"`
	// Variance is the sum of counted shifts' variances per currency.
	Variance map[string]event.Amount `json:"variance"`
	// OutOfTolerance counts counted shifts outside the tolerance.
	OutOfTolerance int `json:"out_of_tolerance"`
	// Registers sum the counted shifts per register and currency.
	Registers []RegisterVariance `json:"registers"`
}

// RegisterVariance is one register's counted shifts of the day.
type RegisterVariance struct {
	Register       string       `json:"register"`
	Currency       string       `json:"currency"`
	Shifts         int          `json:"shifts"`
	Variance       event.Amount `json:"variance"`
	OutOfTolerance int          `json:"out_of_tolerance"`
}

// ShrinkageSection is the store's subjects that stand out from their
// peers on the day.
type ShrinkageSection struct {
	Peers     []string            `json:"peer_stores"`
	Anomalies []shrinkage.Anomaly `json:"anomalies"`
}

// Exceptions is the store's exceptions.
type Exceptions struct {
	Available bool `json:"available"`
	// Open counts the store's open and acknowledged exceptions after this
	// close.
	Open int `json:"open"`
	// Raised are the keys this close raised or updated.
	Raised []string `json:"raised"`
}

func (c *Closer) zone(id string) (string, error) {
	for _, s := range c.Stores {
		if s.ID == id {
			return s.Zone, nil
		}
	}
	ids := make([]string, len(c.Stores))
	for i, s := range c.Stores {
		ids[i] = s.ID
	}
	return "", fmt.Errorf("close: no store %q in the config (have: %v)", id, ids)
}

// lookback is how far before the day a drawer's shift may have started.
const lookback = 24 * time.Hour

// Close closes one store's local day (YYYY-MM-DD).
func (c *Closer) Close(ctx context.Context, storeID, date string) (*Report, error) {
	zone, err := c.zone(storeID)
	if err != nil {
		return nil, err
	}
	day, err := completeness.LocalDay(storeID, zone, date)
	if err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	rep := &Report{Day: day, GeneratedAt: now().UTC(), Complete: !now().Before(day.To)}
	rec := &recorder{}
	if !c.ReportOnly {
		rec.inbox = c.Inbox
	}
	// The day's events and the day before (shifts that began then, and
	// sales voided today).
	stored, err := c.Store.EventsOccurred(ctx, storeID, day.From.Add(-lookback), day.To)
	if err != nil {
		return nil, err
	}
	var before, today []*event.Event
	for _, s := range stored {
		if s.Event.OccurredAt.Before(day.From) {
			before = append(before, s.Event)
		} else {
			today = append(today, s.Event)
		}
	}
	target, err := c.targets(ctx, append(before, today...))
	if err != nil {
		return nil, err
	}
	rep.Sales, rep.Tenders = totals(today, target)

	audit := &completeness.Auditor{Store: c.Store, Destinations: c.Destinations, Inbox: rec.inbox, Wait: c.Wait, ReportOnly: c.ReportOnly}
	if rep.ERP, err = audit.Audit(ctx, day); err != nil {
		return nil, err
	}
	for _, r := range rep.ERP {
		if r.Exception != "" {
			rec.raised = append(rec.raised, r.Exception)
		}
	}

	rep.Settlement = Settlement{Note: "no settlement files given: the hub keeps no matching results of its own; pass the day's bank and PSP files to match"}
	if c.Settlement != nil {
		for _, e := range today {
			c.Settlement.AddTenders(reconcile.TendersFromEvent(e)...)
		}
		if err := c.Settlement.Run(ctx); err != nil {
			return nil, fmt.Errorf("close: settlement matching: %w", err)
		}
		sum := c.Settlement.Summary()
		rep.Settlement = Settlement{Available: true, Summary: &sum,
			Note: fmt.Sprintf("%d of %d card tenders matched; %d settlement line(s) and %d deposit(s) open", sum.MatchedTenders, sum.Tenders,
				sum.OpenLines, sum.OpenDeposits)}
	}

	policy := cash.Config{}
	if c.Cash != nil {
		policy = c.Cash(storeID)
	}
	cr := cash.Compute(storeID, append(before, today...), target, policy, day.From, day.To)
	rep.Cash = CashSection{Shifts: nonNil(cr.Shifts), Unassigned: cr.Unassigned, Problems: cr.Problems, Variance: map[string]event.Amount{}}
	rep.Cash.Registers = []RegisterVariance{}
	for _, s := range cr.Shifts {
		if s.Variance == nil {
			continue
		}
		rep.Cash.Variance[s.Currency] += *s.Variance
		i := len(rep.Cash.Registers) - 1
		if i < 0 || rep.Cash.Registers[i].Register != s.Register || rep.Cash.Registers[i].Currency != s.Currency {
			rep.Cash.Registers = append(rep.Cash.Registers, RegisterVariance{Register: s.Register, Currency: s.Currency})
			i++
		}
		r := &rep.Cash.Registers[i]
		r.Shifts++
		r.Variance += *s.Variance
		if !s.Within {
			rep.Cash.OutOfTolerance++
			r.OutOfTolerance++
		}
	}
	if in := rec.inbox; in != nil {
		if err := cash.Report(ctx, in, zone, cr.Shifts, policy.Tolerance, 0); err != nil {
			return nil, err
		}
		for _, s := range cr.Shifts {
			if s.Variance != nil && !s.Within {
				rec.raised = append(rec.raised, cash.Key(s))
			}
		}
	}

	if rep.Shrinkage, err = c.shrink(ctx, rec, day, today, cr.Shifts, target); err != nil {
		return nil, err
	}

	rep.Exceptions.Raised = nonNil(rec.raised)
	counter := c.Counter
	if counter == nil {
		counter, _ = c.Inbox.(OpenCounter)
	}
	if counter != nil {
		n, err := counter.CountOpen(ctx, storeID)
		if err != nil {
			return nil, err
		}
		rep.Exceptions.Available, rep.Exceptions.Open = true, n
	}
	return rep, nil
}

// shrink scores the store's cashiers and registers against every store's
// on the same local date (each in its own zone) and raises what stands
// out at this store.
func (c *Closer) shrink(ctx context.Context, rec *recorder, day completeness.Day, today []*event.Event, shifts []cash.Shift,
	target func(string) *event.Event) (ShrinkageSection, error) {
	sec := ShrinkageSection{Peers: []string{}, Anomalies: []shrinkage.Anomaly{}}
	evs := append([]*event.Event(nil), today...)
	allShifts := append([]cash.Shift(nil), shifts...)
	for _, s := range c.Stores {
		sec.Peers = append(sec.Peers, s.ID)
		if s.ID == day.Location {
			continue
		}
		d, err := completeness.LocalDay(s.ID, s.Zone, day.Date)
		if err != nil {
			return sec, fmt.Errorf("close: peer store %s: %w", s.ID, err)
		}
		stored, err := c.Store.EventsOccurred(ctx, s.ID, d.From.Add(-lookback), d.To)
		if err != nil {
			return sec, err
		}
		var all []*event.Event
		for _, st := range stored {
			all = append(all, st.Event)
			if !st.Event.OccurredAt.Before(d.From) {
				evs = append(evs, st.Event)
			}
		}
		policy := cash.Config{}
		if c.Cash != nil {
			policy = c.Cash(s.ID)
		}
		allShifts = append(allShifts, cash.Compute(s.ID, all, target, policy, d.From, d.To).Shifts...)
	}
	res := shrinkage.Evaluate(day.Date, evs, allShifts, target, c.Shrinkage)
	mine := shrinkage.Result{Period: res.Period}
	for _, s := range res.Scored {
		if s.Subject.Store == day.Location {
			mine.Scored = append(mine.Scored, s)
		}
	}
	for _, a := range res.Anomalies {
		if a.Subject.Store == day.Location {
			mine.Anomalies = append(mine.Anomalies, a)
			sec.Anomalies = append(sec.Anomalies, a)
			if rec.inbox != nil {
				rec.raised = append(rec.raised, shrinkage.Key(a.Subject, res.Period))
			}
		}
	}
	if in := rec.inbox; in != nil {
		if err := shrinkage.Report(ctx, in, mine); err != nil {
			return sec, err
		}
	}
	return sec, nil
}

// targets looks up voided events that are not among evs.
func (c *Closer) targets(ctx context.Context, evs []*event.Event) (func(string) *event.Event, error) {
	have := make(map[string]*event.Event, len(evs))
	for _, e := range evs {
		have[e.ID] = e
	}
	var want []string
	for _, e := range evs {
		if v, ok := e.Body.(*event.Void); ok && have[v.VoidedEventID] == nil {
			want = append(want, v.VoidedEventID)
		}
	}
	if len(want) > 0 {
		more, err := c.Store.EventsByID(ctx, want)
		if err != nil {
			return nil, err
		}
		for id, s := range more {
			have[id] = s.Event
		}
	}
	return func(id string) *event.Event { return have[id] }, nil
}

// totals adds up the day's sales, returns and voids by currency, and
// tenders by kind and currency.
func totals(evs []*event.Event, target func(string) *event.Event) ([]CurrencySales, []TenderTotal) {
	sales := map[string]*CurrencySales{}
	cur := func(c string) *CurrencySales {
		if sales[c] == nil {
			sales[c] = &CurrencySales{Currency: c}
		}
		return sales[c]
	}
	type tk struct {
		kind     event.TenderKind
		currency string
	}
	tenders := map[tk]*TenderTotal{}
	tend := func(k event.TenderKind, c string) *TenderTotal {
		key := tk{k, c}
		if tenders[key] == nil {
			tenders[key] = &TenderTotal{Kind: k, Currency: c}
		}
		return tenders[key]
	}
	for _, e := range evs {
		switch b := e.Body.(type) {
		case *event.Sale:
			s := cur(b.Currency)
			s.Sales++
			for _, l := range b.Lines {
				for _, d := range l.Discounts {
					s.Discounts += d.Amount
				}
			}
			for _, t := range b.Tenders {
				s.SalesValue += t.Amount
				s.Tips += t.Tip
				tt := tend(t.Kind, b.Currency)
				tt.Count++
				tt.Taken += t.Amount
				tt.Tips += t.Tip
			}
		case *event.Return:
			s := cur(b.Currency)
			s.Returns++
			if b.OriginalEventID == "" && b.OriginalReceipt == "" {
				s.NoReceiptReturns++
			}
			for _, t := range b.Tenders {
				s.ReturnsValue += t.Amount
				tt := tend(t.Kind, b.Currency)
				tt.Count++
				tt.Refunded += t.Amount
			}
		case *event.Void:
			orig := target(b.VoidedEventID)
			if orig == nil {
				continue
			}
			var ts []event.Tender
			var currency string
			sign := event.Amount(1)
			switch ob := orig.Body.(type) {
			case *event.Sale:
				ts, currency = ob.Tenders, ob.Currency
			case *event.Return:
				ts, currency, sign = ob.Tenders, ob.Currency, -1
			default:
				continue
			}
			s := cur(currency)
			s.Voids++
			for _, t := range ts {
				s.VoidsValue += sign * t.Amount
				tend(t.Kind, currency).Voided += sign * t.Amount
			}
		}
	}
	outS := make([]CurrencySales, 0, len(sales))
	for _, s := range sales {
		s.Net = s.SalesValue - s.ReturnsValue - s.VoidsValue
		outS = append(outS, *s)
	}
	sort.Slice(outS, func(i, j int) bool { return outS[i].Currency < outS[j].Currency })
	outT := make([]TenderTotal, 0, len(tenders))
	for _, t := range tenders {
		t.Net = t.Taken - t.Refunded - t.Voided
		outT = append(outT, *t)
	}
	sort.Slice(outT, func(i, j int) bool {
		if outT[i].Currency != outT[j].Currency {
			return outT[i].Currency < outT[j].Currency
		}
		return outT[i].Kind < outT[j].Kind
	})
	return outS, outT
}

// recorder passes exceptions on to the inbox.
type recorder struct {
	inbox  exception.Inbox
	raised []string
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// Audit runs only the completeness audit of a store's day: the hub runs
// it again for the day before each close, for events of stores that came
// back online after their day was closed.
func (c *Closer) Audit(ctx context.Context, storeID, date string) ([]completeness.Result, error) {
	zone, err := c.zone(storeID)
	if err != nil {
		return nil, err
	}
	day, err := completeness.LocalDay(storeID, zone, date)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	a := &completeness.Auditor{Store: c.Store, Destinations: c.Destinations, Wait: c.Wait, ReportOnly: c.ReportOnly}
	if !c.ReportOnly {
		a.Inbox = c.Inbox
	}
	return a.Audit(ctx, day)
}
