package hub

import (
	"context"
	"net/http"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/web"
)

// UI builds the operator's dashboard on this hub's parts. The hub mounts
// it under /ui/ with opts left zero; tests pass shorter timings.
func (h *Hub) UI(opts web.Options) (*web.UI, error) {
	opts.Store, opts.Inbox, opts.Guard = h.store, h.inbox, h.guard
	opts.Stores, opts.Channels, opts.Broker = h.cfg.Stores, h.channels, h.broker
	opts.Health = h.health.list
	opts.Destinations = h.webDestinations
	if opts.OnlineWithin == 0 {
		opts.OnlineWithin = OnlineWithin
	}
	opts.Secure = h.cfg.TLS.Enabled()
	if opts.Now == nil {
		opts.Now = func() time.Time { return h.now() }
	}
	if opts.Log == nil {
		opts.Log = h.log
	}
	if opts.Stopping == nil {
		opts.Stopping = h.stopping
	}
	c := closing.FromConfig(&h.cfg, h.store, exception.Hub{In: h.inbox})
	c.ReportOnly = true
	c.Now = opts.Now
	opts.Close = func(ctx context.Context, storeID, date string) (*closing.Report, error) {
		return c.Close(ctx, storeID, date)
	}
	return web.New(opts)
}

// webDestinations is GET /v1/destinations for the dashboard.
func (h *Hub) webDestinations(ctx context.Context) ([]web.Destination, int64, error) {
	head, err := h.store.Head(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]web.Destination, 0, len(h.erps))
	for i, d := range h.erps {
		cfg := h.cfg.Destinations[i]
		acc := h.accounts[cfg.Account]
		st := d.Status()
		mode := st.Mode
		if mode == "" {
			mode = destination.Mode(cfg.Mode)
		}
		dead, err := h.store.CountDeadLetters(ctx, d.Name(), store.DeadParked)
		if err != nil {
			return nil, head, err
		}
		out = append(out, web.Destination{Name: d.Name(), Kind: acc.cfg.Kind, Account: acc.cfg.Name, Mode: string(mode),
			Cursor: st.Cursor, Lag: max(head-st.Cursor, 0), DeadLetters: dead, Paused: st.Paused, Blocked: st.Blocked,
			Governor: acc.gov.Stats()})
	}
	return out, head, nil
}

// dashboard is the handler mounted under /ui/.
func (h *Hub) dashboard() http.Handler {
	ui, err := h.UI(web.Options{})
	if err != nil { // only a broken build: the templates are embedded
		h.log.Error("dashboard unavailable", "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the dashboard is unavailable: "+err.Error(), http.StatusInternalServerError)
		})
	}
	return ui
}
