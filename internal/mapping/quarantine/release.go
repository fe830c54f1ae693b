package quarantine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/store"
)

// ActApprove is the inbox action that maps an unknown code to the chosen
// suggestion's SKU and releases what it was holding.
const ActApprove = "approve"

// pageSize is how many held rows a sweep reads at a time.
const pageSize = 500

// Key is the inbox key of the exception for a source's unknown code.
func Key(source, code string) string {
	return string(inbox.MappingUnknownSKU) + "/" + source + "/" + code
}

// Released says what a release did.
type Released struct {
	// Events are the IDs appended to the log (or found there from an
	// earlier, interrupted release), in release order.
	Events []string `json:"events"`
	// Waiting is how many events are still held.
	Waiting int `json:"waiting"`
	// Resolved are the inbox exceptions closed because nothing waits for
	// their code any more.
	Resolved []string `json:"resolved,omitempty"`
}

// each calls f with every held row, oldest first, a page at a time.
func (q *Quarantine) each(ctx context.Context, f func([]store.QuarantinedEvent) error) error {
	var afterAt time.Time
	afterID := ""
	for {
		rows, err := q.st.Quarantined(ctx, store.QuarantineHeld, afterAt, afterID, pageSize)
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := f(rows); err != nil {
			return err
		}
		last := rows[len(rows)-1]
		afterAt, afterID = last.QuarantinedAt, last.ID
		if len(rows) < pageSize {
			return nil
		}
	}
}

// Release appends every held event whose codes all resolve now (after a
// rule, a mapping or a new catalog) to the log through the next sink, with
// its lines rewritten, and marks it released. The log deduplicates by
// event ID, so a release interrupted by a crash — appended but not yet
// marked — is completed by the next one without appending twice.
func (q *Quarantine) Release(ctx context.Context) (Released, error) {
	return q.release(ctx, "")
}

func (q *Quarantine) release(ctx context.Context, except string) (Released, error) {
	// One release at a time; intake waits only while a page of released
	// events is appended and marked, not while codes are resolved.
	q.relMu.Lock()
	defer q.relMu.Unlock()
	r := q.Resolver()
	rel := Released{Events: []string{}}
	seen, still := map[string]bool{}, map[string]bool{}
	err := q.each(ctx, func(rows []store.QuarantinedEvent) error {
		var evs []*event.Event
		var repairs []store.Repair
		now := q.now().UTC()
		for _, row := range rows {
			for _, c := range row.Codes {
				seen[Key(row.Source, c.Code)] = true
			}
			e, err := decode(row)
			if err != nil {
				q.log.Error("quarantined event cannot be released", "event_id", row.ID, "err", err)
				rel.Waiting++
				for _, c := range row.Codes {
					still[Key(row.Source, c.Code)] = true
				}
				continue
			}
			rw := resolve(r, e)
			if len(rw.unresolved) > 0 {
				rel.Waiting++
				for _, c := range rw.unresolved {
					still[Key(row.Source, c.Code)] = true
				}
				continue
			}
			for j := range rw.repairs {
				rw.repairs[j].At = now
			}
			repairs = append(repairs, rw.repairs...)
			rw.apply()
			evs = append(evs, e)
		}
		if len(evs) == 0 {
			return nil
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		if err := q.st.RecordRepairs(ctx, repairs); err != nil {
			return err
		}
		outs, err := q.next.Commit(ctx, evs)
		if err != nil {
			return fmt.Errorf("quarantine: release %d events: %w", len(evs), err)
		}
		seqs := map[string]int64{}
		var other []string
		for j, o := range outs {
			switch o.Status {
			case intake.StatusAccepted, intake.StatusDuplicate:
				seqs[evs[j].ID] = o.Seq
			default:
				other = append(other, evs[j].ID)
			}
		}
		if len(other) > 0 {
			// In the log already, but not as this release wrote it: an
			// earlier release under another rule, interrupted before it
			// was marked. It is in the log once; mark it released.
			inLog, err := q.st.EventsByID(ctx, other)
			if err != nil {
				return err
			}
			for _, id := range other {
				if st := inLog[id]; st != nil {
					seqs[id] = st.Seq
					continue
				}
				q.log.Error("quarantined event refused by the log", "event_id", id)
				rel.Waiting++
			}
		}
		if err := q.st.Release(ctx, seqs, now, "released"); err != nil {
			return err
		}
		for _, e := range evs {
			if _, ok := seqs[e.ID]; ok {
				rel.Events = append(rel.Events, e.ID)
			}
		}
		return nil
	})
	if err != nil {
		q.dirty.Store(true)
		return rel, err
	}
	if len(rel.Events) > 0 {
		q.log.Info("quarantined events released to the log", "events", len(rel.Events), "waiting", rel.Waiting)
	}
	if q.in == nil {
		return rel, nil
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		if !still[k] && k != except {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ok, err := q.in.AutoResolve(ctx, k, "every quarantined event with this code was released to the log", map[string]any{"released": len(rel.Events)})
		if err != nil {
			return rel, err
		}
		if ok {
			rel.Resolved = append(rel.Resolved, k)
		}
	}
	return rel, nil
}

// CodeSummary is one source's unknown code and the events waiting for it.
type CodeSummary struct {
	Source      string    `json:"source"`
	Code        string    `json:"code"`
	Description string    `json:"description,omitempty"`
	Waiting     int       `json:"events_waiting"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Locations   []string  `json:"locations"`
	// Events are up to maxSample of the waiting event IDs, oldest first.
	Events    []string `json:"event_ids"`
	Exception string   `json:"exception"`
}

const maxSample = 20

// groups reads what is held, by source and code, oldest first.
func (q *Quarantine) groups(ctx context.Context) ([]*CodeSummary, error) {
	by := map[string]*CodeSummary{}
	var order []*CodeSummary
	r := q.Resolver()
	// A held event may wait for several codes; one mapped already (its
	// event waits for another) is not listed again.
	open := map[string]bool{}
	unresolved := func(source string, c store.UnresolvedCode) bool {
		k := Key(source, c.Code)
		u, ok := open[k]
		if !ok {
			_, known := r.Catalog().Item(c.Code)
			u = !known && !r.Suggest(c.Code, c.Description, source).AutoApply
			open[k] = u
		}
		return u
	}
	err := q.each(ctx, func(rows []store.QuarantinedEvent) error {
		for _, row := range rows {
			seen := map[string]bool{}
			for _, c := range row.Codes {
				k := Key(row.Source, c.Code)
				if seen[k] || !unresolved(row.Source, c) {
					continue
				}
				seen[k] = true
				g := by[k]
				if g == nil {
					g = &CodeSummary{Source: row.Source, Code: c.Code, FirstSeen: row.QuarantinedAt, Exception: k}
					by[k] = g
					order = append(order, g)
				}
				g.Waiting++
				g.LastSeen = row.QuarantinedAt
				if g.Description == "" {
					g.Description = c.Description
				}
				if len(g.Events) < maxSample {
					g.Events = append(g.Events, row.ID)
				}
				found := false
				for _, l := range g.Locations {
					found = found || l == row.Location
				}
				if !found {
					g.Locations = append(g.Locations, row.Location)
				}
			}
		}
		return nil
	})
	return order, err
}

// Raise brings the inbox up to date with what is held: one
// mapping_unknown_sku exception per source and code, with the waiting
// events as evidence and the resolver's ranked candidates as suggestions
// (action approve, payload {"sku": …}). Raising again with nothing new
// changes nothing.
func (q *Quarantine) Raise(ctx context.Context) error {
	if q.in == nil {
		return nil
	}
	gs, err := q.groups(ctx)
	if err != nil {
		return err
	}
	r := q.Resolver()
	var errs []error
	for _, g := range gs {
		s := r.Suggest(g.Code, g.Description, g.Source)
		suggs := make([]inbox.Suggestion, 0, len(s.Candidates))
		for _, c := range s.Candidates {
			payload, _ := json.Marshal(map[string]string{"sku": c.SKU})
			label := fmt.Sprintf("map %q to %s (%s", g.Code, c.SKU, c.Evidence)
			if c.Detail != "" {
				label += ": " + c.Detail
			}
			suggs = append(suggs, inbox.Suggestion{Label: label + ")", Confidence: c.Confidence, Action: ActApprove, Payload: payload})
		}
		loc := ""
		if len(g.Locations) == 1 {
			loc = g.Locations[0]
		}
		evidence := struct {
			*CodeSummary
			Candidates any `json:"candidates"`
		}{g, s.Candidates}
		title := fmt.Sprintf("Unknown code %q from %s: %d event(s) held until it is mapped", g.Code, g.Source, g.Waiting)
		if len(suggs) == 0 {
			title += " (no catalog SKU looks like it)"
		}
		_, _, err := q.in.Raise(ctx, inbox.Problem{
			Key: g.Exception, Kind: inbox.MappingUnknownSKU, Severity: inbox.SeverityWarning, Location: loc,
			Subject: g.Code, Title: title, Evidence: evidence, Suggestions: suggs, Actions: []string{ActApprove},
			Observation: fmt.Sprintf("%d@%d", g.Waiting, g.LastSeen.UnixMicro()),
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("raise %s: %w", g.Exception, err))
		}
	}
	return errors.Join(errs...)
}

// Approve is the inbox handler of ActApprove: the chosen suggestion's SKU
// becomes a rule for the exception's source and code, and every held event
// whose codes now all resolve is released.
func (q *Quarantine) Approve() inbox.Handler {
	return inbox.HandlerFunc(func(ctx context.Context, x inbox.Exception, a inbox.Action, s *inbox.Suggestion) (inbox.Result, error) {
		if s == nil {
			return inbox.Result{}, fmt.Errorf("approve on exception %d: choose a suggestion (\"suggestion\": \"1\"…)", x.ID)
		}
		var p struct {
			SKU string `json:"sku"`
		}
		if err := json.Unmarshal(s.Payload, &p); err != nil || p.SKU == "" {
			return inbox.Result{}, fmt.Errorf("approve on exception %d: suggestion %s has no sku in its payload", x.ID, s.ID)
		}
		var ev struct {
			Source string `json:"source"`
			Code   string `json:"code"`
		}
		if err := json.Unmarshal(x.Evidence, &ev); err != nil || ev.Code == "" {
			return inbox.Result{}, fmt.Errorf("approve on exception %d: evidence names no source and code", x.ID)
		}
		rule, err := q.Resolver().Confirm(ev.Source, ev.Code, p.SKU, "inbox:"+a.Actor)
		if err != nil {
			return inbox.Result{}, err
		}
		rel, err := q.release(ctx, x.Key)
		if err != nil {
			return inbox.Result{}, fmt.Errorf("rule %s %q → %s saved, but the release failed (the next sweep retries it): %w",
				ev.Source, ev.Code, p.SKU, err)
		}
		return inbox.Result{State: inbox.Resolved,
			Note:   fmt.Sprintf("%s code %q is %s from now on; %d held event(s) released to the log", ev.Source, ev.Code, p.SKU, len(rel.Events)),
			Detail: map[string]any{"rule": rule, "released": rel}}, nil
	})
}

// Run keeps the inbox in step with the quarantine — at most once a second
// while events are being held — and releases what resolves at start (a
// release a crash interrupted) and after a release that failed, every
// interval, until ctx ends. Decisions (Approve, Map) and SetResolver
// release at once themselves.
func (q *Quarantine) Run(ctx context.Context, interval time.Duration) error {
	raise := func() {
		if err := q.Raise(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("quarantine exceptions", "err", err)
		}
	}
	sweep := func() {
		if !q.held.Load() || !q.dirty.Swap(false) {
			return
		}
		if _, err := q.Release(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("quarantine release", "err", err)
		}
		raise()
	}
	q.dirty.Store(true)
	sweep()
	t := time.NewTicker(interval)
	defer t.Stop()
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
			pending = true
		case <-sec.C:
			if pending {
				pending = false
				raise()
			}
		case <-t.C:
			sweep()
		}
	}
}

// ErrRule is a decision Map refuses (a SKU not in the catalog, an empty
// code); nothing was recorded.
var ErrRule = errors.New("mapping refused")

// Mapped is what Map did.
type Mapped struct {
	Rule     mapping.Rule `json:"rule"`
	Released Released     `json:"released"`
}

// Map records a person's decision that source's code means sku — any
// catalog SKU, not only a suggested one — and releases every held event
// whose codes now all resolve; exceptions left with nothing waiting
// auto-resolve.
func (q *Quarantine) Map(ctx context.Context, source, code, sku, who string) (Mapped, error) {
	rule, err := q.Resolver().Confirm(source, code, sku, who)
	if err != nil {
		return Mapped{}, fmt.Errorf("%w: %w", ErrRule, err)
	}
	rel, err := q.release(ctx, "")
	if err != nil {
		return Mapped{Rule: rule}, fmt.Errorf("rule %s %q → %s saved, but the release failed (the next sweep retries it): %w", source, code, sku, err)
	}
	return Mapped{Rule: rule, Released: rel}, nil
}
