package hub

import (
	"context"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// closeCheck is how often the hub looks whether a store's day is due to
// close.
const closeCheck = time.Minute

// runClose closes each store's local day by itself once the store's
// clock passes close.after_hour: the completeness audit re-delivers what
// the ERPs never confirmed (and audits the day before again, for stores
// that synced late), and the drawers' variances and shrinkage anomalies
// go to the inbox. A restart closes the day again, which
// changes nothing that was already right (exceptions are deduplicated by
// key). `tillsync close` gives the full report of any day.
func (h *Hub) runClose(ctx context.Context) {
	if h.cfg.Close.AfterHour == nil {
		return
	}
	c := closing.FromConfig(&h.cfg, h.store, exception.Hub{In: h.inbox})
	c.Now = h.now
	closed := map[string]string{}
	t := time.NewTicker(closeCheck)
	defer t.Stop()
	for {
		h.closeDue(ctx, c, closed)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// closeDue closes the stores whose day is due and not closed yet
// (closed maps a store to the last date closed).
func (h *Hub) closeDue(ctx context.Context, c *closing.Closer, closed map[string]string) {
	for _, s := range h.cfg.Stores {
		loc, err := event.LoadZone(s.Zone)
		if err != nil {
			continue // the config's validation names it
		}
		now := h.now().In(loc)
		date := now.Format("2006-01-02")
		if now.Hour() < *h.cfg.Close.AfterHour || closed[s.ID] == date {
			continue
		}
		rep, err := c.Close(ctx, s.ID, date)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("end-of-day close failed; will try again", "store", s.ID, "date", date, "err", err)
			}
			continue
		}
		closed[s.ID] = date
		missing := 0
		for _, e := range rep.ERP {
			missing += len(e.Missing)
		}
		h.log.Info("store day closed", "store", s.ID, "date", date, "erp_missing", missing,
			"drawers_out_of_tolerance", rep.Cash.OutOfTolerance, "shrinkage_anomalies", len(rep.Shrinkage.Anomalies),
			"open_exceptions", rep.Exceptions.Open, "raised", len(rep.Exceptions.Raised))
		// The day before again: a store that was offline at its close
		// synced since.
		prev := now.AddDate(0, 0, -1).Format("2006-01-02")
		res, err := c.Audit(ctx, s.ID, prev)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("completeness audit of the day before failed", "store", s.ID, "date", prev, "err", err)
			}
			continue
		}
		for _, r := range res {
			if r.Redelivered > 0 || !r.Complete() {
				h.log.Info("day before re-audited", "store", s.ID, "date", prev, "destination", r.Destination,
					"redelivered", r.Redelivered, "still_missing", len(r.Missing))
			}
		}
	}
}
