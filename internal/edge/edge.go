package edge

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/redact"
)

// Edge is the store agent.
type Edge struct {
	cfg       config.Edge
	log       *slog.Logger
	out       *outbox
	committer *intake.Committer
	notify    *destination.Notifier // new local events
	retry     *destination.Notifier // an uplink slot came free
	view      *view
	client    *http.Client
	backoff   destination.Backoff
	hubURL    string
	id        string
	inflight  int
	reg       *prometheus.Registry
	m         *edgeMetrics
	handler   http.Handler
	// trace is OpenTelemetry tracing (nil: off).
	trace *obs.Tracing

	// viewMu orders changes of the view with the local log they derive
	// from: a rebuild reads the log and replaces the view in one step, so
	// an event committed or synced meanwhile is neither lost nor doubled.
	viewMu sync.Mutex

	// red removes card and personal data before anything is stored;
	// found counts what it removed (never the values).
	red     *redact.Redactor
	foundMu sync.Mutex
	found   redact.Findings

	online   atomic.Bool
	lastSync atomic.Int64 // unix micros
	lastBeat atomic.Int64
	errMu    sync.Mutex
	lastErr  string
}

type edgeMetrics struct {
	accepted *prometheus.CounterVec
	redacted *prometheus.CounterVec
	synced   prometheus.Counter
	rejected prometheus.Counter
}

// Options adjust an edge for tests and the demo.
type Options struct {
	// Client is the HTTP client for the hub (default: 30 s timeout).
	Client *http.Client
	// Inflight is how many uplink batches may be in flight (default 2).
	Inflight int
}

// New opens the edge's local log and wires its parts; Serve starts them.
func New(ctx context.Context, cfg config.Edge, log *slog.Logger, opt Options) (*Edge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out, err := openOutbox(cfg.Data)
	if err != nil {
		return nil, err
	}
	e := &Edge{
		cfg: cfg, log: log.With("location", cfg.Location), out: out, notify: destination.NewNotifier(),
		retry: destination.NewNotifier(), view: newView(), client: opt.Client,
		backoff:  destination.Backoff{Min: cfg.Uplink.BackoffMin, Max: cfg.Uplink.BackoffMax},
		hubURL:   strings.TrimRight(cfg.Hub.URL, "/"),
		inflight: opt.Inflight, reg: prometheus.NewRegistry(),
	}
	if e.client == nil {
		tc, err := hubTLS(cfg.Hub)
		if err != nil {
			_ = out.close()
			return nil, err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		e.client = &http.Client{Timeout: cfg.Uplink.Timeout, Transport: tr}
	}
	if strings.HasPrefix(cfg.Hub.URL, "http://") {
		e.log.Warn("DEVELOPMENT ONLY: talking to the hub over plain HTTP on this machine (hub.insecure_plaintext)", "hub", cfg.Hub.URL)
	}
	if e.inflight <= 0 {
		e.inflight = 2
	}
	e.m = &edgeMetrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillsync_edge_events_total", Help: "Events from POS terminals, by outcome."}, []string{"status"}),
		synced:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tillsync_edge_synced_total", Help: "Events the hub confirmed stored."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "tillsync_edge_rejected_total", Help: "Events the hub refused."}),
		redacted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillsync_redacted_total", Help: "Sensitive values removed or tokenized at intake, by kind."}, []string{"kind"}),
	}
	e.reg.MustRegister(e.m.accepted, e.m.synced, e.m.rejected, e.m.redacted)
	e.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tillsync_edge_backlog_events", Help: "Events not yet stored by the hub."}, func() float64 {
		return float64(e.out.unsynced.Load())
	}))
	if e.trace, err = obs.New(ctx, cfg.Telemetry, "tillsync-edge"); err != nil {
		_ = out.close()
		return nil, fmt.Errorf("edge config: %w", err)
	}
	built := false
	defer func() {
		if !built { // the exporter's goroutine must not outlive a failed New
			_ = e.trace.Shutdown(context.WithoutCancel(ctx))
		}
	}()
	if e.red, err = cfg.Redact.Redactor(); err != nil {
		_ = out.close()
		return nil, fmt.Errorf("edge config: %w", err)
	}
	if e.id, err = e.edgeID(ctx); err != nil {
		_ = out.close()
		return nil, err
	}
	snap, err := out.loadSnapshot(ctx, cfg.Location)
	if err != nil {
		_ = out.close()
		return nil, err
	}
	if err := e.rebuildView(ctx, snap); err != nil {
		_ = out.close()
		return nil, err
	}
	e.committer = intake.NewCommitter(intake.SinkFunc(e.commit), intake.CommitterConfig{Linger: cfg.Commit.Linger, MaxBatch: cfg.Commit.MaxBatch})
	var auth intake.Authenticator = intake.Fixed(cfg.Location)
	if cfg.TerminalTokenSHA256 != "" {
		auth = intake.Tokens{cfg.TerminalTokenSHA256: {Name: cfg.Location, Location: cfg.Location}}
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/events", &intake.Handler{
		Auth: auth, Committer: e.committer, Log: e.log, Prepare: e.prepare,
		Limits: intake.Limits{MaxBodyBytes: cfg.Limits.MaxBodyBytes, MaxEvents: cfg.Limits.MaxEvents},
		Trace:  e.trace,
	})
	mux.HandleFunc("GET /v1/stock/{sku}", e.stock)
	mux.HandleFunc("GET /v1/health", e.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	e.handler = obs.Handler(e.trace, e.log, mux, "GET /v1/health", "GET /metrics")
	built = true
	return e, nil
}

// edgeID is a random ID kept in the local log, so the hub can tell a
// replaced edge (a new disk) from a restarted one.
func (e *Edge) edgeID(ctx context.Context) (string, error) {
	if v, ok, err := e.out.meta(ctx, "edge_id"); err != nil {
		return "", fmt.Errorf("edge: read identity: %w", err)
	} else if ok {
		return v, nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := e.cfg.Location + "-" + hex.EncodeToString(b[:])
	if err := e.out.setMeta(ctx, "edge_id", id); err != nil {
		return "", fmt.Errorf("edge: save identity: %w", err)
	}
	return id, nil
}

// prepare is the first hop's work on every event, before validation and
// the local log: card data and sensitive authentication data removed,
// personal data tokenized, and what a POS may leave to its store filled in
// (location, zone, source).
func (e *Edge) prepare(ev *event.Event) {
	if f := e.red.Event(ev); f.Total() > 0 {
		e.foundMu.Lock()
		e.found.Add(f)
		e.foundMu.Unlock()
		for k, n := range f.All() {
			e.m.redacted.WithLabelValues(k.String()).Add(float64(n))
		}
		e.log.Warn("sensitive data removed at intake", "event_id", ev.ID, "found", f.String())
	}
	if ev.Location == "" {
		ev.Location = e.cfg.Location
	}
	if ev.Zone == "" {
		ev.Zone = e.cfg.Zone
	}
	if ev.Source == "" {
		ev.Source = "pos"
	}
}

// commit is the edge's Sink: the fsynced local log, then the local view and
// a nudge to the uplink.
func (e *Edge) commit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	e.viewMu.Lock()
	defer e.viewMu.Unlock()
	out, err := e.out.Commit(ctx, events)
	if err != nil {
		return nil, err
	}
	var fresh []*event.Event
	for i, o := range out {
		e.m.accepted.WithLabelValues(string(o.Status)).Inc()
		if o.Status == intake.StatusAccepted {
			fresh = append(fresh, events[i])
		}
	}
	if len(fresh) > 0 {
		e.view.apply(fresh, e.targets(ctx))
		e.notify.Broadcast()
	}
	return out, nil
}

func (e *Edge) targets(ctx context.Context) func([]string) map[string]*event.Event {
	return func(ids []string) map[string]*event.Event {
		m, err := e.out.byID(context.WithoutCancel(ctx), ids)
		if err != nil {
			e.log.Warn("look up void targets", "err", err)
		}
		return m
	}
}

func (e *Edge) setErr(err error) {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	if err == nil {
		e.lastErr = ""
		return
	}
	e.lastErr = err.Error()
}

// Handler returns the edge's HTTP API.
func (e *Edge) Handler() http.Handler { return e.handler }

// Run serves on the configured address until ctx ends.
func (e *Edge) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", e.cfg.Listen)
	if err != nil {
		return fmt.Errorf("edge: listen on %s: %w", e.cfg.Listen, err)
	}
	return e.Serve(ctx, ln)
}

// Serve runs intake, uplink, snapshot refresh and retention on ln until ctx
// ends.
func (e *Edge) Serve(ctx context.Context, ln net.Listener) error {
	e.log.Info("edge listening", "addr", ln.Addr().String(), "hub", e.hubURL, "data", e.cfg.Data)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.committer.Run(workCtx) })
	wg.Go(func() { e.uplink(workCtx) })
	wg.Go(func() { e.snapshots(workCtx) })
	srv := &http.Server{Handler: e.handler, ReadHeaderTimeout: 10 * time.Second}
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

// snapshots refreshes the local view from the hub and trims the local log.
func (e *Edge) snapshots(ctx context.Context) {
	t := time.NewTicker(e.cfg.Uplink.SnapshotInterval)
	defer t.Stop()
	for {
		// While a backlog drains, the hub's snapshot cannot reflect the
		// store's own events yet, and rebuilding the view on it would take
		// the CPU the drain needs: refresh once the backlog is small.
		if !e.backlogLarge() {
			if err := e.refreshSnapshot(ctx); err != nil && ctx.Err() == nil {
				e.log.Debug("snapshot refresh failed", "err", err)
			}
		}
		if e.cfg.Uplink.Retention > 0 {
			if _, err := e.out.trim(ctx, time.Now().Add(-e.cfg.Uplink.Retention)); err != nil && ctx.Err() == nil {
				e.log.Warn("trim local log", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// backlogLarge tells whether more events await the hub than one uplink
// batch carries.
func (e *Edge) backlogLarge() bool {
	return e.out.unsynced.Load() > int64(e.cfg.Uplink.Batch)
}

// Close flushes traces not yet exported and closes the local log.
func (e *Edge) Close() error {
	e.client.CloseIdleConnections() // the hub need not wait for them
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.trace.Shutdown(ctx); err != nil {
		e.log.Warn("flush traces", "err", err)
	}
	return e.out.close()
}

// Health is the body of the edge's GET /v1/health.
type Health struct {
	Location                 string    `json:"location"`
	EdgeID                   string    `json:"edge_id"`
	HubReachable             bool      `json:"hub_reachable"`
	Backlog                  int64     `json:"backlog"`
	OldestUnsyncedAt         time.Time `json:"oldest_unsynced_at,omitzero"`
	OldestUnsyncedAgeSeconds float64   `json:"oldest_unsynced_age_seconds"`
	Rejected                 int64     `json:"rejected"`
	LastSyncAt               time.Time `json:"last_sync_at,omitzero"`
	SnapshotSeq              int64     `json:"snapshot_seq"`
	LastError                string    `json:"last_error,omitempty"`
}

// Status reports the edge's sync state.
func (e *Edge) Status(ctx context.Context) (Health, error) {
	n, oldest, err := e.out.backlog(ctx)
	if err != nil {
		return Health{}, err
	}
	rej := e.out.rejectedCount()
	h := Health{Location: e.cfg.Location, EdgeID: e.id, HubReachable: e.online.Load(), Backlog: n, OldestUnsyncedAt: oldest, Rejected: rej}
	if !oldest.IsZero() {
		h.OldestUnsyncedAgeSeconds = time.Since(oldest).Seconds()
	}
	if ls := e.lastSync.Load(); ls != 0 {
		h.LastSyncAt = time.UnixMicro(ls).UTC()
	}
	_, h.SnapshotSeq = e.view.position(inventory.Key{})
	e.errMu.Lock()
	h.LastError = e.lastErr
	e.errMu.Unlock()
	return h, nil
}

func (e *Edge) health(w http.ResponseWriter, r *http.Request) {
	h, err := e.Status(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "storage_failed", "message": "local log unreadable"}})
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// LocalStock is the body of the edge's GET /v1/stock/{sku}.
type LocalStock struct {
	SKU       string    `json:"sku"`
	Location  string    `json:"location"`
	OnHand    event.Qty `json:"on_hand"`
	Reserved  event.Qty `json:"reserved"`
	Available event.Qty `json:"available"`
	// SnapshotSeq is the hub log position the estimate starts from; local
	// events after it are applied on top.
	SnapshotSeq int64  `json:"snapshot_seq"`
	Source      string `json:"source"` // "hub snapshot + local events"
}

func (e *Edge) stock(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	p, asOf := e.view.position(inventory.Key{SKU: sku, Location: e.cfg.Location})
	writeJSON(w, http.StatusOK, LocalStock{SKU: sku, Location: e.cfg.Location, OnHand: p.OnHand(), Reserved: p.Reserved,
		Available: p.Available(), SnapshotSeq: asOf, Source: "hub snapshot + local events"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// hubTLS is how the edge talks TLS to the hub: 1.2 or newer, the hub's
// certificate verified against the system roots or hub.ca_file, and the
// store's client certificate when mutual TLS is configured.
func hubTLS(h config.EdgeHub) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if h.CAFile != "" {
		pem, err := os.ReadFile(h.CAFile)
		if err != nil {
			return nil, fmt.Errorf("edge config: hub.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("edge config: hub.ca_file %s holds no PEM certificate", h.CAFile)
		}
		tc.RootCAs = pool
	}
	if h.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(h.ClientCertFile, h.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("edge config: hub.client_cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Redacted returns what redaction has removed or tokenized since start.
func (e *Edge) Redacted() redact.Findings {
	e.foundMu.Lock()
	defer e.foundMu.Unlock()
	return e.found
}
