package hub

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

// DestinationInfo is one entry of GET /v1/destinations.
type DestinationInfo struct {
	destination.Status
	Kind        string                    `json:"kind"`
	Account     string                    `json:"account"`
	LagEvents   int64                     `json:"lag_events"`
	DeadLetters int64                     `json:"dead_letters"`
	Governor    destination.GovernorStats `json:"governor"`
}

func (h *Hub) destinationRoutes(mux *router) {
	g := h.guard
	mux.HandleFunc("GET /v1/destinations", g.Require(access.Viewer, "list destinations", false, h.listDestinations))
	// Dead letters hold the documents meant for the ERP (sanitized, but
	// business data): a sensitive view, audited.
	mux.HandleFunc("GET /v1/destinations/{name}/dead-letters", g.Require(access.Viewer, "read dead letters", true, h.listDeadLetters))
	mux.HandleFunc("POST /v1/destinations/{name}/pause", g.Require(access.Operator, "pause destination", true, h.pauseDestination(true)))
	mux.HandleFunc("POST /v1/destinations/{name}/resume", g.Require(access.Operator, "resume destination", true, h.pauseDestination(false)))
	mux.HandleFunc("POST /v1/destinations/{name}/replay", g.Require(access.Operator, "replay destination", true, h.replayDestination))
	mux.HandleFunc("GET /v1/audit", g.Require(access.Admin, "read audit trail", true, h.auditLog))
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (h *Hub) destination(name string) *destination.ERPDestination {
	for _, d := range h.erps {
		if d.Name() == name {
			return d
		}
	}
	return nil
}

func (h *Hub) listDestinations(w http.ResponseWriter, r *http.Request) {
	head, err := h.store.Head(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not read the log")
		return
	}
	out := []DestinationInfo{}
	for i, d := range h.erps {
		cfg := h.cfg.Destinations[i]
		acc := h.accounts[cfg.Account]
		st := d.Status()
		// Before its first loop a destination has published nothing yet.
		st.Name = d.Name()
		if st.Mode == "" {
			st.Mode = destination.Mode(cfg.Mode)
			if st.Mode == "" {
				st.Mode = destination.Detail
			}
		}
		dead, err := h.store.CountDeadLetters(r.Context(), d.Name(), store.DeadParked)
		if err != nil {
			apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not read dead letters")
			return
		}
		out = append(out, DestinationInfo{Status: st, Kind: acc.cfg.Kind, Account: acc.cfg.Name,
			LagEvents: max(head-st.Cursor, 0), DeadLetters: dead, Governor: acc.gov.Stats()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"destinations": out, "log_head": head})
}

func (h *Hub) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if h.destination(name) == nil {
		apiError(w, http.StatusNotFound, "not_found", "no destination "+strconv.Quote(name))
		return
	}
	state := r.URL.Query().Get("state")
	rows, err := h.store.DeadLetters(r.Context(), name, state, 10000)
	if err != nil {
		apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not read dead letters")
		return
	}
	if rows == nil {
		rows = []store.DeadLetter{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": rows})
}

func (h *Hub) pauseDestination(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if h.destination(name) == nil {
			apiError(w, http.StatusNotFound, "not_found", "no destination "+strconv.Quote(name))
			return
		}
		if err := h.store.SetPaused(r.Context(), name, paused); err != nil {
			apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not save the request")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"destination": name, "paused": paused})
	}
}

// ReplayRequest is the body of POST /v1/destinations/{name}/replay: either
// dead letters (all parked, or those named) or the log from a position.
type ReplayRequest struct {
	DeadLetters bool     `json:"dead_letters"`
	IDs         []string `json:"ids,omitempty"`
	FromSeq     *int64   `json:"from_seq,omitempty"`
}

func (h *Hub) replayDestination(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if h.destination(name) == nil {
		apiError(w, http.StatusNotFound, "not_found", "no destination "+strconv.Quote(name))
		return
	}
	var req ReplayRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, intake.CodeMalformedJSON, err.Error())
		return
	}
	switch {
	case req.FromSeq != nil && (req.DeadLetters || len(req.IDs) > 0):
		apiError(w, http.StatusBadRequest, "bad_request", "replay either dead letters or from a log position, not both")
	case req.FromSeq != nil:
		if *req.FromSeq < 0 {
			apiError(w, http.StatusBadRequest, "bad_request", "from_seq must not be negative")
			return
		}
		if err := h.store.RequestRewind(r.Context(), name, *req.FromSeq); err != nil {
			apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not save the request")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"destination": name, "from_seq": *req.FromSeq})
	case req.DeadLetters || len(req.IDs) > 0:
		n, err := h.store.RequestReplay(r.Context(), name, req.IDs)
		if err != nil {
			apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not save the request")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"destination": name, "dead_letters": n})
	default:
		apiError(w, http.StatusBadRequest, "bad_request", `send {"dead_letters": true}, {"ids": [...]} or {"from_seq": N}`)
	}
}

func (h *Hub) auditLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after_id"), 10, 64)
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			apiError(w, http.StatusBadRequest, "bad_parameter", "limit must be a positive integer")
			return
		}
		limit = min(n, 10000)
	}
	rows, err := h.store.AuditLog(r.Context(), after, q.Get("actor"), q.Get("action"), limit)
	if err != nil {
		apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not read the audit trail")
		return
	}
	if rows == nil {
		rows = []store.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": rows})
}
