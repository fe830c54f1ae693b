package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/availability"
	shopifych "github.com/tillsync/tillsync/internal/channel/shopify"
	"github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/redact"
	"github.com/tillsync/tillsync/internal/store"
)

// Hub is the central process.
type Hub struct {
	cfg       config.Hub
	log       *slog.Logger
	store     *store.Store
	committer *intake.Committer
	broker    *availability.Broker
	notify    *destination.Notifier
	channels  []availability.Channel
	webhooks  []*webhook.Destination
	accounts  map[string]*account
	erps      []*destination.ERPDestination
	// shopifyChannels push availability to Shopify inventory.
	shopifyChannels []*shopifych.Destination
	reg             *prometheus.Registry
	m               *metrics
	stores          map[string]config.Store
	health          *health
	guard           *access.Guard
	inbox           *inbox.Inbox
	// sku is SKU mapping and the quarantine at intake (nil: no catalog).
	sku *skuMapping
	// redact removes card and personal data at the first hop; found
	// counts what it removed.
	redact    func(*event.Event)
	foundMu   sync.Mutex
	found     redact.Findings
	redactOff atomic.Bool
	handler   http.Handler
	// routes are the API's route patterns, as registered.
	patterns []string
	// trace is OpenTelemetry tracing (nil: off).
	trace *obs.Tracing
	now   func() time.Time
	// stopping is closed when shutdown begins, ending SSE streams so the
	// server can drain.
	stopping chan struct{}
	stopOnce func()
}

// New opens the hub's database and wires its parts; Run starts them.
func New(ctx context.Context, cfg config.Hub, log *slog.Logger) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	h := &Hub{
		cfg: cfg, log: log, store: st, broker: availability.NewBroker(), notify: destination.NewNotifier(),
		reg: prometheus.NewRegistry(), stores: map[string]config.Store{}, now: time.Now,
		stopping: make(chan struct{}),
	}
	h.stopOnce = sync.OnceFunc(func() { close(h.stopping) })
	if h.trace, err = obs.New(ctx, cfg.Telemetry, "tillsync-hub"); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("hub config: %w", err)
	}
	built := false
	defer func() {
		if !built { // the exporter's goroutine must not outlive a failed New
			_ = h.trace.Shutdown(context.WithoutCancel(ctx))
		}
	}()
	h.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h.m = newMetrics(h.reg)
	dm := destination.NewMetrics(h.reg)
	for _, s := range cfg.Stores {
		h.stores[s.ID] = s
	}
	h.channels = channels(cfg.Channels)
	h.committer = intake.NewCommitter(intake.SinkFunc(h.intake), intake.CommitterConfig{
		Linger: cfg.Commit.Linger, MaxBatch: cfg.Commit.MaxBatch,
	})
	h.committer.OnBatch = func(b intake.BatchStats) {
		h.m.batchEvents.Observe(float64(b.Events))
		h.m.batchReqs.Observe(float64(b.Requests))
		h.m.commit.Observe(b.Took.Seconds())
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for i, w := range cfg.Webhooks {
		if err := checkOutbound(ctx, fmt.Sprintf("webhooks[%d].url", i), w.URL, cfg.AllowPrivateDestinations); err != nil {
			_ = st.Close()
			return nil, err
		}
		var chs []availability.Channel
		for _, name := range w.Channels {
			for _, c := range h.channels {
				if c.Name == name {
					chs = append(chs, c)
				}
			}
		}
		if len(w.Channels) == 0 {
			chs = h.channels
		}
		h.webhooks = append(h.webhooks, webhook.New(webhook.Config{
			Name: w.Name, URL: w.URL, Secret: []byte(w.SigningSecret()), Channels: chs, Timeout: w.Timeout,
		}, st, h.notify, client, dm, log))
	}
	if err := h.buildShopifyChannels(dm); err != nil {
		_ = st.Close()
		return nil, err
	}
	if err := h.buildERP(dm); err != nil {
		_ = st.Close()
		return nil, err
	}
	for _, d := range h.erps {
		d.SetTracing(h.trace)
	}
	saved, err := st.Stores(ctx)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	h.health = newHealth(saved)
	if err := h.primeBroker(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	red, err := cfg.Redact.Redactor()
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("hub config: %w", err)
	}
	redacted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillsync_redacted_total",
		Help: "Sensitive values removed or tokenized at the hub's first hop, by kind."}, []string{"kind"})
	h.reg.MustRegister(redacted)
	h.redact = func(e *event.Event) {
		if f := red.Event(e); f.Total() > 0 {
			h.foundMu.Lock()
			h.found.Add(f)
			h.foundMu.Unlock()
			for k, n := range f.All() {
				redacted.WithLabelValues(k.String()).Add(float64(n))
			}
			log.Warn("sensitive data removed at intake", "event_id", e.ID, "found", f.String())
		}
	}
	h.guard = newGuard(cfg, st, h.now, func(err error) { h.log.Error("audit trail write failed", "err", err) })
	h.inbox = newInbox(h)
	if err := h.buildQuarantine(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	if h.handler, err = h.routes(); err != nil {
		_ = st.Close()
		return nil, err
	}
	built = true
	return h, nil
}

// channels turns configured channels into availability channels; with none
// configured, one channel "default" sells from everywhere with no buffer.
func channels(cfg []config.Channel) []availability.Channel {
	if len(cfg) == 0 {
		return []availability.Channel{{Name: "default"}}
	}
	out := make([]availability.Channel, len(cfg))
	for i, c := range cfg {
		out[i] = availability.Channel{Name: c.Name, Buffer: c.SafetyBuffer}
		if len(c.Locations) > 0 {
			out[i].Locations = map[string]bool{}
			for _, l := range c.Locations {
				out[i].Locations[l] = true
			}
		}
	}
	return out
}

// primeBroker loads current availability so the first change after a
// restart is compared with the truth, not with nothing.
func (h *Hub) primeBroker(ctx context.Context) error {
	rows, err := h.store.AllPositions(ctx)
	if err != nil {
		return err
	}
	now := h.now().UTC()
	for _, r := range rows {
		h.broker.Seen(availability.Updates(h.channels, map[inventory.Key]inventory.Position{r.Key: r.Position}, r.UpdatedSeq, nil, now))
	}
	return nil
}

// Store returns the hub's database (for tools and tests).
func (h *Hub) Store() *store.Store { return h.store }

// Broker returns the availability broker.
func (h *Hub) Broker() *availability.Broker { return h.broker }

// Handler returns the HTTP API.
func (h *Hub) Handler() http.Handler { return h.handler }

// commit is the hub's Sink: append, apply the ledger, then — the batch being
// durable — publish availability and wake the destinations.
func (h *Hub) commit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	app, err := h.store.Append(ctx, events, h.now())
	if err != nil {
		return nil, err
	}
	h.m.fsync.Observe(app.CommitTook.Seconds())
	h.m.head.Set(float64(app.MaxSeq))
	out := make([]intake.Outcome, len(app.Results))
	for i, r := range app.Results {
		switch r.Outcome {
		case store.Accepted:
			out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: r.Seq}
		case store.Duplicate:
			out[i] = intake.Outcome{Status: intake.StatusDuplicate, Seq: r.Seq}
		default:
			out[i] = intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict,
				Message: fmt.Sprintf("event ID %q is already in the log (seq %d) for a different event; IDs must be unique", events[i].ID, r.Seq)}}
		}
		h.m.events.WithLabelValues(string(out[i].Status)).Inc()
	}
	if ch := app.Changes; ch != nil && len(ch.Positions) > 0 {
		ups := availability.Updates(h.channels, ch.Positions, app.MaxSeq, availability.Causes(ch), h.now().UTC())
		h.m.availability.Add(float64(len(ups)))
		h.broker.Publish(ups)
		h.m.oversells.Add(float64(len(ch.Oversells)))
	}
	if len(app.Events) > 0 {
		h.notify.Broadcast()
	}
	return out, nil
}

// Run serves the API on the configured address until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	ln, err := h.listen()
	if err != nil {
		return err
	}
	return h.Serve(ctx, ln)
}

// Serve runs the committer, the destinations and the API on ln until ctx
// ends, then shuts down gracefully: the listener stops, requests in flight
// finish, the committer drains.
func (h *Hub) Serve(ctx context.Context, ln net.Listener) error {
	h.log.Info("hub listening", "addr", ln.Addr().String(), "database", h.store.String())
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = h.committer.Run(workCtx) })
	wg.Go(func() {
		h.health.run(workCtx, h.store, func(err error) { h.log.Warn("save store health", "err", err) })
	})
	wg.Go(func() { h.auditRetention(workCtx) })
	wg.Go(func() { h.runInbox(workCtx) })
	wg.Go(func() { h.runQuarantine(workCtx) })
	wg.Go(func() { h.runClose(workCtx) })
	for _, w := range h.csvWatchers() {
		wg.Go(func() {
			if err := w.Run(workCtx); err != nil && workCtx.Err() == nil {
				h.log.Error("CSV import stopped", "dir", w.Dir, "err", err)
			}
		})
	}
	for _, w := range h.webhooks {
		wg.Go(func() { _ = w.Run(workCtx) })
	}
	if err := h.startERP(workCtx); err != nil {
		stopWork()
		wg.Wait()
		return err
	}
	for _, d := range h.shopifyChannels {
		wg.Go(func() {
			if err := d.Run(workCtx); err != nil && workCtx.Err() == nil {
				h.log.Error("Shopify channel stopped: fix its configuration and restart", "err", err)
			}
		})
	}
	for _, d := range h.erps {
		wg.Go(func() {
			if err := d.Run(workCtx); err != nil {
				h.log.Error("destination stopped", "destination", d.Name(), "err", err)
			}
		})
	}
	srv := &http.Server{Handler: h.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(h.stopOnce)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	stopWork()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close flushes traces not yet exported and closes the database.
func (h *Hub) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.trace.Shutdown(ctx); err != nil {
		h.log.Warn("flush traces", "err", err)
	}
	if err := h.closeQuarantine(); err != nil {
		h.log.Warn("close mapping rules", "err", err)
	}
	return h.store.Close()
}

// Redacted returns what the hub's first-hop redaction has removed since
// start.
func (h *Hub) Redacted() redact.Findings {
	h.foundMu.Lock()
	defer h.foundMu.Unlock()
	return h.found
}
