// Package completeness audits that every POS document of a store's day
// reached each ERP destination: per store, local day and destination it
// counts the documents the log says the destination must have and their
// value, against what the ERP confirmed. What the ERP never confirmed is
// re-delivered through the destination's own replay path; an exception is
// raised only for what is still not confirmed after that attempt, and
// resolved by a later audit that finds it confirmed.
//
// It reads the log and the destinations' delivery records; it never posts
// to an ERP itself, and never moves a destination's cursor except by the
// operator requests every destination already obeys (replay, rewind).
package completeness

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/store"
)

// Destination is what the audit needs of an ERP destination's config: the
// same filters the destination applies.
type Destination struct {
	Name string
	// Summary destinations post periodic totals; their sales and refunds
	// are confirmed through the summaries that carried them.
	Summary bool
	// Types and Locations filter events (nil: all), as in
	// destination.ERPConfig.
	Types     map[event.Type]bool
	Locations map[string]bool
}

func (d Destination) takes(e *event.Event) bool {
	return (d.Types == nil || d.Types[e.Type]) && (d.Locations == nil || d.Locations[e.Location])
}

// Totals counts documents and their value per currency. A sale counts its
// tenders (tips excluded) positive, a refund negative; stock documents
// count with no value.
type Totals struct {
	Count int                     `json:"count"`
	Value map[string]event.Amount `json:"value"`
}

func (t *Totals) add(d Doc) {
	t.Count++
	if t.Value == nil {
		t.Value = map[string]event.Amount{}
	}
	if d.Currency != "" {
		t.Value[d.Currency] += d.Value
	}
}

// Doc is one POS document the audit looked at.
type Doc struct {
	EventID  string       `json:"event_id"`
	Seq      int64        `json:"seq"`
	Kind     string       `json:"kind"`
	Currency string       `json:"currency,omitempty"`
	Value    event.Amount `json:"value"`
	// State is why it is not confirmed: missing (the destination passed
	// it without a confirmation), dead_letter (parked after failing) or
	// replaying (queued for re-delivery, not yet done).
	State string `json:"state,omitempty"`
	// Error is the ERP's last answer for a dead letter.
	Error string `json:"error,omitempty"`

	ev      *store.Stored
	deadID  string // the dead letter carrying it, if any
	deadSt  string
	summary bool // posted as part of a summary
	money   bool // a sale or refund: summary destinations carry it in a summary
}

// Doc states.
const (
	StateMissing   = "missing"
	StateDead      = "dead_letter"
	StateReplaying = "replaying"
)

// Result is the audit of one destination for one store's day.
type Result struct {
	Destination string `json:"destination"`
	Day
	// Expected are the documents the destination must have; Confirmed
	// those the ERP confirmed; Pending those after its cursor (not yet
	// due: in flight or queued).
	Expected  Totals `json:"expected"`
	Confirmed Totals `json:"confirmed"`
	Pending   Totals `json:"pending"`
	// Redelivered is how many documents this audit asked the destination
	// to deliver again; Recovered how many of them the ERP then confirmed.
	Redelivered int `json:"redelivered"`
	Recovered   int `json:"recovered"`
	// Missing are the documents still not confirmed after re-delivery.
	Missing []Doc `json:"missing"`
	// Exception is the key of the exception raised for them ("" if none).
	Exception string `json:"exception,omitempty"`
}

// Complete reports whether every due document is confirmed.
func (r *Result) Complete() bool { return len(r.Missing) == 0 }

// Auditor runs the audit against a hub's store.
type Auditor struct {
	Store        *store.Store
	Destinations []Destination
	// Inbox receives erp_missing exceptions (nil: none are raised).
	Inbox exception.Inbox
	// Wait is how long the audit waits for its re-deliveries to be
	// confirmed before it calls them failed (default 30s; it stops
	// waiting as soon as each is confirmed or refused again).
	Wait time.Duration
	// ReportOnly counts and lists without re-delivering or raising.
	ReportOnly bool
	// Poll is how often it looks while waiting (default 250ms).
	Poll time.Duration
}

// Audit checks one store's day against every destination.
func (a *Auditor) Audit(ctx context.Context, day Day) ([]Result, error) {
	evs, err := a.Store.EventsOccurred(ctx, day.Location, day.From, day.To)
	if err != nil {
		return nil, err
	}
	docs, err := documents(ctx, a.Store, evs)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(a.Destinations))
	for _, dest := range a.Destinations {
		r, err := a.auditOne(ctx, day, dest, docs)
		if err != nil {
			return nil, fmt.Errorf("completeness of %s on %s for %s: %w", day.Location, day.Date, dest.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// documents maps the day's events to the documents they become.
func documents(ctx context.Context, st *store.Store, evs []*store.Stored) ([]Doc, error) {
	have := make(map[string]*event.Event, len(evs))
	var want []string
	for _, s := range evs {
		have[s.Event.ID] = s.Event
	}
	for _, s := range evs {
		if v, ok := s.Event.Body.(*event.Void); ok && have[v.VoidedEventID] == nil {
			want = append(want, v.VoidedEventID)
		}
	}
	if len(want) > 0 {
		more, err := st.EventsByID(ctx, want)
		if err != nil {
			return nil, err
		}
		for id, s := range more {
			have[id] = s.Event
		}
	}
	lookup := func(id string) *event.Event { return have[id] }
	var out []Doc
	for _, s := range evs {
		doc, ok, err := erp.Detail(s.Event, lookup)
		d := Doc{EventID: s.Event.ID, Seq: s.Seq, ev: s}
		switch {
		case err != nil:
			// A void of a sale the log does not hold: the destination
			// parks it; it is still a document the ERP should have.
			d.Kind = string(erp.CashRefund)
		case !ok:
			continue // drawer counts post nothing
		default:
			d.Kind = string(doc.Kind)
			d.Currency, d.Value = doc.Currency, docValue(doc)
		}
		d.money = d.Kind == string(erp.CashSale) || d.Kind == string(erp.CashRefund)
		out = append(out, d)
	}
	return out, nil
}

// docValue is a document's signed tender total: sales positive, refunds
// negative, tips left out.
func docValue(d *erp.Document) event.Amount {
	var v int64
	for _, p := range d.Payments {
		v += p.Amount
	}
	switch d.Kind {
	case erp.CashSale:
		return event.Amount(v)
	case erp.CashRefund:
		return event.Amount(-v)
	}
	return 0
}

// confirmation is what the store says of a destination's documents.
type confirmation struct {
	confirmed map[string]bool
	dead      map[string]store.DeadLetter // event ID → dead letter carrying it
	cursor    int64
}

func (a *Auditor) confirmations(ctx context.Context, dest Destination, docs []Doc) (*confirmation, error) {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.EventID
	}
	c := &confirmation{dead: map[string]store.DeadLetter{}}
	var err error
	if c.confirmed, err = a.Store.DeliveredIDs(ctx, dest.Name, ids); err != nil {
		return nil, err
	}
	if dest.Summary {
		sum, err := a.Store.Summarized(ctx, dest.Name, ids)
		if err != nil {
			return nil, err
		}
		for id := range sum {
			c.confirmed[id] = true
		}
	}
	for _, state := range []string{store.DeadParked, store.DeadReplay} {
		dls, err := a.Store.DeadLetters(ctx, dest.Name, state, 1<<20)
		if err != nil {
			return nil, err
		}
		for _, dl := range dls {
			// A detail document's external ID is its event's ID; only a
			// summary carries others.
			var doc struct {
				EventIDs []string `json:"event_ids"`
			}
			if dl.Kind != string(erp.Summary) || json.Unmarshal([]byte(dl.Document), &doc) != nil || len(doc.EventIDs) == 0 {
				doc.EventIDs = []string{dl.ExternalID}
			}
			for _, id := range doc.EventIDs {
				c.dead[id] = dl
			}
		}
	}
	if c.cursor, err = a.Store.Cursor(ctx, dest.Name); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *Auditor) auditOne(ctx context.Context, day Day, dest Destination, all []Doc) (Result, error) {
	r := Result{Destination: dest.Name, Day: day, Expected: Totals{Value: map[string]event.Amount{}},
		Confirmed: Totals{Value: map[string]event.Amount{}}, Pending: Totals{Value: map[string]event.Amount{}}, Missing: []Doc{}}
	var docs []Doc
	for _, d := range all {
		if dest.takes(d.ev.Event) {
			d.summary = dest.Summary && d.money
			docs = append(docs, d)
			r.Expected.add(d)
		}
	}
	c, err := a.confirmations(ctx, dest, docs)
	if err != nil {
		return r, err
	}
	open := a.classify(c, docs, &r)
	if len(open) > 0 && !a.ReportOnly {
		if r.Redelivered, err = a.redeliver(ctx, dest, open); err != nil {
			return r, err
		}
		if _, err := a.wait(ctx, dest, open); err != nil {
			return r, err
		}
		if c, err = a.confirmations(ctx, dest, docs); err != nil {
			return r, err
		}
		for _, d := range open {
			if c.confirmed[d.EventID] {
				r.Recovered++
			}
		}
		r.Confirmed = Totals{Value: map[string]event.Amount{}}
		r.Pending = Totals{Value: map[string]event.Amount{}}
		open = a.classify(c, docs, &r)
	}
	r.Missing = append(r.Missing, open...)
	if a.ReportOnly {
		return r, nil
	}
	return r, a.report(ctx, dest, &r)
}

// classify adds confirmed and pending documents to r and returns the open
// ones (due but not confirmed) with their state.
func (a *Auditor) classify(c *confirmation, docs []Doc, r *Result) []Doc {
	var open []Doc
	for _, d := range docs {
		if c.confirmed[d.EventID] {
			r.Confirmed.add(d)
			continue
		}
		if dl, ok := c.dead[d.EventID]; ok {
			d.deadID, d.deadSt, d.Error = dl.ExternalID, dl.State, dl.Error
			d.State = StateDead
			if dl.State == store.DeadReplay {
				d.State = StateReplaying
			}
			open = append(open, d)
			continue
		}
		if d.Seq > c.cursor {
			r.Pending.add(d)
			continue
		}
		d.State = StateMissing
		open = append(open, d)
	}
	return open
}

// redeliver asks the destination to deliver the open documents again:
// parked dead letters are replayed, documents it passed without a
// confirmation are queued as replays (detail) or re-summarized by
// rewinding to just before the first of them (summary: the rewind skips
// what delivered summaries already carry). It returns how many were asked.
func (a *Auditor) redeliver(ctx context.Context, dest Destination, open []Doc) (int, error) {
	var parked []string
	seen := map[string]bool{}
	var missing []*store.Stored
	rewind := int64(-1)
	n := 0
	for _, d := range open {
		switch d.State {
		case StateDead:
			if !seen[d.deadID] {
				seen[d.deadID] = true
				parked = append(parked, d.deadID)
			}
			n++
		case StateReplaying:
			n++ // already asked; wait for it too
		case StateMissing:
			if d.summary {
				if rewind < 0 || d.Seq-1 < rewind {
					rewind = d.Seq - 1
				}
			} else {
				missing = append(missing, d.ev)
			}
			n++
		}
	}
	if len(parked) > 0 {
		// The documents parked behind one of these in its thread go too,
		// so the ERP gets the thread in order (a sale before its void).
		threads := map[string]bool{}
		all, err := a.Store.DeadLetters(ctx, dest.Name, store.DeadParked, 1<<20)
		if err != nil {
			return 0, err
		}
		for _, dl := range all {
			if seen[dl.ExternalID] {
				threads[dl.Thread] = true
			}
		}
		for _, dl := range all {
			if threads[dl.Thread] && !seen[dl.ExternalID] {
				seen[dl.ExternalID] = true
				parked = append(parked, dl.ExternalID)
			}
		}
		if _, err := a.Store.RequestReplay(ctx, dest.Name, parked); err != nil {
			return 0, err
		}
	}
	if len(missing) > 0 {
		targets, err := voidTargets(ctx, a.Store, missing)
		if err != nil {
			return 0, err
		}
		if _, err := destination.Redeliver(ctx, a.Store, dest.Name, missing, targets,
			"completeness audit: the ERP never confirmed this document; re-delivered"); err != nil {
			return 0, err
		}
	}
	if rewind >= 0 {
		if err := a.Store.RequestRewind(ctx, dest.Name, rewind); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func voidTargets(ctx context.Context, st *store.Store, evs []*store.Stored) (func(string) *event.Event, error) {
	var ids []string
	for _, s := range evs {
		if v, ok := s.Event.Body.(*event.Void); ok {
			ids = append(ids, v.VoidedEventID)
		}
	}
	found := map[string]*store.Stored{}
	if len(ids) > 0 {
		var err error
		if found, err = st.EventsByID(ctx, ids); err != nil {
			return nil, err
		}
	}
	return func(id string) *event.Event {
		if s := found[id]; s != nil {
			return s.Event
		}
		return nil
	}, nil
}

// wait polls until every re-delivered document is confirmed or parked
// again (the ERP refused it once more), or Wait passes. It returns the
// documents still open.
func (a *Auditor) wait(ctx context.Context, dest Destination, open []Doc) ([]Doc, error) {
	poll := a.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	wait := a.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		c, err := a.confirmations(ctx, dest, open)
		if err != nil {
			return nil, err
		}
		var still []Doc
		settled := true
		for _, d := range open {
			if c.confirmed[d.EventID] {
				continue
			}
			still = append(still, d)
			dl, dead := c.dead[d.EventID]
			if !dead || dl.State != store.DeadParked {
				settled = false // queued, rewinding or in flight
			}
		}
		if len(still) == 0 || settled || !time.Now().Before(deadline) {
			return still, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Key is the exception key of a destination's missing documents for a
// store's day.
func Key(destination string, day Day) string {
	return exception.KindERPMissing + ":" + destination + ":" + day.Location + ":" + day.Date
}

// report raises the exception for what is still missing, or resolves the
// one an earlier audit raised.
func (a *Auditor) report(ctx context.Context, dest Destination, r *Result) error {
	if a.Inbox == nil {
		return nil
	}
	key := Key(dest.Name, r.Day)
	if r.Complete() {
		return a.Inbox.Resolve(ctx, key, fmt.Sprintf("completeness audit: all %d due documents confirmed by %s", r.Confirmed.Count, dest.Name))
	}
	sev := exception.Warning
	value := map[string]event.Amount{}
	states := map[string]int{}
	for _, d := range r.Missing {
		if d.Currency != "" {
			value[d.Currency] += d.Value
			sev = exception.Critical // money the ERP's books lack
		}
		states[d.State]++
	}
	shown := r.Missing
	if len(shown) > 200 {
		shown = shown[:200]
	}
	r.Exception = key
	return a.Inbox.Raise(ctx, exception.Exception{
		Key: key, Kind: exception.KindERPMissing, Severity: sev, Location: r.Location, Zone: r.Zone, Subject: dest.Name,
		Title: fmt.Sprintf("%d document(s) of %s on %s not confirmed by %s after re-delivery (%s)",
			len(r.Missing), r.Location, r.Date, dest.Name, describeStates(states)),
		Evidence: map[string]any{
			"destination": dest.Name, "store": r.Location, "date": r.Date,
			"expected": r.Expected, "confirmed": r.Confirmed, "pending": r.Pending,
			"missing_count": len(r.Missing), "missing_value": value, "redelivered": r.Redelivered, "recovered": r.Recovered,
			"missing": shown,
		},
	})
}

func describeStates(states map[string]int) string {
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", states[k], k)
	}
	return strings.Join(parts, ", ")
}
