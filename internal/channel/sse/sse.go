// Package sse streams availability changes to HTTP clients as Server-Sent
// Events (GET /v1/availability/stream). A client that reconnects with
// Last-Event-ID gets, from the ledger, the current value of everything that
// changed since, then live updates; values are absolute, so a repeat is
// harmless and a gap is impossible.
package sse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
)

// Handler serves the availability stream.
type Handler struct {
	Broker   *availability.Broker
	Store    *store.Store
	Channels []availability.Channel
	// Heartbeat is the interval of keep-alive comments; default 15s.
	Heartbeat time.Duration
	// Stopping, when closed, ends every stream (server shutdown).
	Stopping <-chan struct{}
}

// ServeHTTP implements http.Handler. Query parameters channel, sku and
// location filter the stream; snapshot=true first sends every current value.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	f := availability.Filter{Channel: q.Get("channel"), SKU: q.Get("sku"), Location: q.Get("location")}
	var since int64 = -1
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "Last-Event-ID must be a log sequence number", http.StatusBadRequest)
			return
		}
		// Updates of one seq may have been cut off mid-way: resend it.
		since = max(n-1, 0)
	}
	sub := h.Broker.Subscribe(f)
	defer sub.Close()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()

	ctx := r.Context()
	switch {
	case since >= 0:
		if err := h.backfill(ctx, w, f, since); err != nil {
			return
		}
	case q.Get("snapshot") == "true":
		if err := write(w, h.Broker.Current(f)); err != nil {
			return
		}
	}
	fl.Flush()

	hb := h.Heartbeat
	if hb <= 0 {
		hb = 15 * time.Second
	}
	ticker := time.NewTicker(hb)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.Stopping:
			return
		case <-ticker.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case <-sub.Ready():
			if err := write(w, sub.Take()); err != nil {
				return
			}
		}
		fl.Flush()
	}
}

func (h *Handler) backfill(ctx context.Context, w http.ResponseWriter, f availability.Filter, since int64) error {
	now := time.Now().UTC()
	for {
		rows, next, err := h.Store.PositionsChangedAfter(ctx, since, 1000)
		if err != nil || len(rows) == 0 {
			return err
		}
		var ups []availability.Update
		for _, r := range rows {
			one := map[inventory.Key]inventory.Position{r.Key: r.Position}
			for _, u := range availability.Updates(h.Channels, one, r.UpdatedSeq, nil, now) {
				if f.Match(&u) {
					ups = append(ups, u)
				}
			}
		}
		if err := write(w, ups); err != nil {
			return err
		}
		since = next
	}
}

func write(w http.ResponseWriter, ups []availability.Update) error {
	for i := range ups {
		b, err := json.Marshal(&ups[i])
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: availability\ndata: %s\n\n", ups[i].Seq, b); err != nil {
			return err
		}
	}
	return nil
}
