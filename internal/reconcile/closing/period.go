package closing

import (
	"context"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/completeness"
	"github.com/tillsync/tillsync/internal/reconcile/shrinkage"
)

// maxPeriodDays bounds a scoring period: a quarter.
const maxPeriodDays = 92

// Score scores every store's cashiers, registers and the stores
// themselves over the local days from and to (YYYY-MM-DD, both included;
// each store's days in its own zone), and raises what stands out unless
// ReportOnly. A week or a month gives the rates more to stand on than the
// single day of a close.
func (c *Closer) Score(ctx context.Context, from, to string) (shrinkage.Result, error) {
	period := from + ".." + to
	first, err := time.Parse("2006-01-02", from)
	if err != nil {
		return shrinkage.Result{}, fmt.Errorf("shrinkage: from %q is not YYYY-MM-DD", from)
	}
	last, err := time.Parse("2006-01-02", to)
	if err != nil {
		return shrinkage.Result{}, fmt.Errorf("shrinkage: to %q is not YYYY-MM-DD", to)
	}
	days := int(last.Sub(first).Hours()/24) + 1
	if days < 1 || days > maxPeriodDays {
		return shrinkage.Result{}, fmt.Errorf("shrinkage: %s is %d days; give 1 to %d days, from before to", period, days, maxPeriodDays)
	}
	type window struct {
		store    string
		from, to time.Time
		events   []*event.Event
	}
	var evs, all []*event.Event
	var windows []window
	for _, s := range c.Stores {
		d1, err := completeness.LocalDay(s.ID, s.Zone, from)
		if err != nil {
			return shrinkage.Result{}, fmt.Errorf("shrinkage: store %s: %w", s.ID, err)
		}
		dn, err := completeness.LocalDay(s.ID, s.Zone, to)
		if err != nil {
			return shrinkage.Result{}, fmt.Errorf("shrinkage: store %s: %w", s.ID, err)
		}
		stored, err := c.Store.EventsOccurred(ctx, s.ID, d1.From.Add(-lookback), dn.To)
		if err != nil {
			return shrinkage.Result{}, err
		}
		var mine []*event.Event
		for _, st := range stored {
			mine = append(mine, st.Event)
			if !st.Event.OccurredAt.Before(d1.From) {
				evs = append(evs, st.Event)
			}
		}
		all = append(all, mine...)
		windows = append(windows, window{store: s.ID, from: d1.From, to: dn.To, events: mine})
	}
	target, err := c.targets(ctx, all)
	if err != nil {
		return shrinkage.Result{}, err
	}
	var shifts []cash.Shift
	for _, w := range windows {
		policy := cash.Config{}
		if c.Cash != nil {
			policy = c.Cash(w.store)
		}
		shifts = append(shifts, cash.Compute(w.store, w.events, target, policy, w.from, w.to).Shifts...)
	}
	res := shrinkage.Evaluate(period, evs, shifts, target, c.Shrinkage)
	if c.Inbox != nil && !c.ReportOnly {
		if err := shrinkage.Report(ctx, c.Inbox, res); err != nil {
			return res, err
		}
	}
	return res, nil
}
