package hub

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

// health is every store's sync health, kept in memory — every uplink batch
// updates it, and a write per batch would cost the committer an extra
// fsync — and saved to the database every second.
type health struct {
	mu    sync.Mutex
	byLoc map[string]*store.Health
	dirty map[string]bool
}

func newHealth(saved []store.Health) *health {
	h := &health{byLoc: map[string]*store.Health{}, dirty: map[string]bool{}}
	for _, s := range saved {
		h.byLoc[s.Location] = &s
	}
	return h
}

// touch records contact from a store: received events are added to its
// count; backlog and oldest unsynced time are as its edge reported them.
func (h *health) touch(location string, at time.Time, rep *intake.EdgeReport, received int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.byLoc[location]
	if s == nil {
		s = &store.Health{Location: location}
		h.byLoc[location] = s
	}
	s.LastContact = at
	s.EventsReceived += received
	if rep != nil {
		s.EdgeID, s.Backlog, s.OldestUnsyncedAt = rep.ID, rep.Backlog, rep.OldestUnsyncedAt
	}
	h.dirty[location] = true
}

// list returns every store's health, by location.
func (h *health) list() []store.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]store.Health, 0, len(h.byLoc))
	for _, s := range h.byLoc {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Location < out[j].Location })
	return out
}

// flush saves what changed since the last flush.
func (h *health) flush(ctx context.Context, st *store.Store) error {
	h.mu.Lock()
	var out []store.Health
	for loc := range h.dirty {
		out = append(out, *h.byLoc[loc])
	}
	h.dirty = map[string]bool{}
	h.mu.Unlock()
	if err := st.SaveHealth(ctx, out); err != nil {
		h.mu.Lock()
		for _, s := range out {
			h.dirty[s.Location] = true
		}
		h.mu.Unlock()
		return err
	}
	return nil
}

// run flushes every second until ctx ends, then once more.
func (h *health) run(ctx context.Context, st *store.Store, onErr func(error)) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := h.flush(context.WithoutCancel(ctx), st); err != nil {
				onErr(err)
			}
			return
		case <-t.C:
			if err := h.flush(ctx, st); err != nil {
				onErr(err)
			}
		}
	}
}
