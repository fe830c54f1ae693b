package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// view is the store's own stock picture: the hub's last snapshot of this
// location plus every local event the snapshot does not reflect yet (not
// synced, or synced after the snapshot was taken).
type view struct {
	mu     sync.Mutex
	ledger *inventory.Ledger
	asOf   int64
}

func newView() *view { return &view{ledger: inventory.NewMemory()} }

// position returns the current estimate for a SKU.
func (v *view) position(key inventory.Key) (inventory.Position, int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.ledger.Position(key), v.asOf
}

// apply adds freshly stored local events to the view.
func (v *view) apply(events []*event.Event, targets func(ids []string) map[string]*event.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.applyLocked(events, targets)
}

func (v *view) applyLocked(events []*event.Event, targets func(ids []string) map[string]*event.Event) {
	var want []string
	for _, e := range events {
		if b, ok := e.Body.(*event.Void); ok {
			want = append(want, b.VoidedEventID)
		}
	}
	if len(want) > 0 && targets != nil {
		for _, t := range targets(want) {
			v.ledger.LoadTarget(t)
		}
	}
	applied := make([]inventory.Applied, len(events))
	for i, e := range events {
		applied[i] = inventory.Applied{Seq: e.StoreSeq, Event: e}
	}
	_, _ = v.ledger.Apply(applied) // a full ledger cannot miss state
}

// reset replaces the view with a snapshot plus the unreflected events.
func (v *view) reset(snap *inventory.Snapshot, location string, unreflected []*event.Event, targets func(ids []string) map[string]*event.Event) {
	l := inventory.NewMemory()
	for _, p := range snap.Positions {
		l.LoadPosition(inventory.Key{SKU: p.SKU, Location: location}, p.Position())
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ledger, v.asOf = l, snap.AsOfSeq
	v.applyLocked(unreflected, targets)
}

// loadSnapshot reads the last snapshot saved locally (empty if none).
func (o *outbox) loadSnapshot(ctx context.Context, location string) (*inventory.Snapshot, error) {
	snap := &inventory.Snapshot{Location: location}
	if v, ok, err := o.meta(ctx, "snapshot_seq"); err != nil {
		return nil, err
	} else if ok {
		snap.AsOfSeq, _ = strconv.ParseInt(v, 10, 64)
	}
	rows, err := o.r.QueryContext(ctx, `SELECT body FROM snapshot ORDER BY sku`)
	if err != nil {
		return nil, fmt.Errorf("edge: read snapshot: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("edge: read snapshot: %w", err)
		}
		var p inventory.SnapshotPosition
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, fmt.Errorf("edge: read snapshot: %w", err)
		}
		snap.Positions = append(snap.Positions, p)
	}
	return snap, rows.Err()
}

// saveSnapshot replaces the local copy of the hub's snapshot.
func (o *outbox) saveSnapshot(ctx context.Context, snap *inventory.Snapshot) error {
	tx, err := o.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `DELETE FROM snapshot`); err != nil {
		return err
	}
	for _, p := range snap.Positions {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO snapshot (sku, body) VALUES (?, ?)`, p.SKU, string(b)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('snapshot_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		strconv.FormatInt(snap.AsOfSeq, 10)); err != nil {
		return err
	}
	return tx.Commit()
}

// unreflected returns local events the hub snapshot at asOf does not
// include, in store order.
func (o *outbox) unreflected(ctx context.Context, asOf int64) ([]*event.Event, error) {
	// Two indexed halves: the unsynced events, and those the hub stored
	// after the snapshot was taken.
	rows, err := o.r.QueryContext(ctx, `SELECT body FROM (
		SELECT seq, body FROM outbox WHERE synced_at = 0 AND rejected = ''
		UNION SELECT seq, body FROM outbox WHERE hub_seq > ? AND rejected = '') ORDER BY seq`, asOf)
	if err != nil {
		return nil, fmt.Errorf("edge: read unsynced events: %w", err)
	}
	return decodeRows(rows)
}

// byID returns local events by ID (for voids whose target is local).
func (o *outbox) byID(ctx context.Context, ids []string) (map[string]*event.Event, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT body FROM outbox WHERE id IN (` + placeholders(len(ids)) + `)`
	rows, err := o.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	evs, err := decodeRows(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*event.Event, len(evs))
	for _, e := range evs {
		out[e.ID] = e
	}
	return out, nil
}
