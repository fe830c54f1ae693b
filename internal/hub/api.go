package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/sse"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/store"
)

// OnlineWithin is how recent a store's last contact must be for it to count
// as online. Edges report at least every few seconds.
const OnlineWithin = 15 * time.Second

func (h *Hub) tokens() intake.Tokens {
	t := intake.Tokens{}
	for _, s := range h.cfg.Stores {
		t[s.TokenSHA256] = intake.Principal{Name: s.ID, Location: s.ID}
	}
	for _, s := range h.cfg.Sources {
		p := intake.Principal{Name: s.ID, Locations: map[string]bool{}}
		for _, l := range s.Locations {
			p.Locations[l] = true
		}
		t[s.TokenSHA256] = p
	}
	return t
}

func (h *Hub) routes() (http.Handler, error) {
	auth := storeAuth{tokens: h.tokens(), stores: h.stores}
	g := h.guard
	mux := &router{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET /v1/openapi.json", serveOpenAPI)
	mux.Handle("/v1/events", &intake.Handler{
		Auth: auth, Committer: h.committer, Log: h.log, Prepare: h.prepare,
		Limits: intake.Limits{MaxBodyBytes: h.cfg.Limits.MaxBodyBytes, MaxEvents: h.cfg.Limits.MaxEvents,
			RequestsPerSecond: h.cfg.Limits.RequestsPerSecond, Burst: h.cfg.Limits.Burst},
		Observe: h.observeIntake, Trace: h.trace,
		// The SKU quarantine repairs events inside the commit: sealed
		// events must not change.
		Seal: h.sku == nil,
	})
	mux.HandleFunc("POST /v1/edge/status", func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		if err != nil {
			intake.WriteError(w, http.StatusUnauthorized, intake.CodeUnauthorized, err.Error())
			return
		}
		if p.Location == "" {
			intake.WriteError(w, http.StatusForbidden, intake.CodeForbidden, "only a store's token may report edge status")
			return
		}
		var rep intake.EdgeReport
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&rep); err != nil {
			intake.WriteError(w, http.StatusBadRequest, intake.CodeMalformedJSON, err.Error())
			return
		}
		h.touch(r.Context(), p.Location, &rep, 0)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/edge/snapshot", func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		if err != nil {
			intake.WriteError(w, http.StatusUnauthorized, intake.CodeUnauthorized, err.Error())
			return
		}
		if p.Location == "" {
			intake.WriteError(w, http.StatusForbidden, intake.CodeForbidden, "only a store's token may read its snapshot")
			return
		}
		h.snapshot(w, r, p.Location)
	})
	mux.HandleFunc("GET /v1/stores", g.Require(access.Viewer, "list stores", false, h.listStores))
	mux.HandleFunc("GET /v1/stock/{sku}", g.Require(access.Viewer, "read stock", false, h.stock))
	mux.HandleFunc("GET /v1/oversells", g.Require(access.Viewer, "list oversells", false, h.oversells))
	stream := &sse.Handler{Broker: h.broker, Store: h.store, Channels: h.channels, Stopping: h.stopping}
	mux.HandleFunc("GET /v1/availability/stream", g.Require(access.Viewer, "stream availability", false, stream.ServeHTTP))
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		head, err := h.store.Head(r.Context())
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unhealthy", "error": "database unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "log_head": head})
	})
	mux.HandleFunc("GET /metrics", g.Require(access.Viewer, "read metrics", false, promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}).ServeHTTP))
	h.destinationRoutes(mux)
	h.inboxRoutes(mux)
	h.quarantineRoutes(mux)
	mux.Handle("/ui/", h.dashboard())
	if err := h.sourceRoutes(mux); err != nil {
		return nil, err
	}
	h.patterns = mux.patterns
	return obs.Handler(h.trace, h.log, mux, "POST /v1/edge/status", "GET /v1/edge/snapshot", "GET /v1/health", "GET /metrics"), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (h *Hub) observeIntake(ctx context.Context, p intake.Principal, rep *intake.EdgeReport, resp *intake.Response) {
	if p.Location != "" { // a store; sources have no sync health of their own
		h.touch(ctx, p.Location, rep, int64(resp.Accepted))
	}
}

// touch records contact from a store, with its edge's report if it sent one.
func (h *Hub) touch(_ context.Context, location string, rep *intake.EdgeReport, received int64) {
	h.health.touch(location, h.now().UTC(), rep, received)
	if rep != nil {
		h.m.backlog.WithLabelValues(location).Set(float64(rep.Backlog))
		age := 0.0
		if !rep.OldestUnsyncedAt.IsZero() {
			age = h.now().Sub(rep.OldestUnsyncedAt).Seconds()
		}
		h.m.oldest.WithLabelValues(location).Set(age)
	}
}

// StoreStatus is one entry of GET /v1/stores.
type StoreStatus struct {
	store.Health
	Name   string `json:"name,omitempty"`
	Zone   string `json:"zone,omitempty"`
	Online bool   `json:"online"`
	// OldestUnsyncedAgeSeconds is how old the edge's oldest unsynced event
	// was at its last report (0 when it had none).
	OldestUnsyncedAgeSeconds float64 `json:"oldest_unsynced_age_seconds"`
}

func (h *Hub) listStores(w http.ResponseWriter, r *http.Request) {
	health := h.health.list()
	now := h.now().UTC()
	byID := map[string]store.Health{}
	for _, s := range health {
		byID[s.Location] = s
	}
	var out []StoreStatus
	add := func(hl store.Health, name, zone string) {
		st := StoreStatus{Health: hl, Name: name, Zone: zone, Online: !hl.LastContact.IsZero() && now.Sub(hl.LastContact) < OnlineWithin}
		if !hl.OldestUnsyncedAt.IsZero() {
			st.OldestUnsyncedAgeSeconds = hl.LastContact.Sub(hl.OldestUnsyncedAt).Seconds()
		}
		out = append(out, st)
	}
	for _, c := range h.cfg.Stores {
		hl, ok := byID[c.ID]
		if !ok {
			hl = store.Health{Location: c.ID}
		}
		delete(byID, c.ID)
		add(hl, c.Name, c.Zone)
	}
	for _, hl := range health {
		if _, left := byID[hl.Location]; left {
			add(hl, "", "")
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"stores": out})
}

// LocationStock is one location's stock of a SKU in GET /v1/stock/{sku}.
type LocationStock struct {
	Location  string               `json:"location"`
	OnHand    event.Qty            `json:"on_hand"`
	Reserved  event.Qty            `json:"reserved"`
	InTransit event.Qty            `json:"in_transit"`
	Available event.Qty            `json:"available"`
	Channels  map[string]event.Qty `json:"channels"`
	// LastCount is when the SKU was last counted here, if ever.
	LastCount  *time.Time `json:"last_count,omitempty"`
	UpdatedSeq int64      `json:"updated_seq"`
}

func (h *Hub) stock(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	rows, err := h.store.PositionsOfSKU(r.Context(), sku)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "storage_failed", "message": "could not read stock"}})
		return
	}
	total := map[string]event.Qty{}
	locs := make([]LocationStock, 0, len(rows))
	for _, row := range rows {
		ls := stockOf(h.channels, row)
		for ch, q := range ls.Channels {
			total[ch] += q
		}
		locs = append(locs, ls)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sku": sku, "locations": locs, "channels": total})
}

func stockOf(channels []availability.Channel, row store.PositionRow) LocationStock {
	ls := LocationStock{
		Location: row.Location, OnHand: row.OnHand(), Reserved: row.Reserved, InTransit: row.InTransit,
		Available: row.Available(), Channels: map[string]event.Qty{}, UpdatedSeq: row.UpdatedSeq,
	}
	if !row.CountAt.IsZero() {
		t := row.CountAt
		ls.LastCount = &t
	}
	for _, c := range channels {
		if c.Sells(row.Location) {
			ls.Channels[c.Name] = c.ATP(row.Position)
		}
	}
	return ls
}

func (h *Hub) snapshot(w http.ResponseWriter, r *http.Request, location string) {
	seq, rows, err := h.store.Snapshot(r.Context(), location)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "storage_failed", "message": "could not read stock"}})
		return
	}
	snap := inventory.Snapshot{Location: location, AsOfSeq: seq, Positions: make([]inventory.SnapshotPosition, len(rows))}
	for i, row := range rows {
		snap.Positions[i] = inventory.SnapshotOf(row.SKU, row.Position)
	}
	writeJSON(w, http.StatusOK, snap)
}

func (h *Hub) oversells(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "bad_parameter", "message": "limit must be a positive integer"}})
			return
		}
		limit = min(n, 10000)
	}
	rows, err := h.store.Oversells(r.Context(), limit)
	if err != nil && !errors.Is(err, context.Canceled) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "storage_failed", "message": "could not read oversells"}})
		return
	}
	if rows == nil {
		rows = []store.OversellRow{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"oversells": rows})
}
