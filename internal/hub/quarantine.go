package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/mapping/quarantine"
	"github.com/tillsync/tillsync/internal/store"
)

// QuarantineInterval is how often the hub looks for held events that a
// rule or mapping now resolves (a decision releases its own events at
// once; this completes a release a crash interrupted).
const QuarantineInterval = 30 * time.Second

// skuMapping is SKU mapping at intake, when the hub has a catalog.
type skuMapping struct {
	q     *quarantine.Quarantine
	rules io.Closer
}

// buildQuarantine puts the quarantine in front of the log when a catalog
// is configured and registers the inbox's approve action.
func (h *Hub) buildQuarantine(ctx context.Context) error {
	c := h.cfg.Catalog
	if !c.Enabled() {
		return nil
	}
	r, rules, err := quarantine.Load(c.File, c.Mappings, c.Rules, c.AutoApply)
	if err != nil {
		return fmt.Errorf("hub config: %w", err)
	}
	q, err := quarantine.New(ctx, quarantine.Config{Store: h.store, Next: intake.SinkFunc(h.commit), Resolver: r,
		Inbox: h.inbox, Log: h.log, Now: h.now})
	if err != nil {
		_ = rules.Close()
		return err
	}
	if err := h.inbox.Register(quarantine.ActApprove, q.Approve()); err != nil {
		_ = rules.Close()
		return err
	}
	h.sku = &skuMapping{q: q, rules: rules}
	h.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tillsync_quarantine_held_events",
		Help: "Events held because a line code resolves to no catalog SKU (-1: the database did not answer)."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := h.store.CountQuarantined(ctx, store.QuarantineHeld)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
	h.log.Info("SKU mapping on: unknown codes are quarantined", "catalog", c.File, "items", r.Catalog().Len(),
		"auto_apply", r.Threshold())
	return nil
}

// intake is the committer's sink: through the quarantine when the hub has
// a catalog, straight to the log otherwise.
func (h *Hub) intake(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	if h.sku != nil {
		return h.sku.q.Commit(ctx, events)
	}
	return h.commit(ctx, events)
}

// runQuarantine keeps the quarantine's exceptions and releases going.
func (h *Hub) runQuarantine(ctx context.Context) {
	if h.sku != nil {
		_ = h.sku.q.Run(ctx, QuarantineInterval)
	}
}

// closeQuarantine closes the rules file.
func (h *Hub) closeQuarantine() error {
	if h.sku == nil {
		return nil
	}
	return h.sku.rules.Close()
}

// Quarantine returns the SKU quarantine (nil without a catalog).
func (h *Hub) Quarantine() *quarantine.Quarantine {
	if h.sku == nil {
		return nil
	}
	return h.sku.q
}

// QuarantineList is the answer of GET /v1/quarantine.
type QuarantineList struct {
	// Enabled is false when the hub has no catalog (nothing is ever held).
	Enabled bool `json:"enabled"`
	quarantine.Summary
}

func (h *Hub) quarantineRoutes(mux *router) {
	mux.HandleFunc("GET /v1/quarantine", h.guard.Require(access.Viewer, "list quarantine", false, h.listQuarantine))
	mux.HandleFunc("POST /v1/quarantine/rules", h.guard.Require(access.Operator, "map SKU code", true, h.mapCode))
}

// MapRequest is the body of POST /v1/quarantine/rules: source's code
// means sku from now on.
type MapRequest struct {
	Source string `json:"source"`
	Code   string `json:"code"`
	SKU    string `json:"sku"`
}

// mapCode records a person's mapping of a code to any catalog SKU and
// releases what it resolves.
func (h *Hub) mapCode(w http.ResponseWriter, r *http.Request) {
	if h.sku == nil {
		apiError(w, http.StatusConflict, "no_catalog", "SKU mapping is off: configure catalog.file in the hub's configuration")
		return
	}
	var req MapRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, intake.CodeMalformedJSON, "mapping body: "+err.Error()+` (send {"source": "pos", "code": "…", "sku": "…"})`)
		return
	}
	if req.Source == "" {
		apiError(w, http.StatusBadRequest, "invalid", "source is required (the event source the code comes from, e.g. pos)")
		return
	}
	actor, _ := access.ActorOf(r.Context())
	m, err := h.sku.q.Map(r.Context(), req.Source, req.Code, req.SKU, "api:"+actor.Name)
	switch {
	case errors.Is(err, quarantine.ErrRule):
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	case err != nil:
		apiError(w, http.StatusInternalServerError, intake.CodeStorage, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (h *Hub) listQuarantine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	switch state {
	case "":
		state = store.QuarantineHeld
	case store.QuarantineHeld, store.QuarantineReleased:
	default:
		apiError(w, http.StatusBadRequest, "bad_parameter", "state must be quarantined or released, not "+strconv.Quote(state))
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			apiError(w, http.StatusBadRequest, "bad_parameter", "limit must be a positive integer, not "+strconv.Quote(v))
			return
		}
		limit = min(n, 1000)
	}
	if h.sku == nil {
		writeJSON(w, http.StatusOK, QuarantineList{Summary: quarantine.Summary{Codes: []*quarantine.CodeSummary{}, Events: []quarantine.EventSummary{}}})
		return
	}
	s, err := h.sku.q.List(r.Context(), state, limit)
	if err != nil {
		apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not read the quarantine")
		return
	}
	writeJSON(w, http.StatusOK, QuarantineList{Enabled: true, Summary: s})
}
