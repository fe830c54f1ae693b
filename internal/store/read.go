package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// PositionRow is a stored position with the log sequence that last changed it.
type PositionRow struct {
	inventory.Key
	inventory.Position
	UpdatedSeq int64
}

func collectPositions(rows *sql.Rows) ([]PositionRow, error) {
	defer rows.Close()
	var out []PositionRow
	for rows.Next() {
		k, p, seq, err := scanPosition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, PositionRow{Key: k, Position: p, UpdatedSeq: seq})
	}
	return out, rows.Err()
}

// PositionsOfSKU returns a SKU's position at every location that has one.
func (s *Store) PositionsOfSKU(ctx context.Context, sku string) ([]PositionRow, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT `+positionCols+` FROM positions WHERE sku = ? ORDER BY location`), sku)
	if err != nil {
		return nil, fmt.Errorf("store: positions of %s: %w", sku, err)
	}
	out, err := collectPositions(rows)
	if err != nil {
		return nil, fmt.Errorf("store: positions of %s: %w", sku, err)
	}
	return out, nil
}

// PositionsByKey returns the stored positions for keys (absent keys are
// left out).
func (s *Store) PositionsByKey(ctx context.Context, keys []inventory.Key) (map[inventory.Key]inventory.Position, error) {
	out := make(map[inventory.Key]inventory.Position, len(keys))
	err := s.loadPositions(ctx, s.r, keys, func(k inventory.Key, p inventory.Position) { out[k] = p })
	return out, err
}

// Snapshot returns every position at a location together with the log
// sequence it reflects, read in one consistent transaction.
func (s *Store) Snapshot(ctx context.Context, location string) (int64, []PositionRow, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return 0, nil, fmt.Errorf("store: snapshot %s: %w", location, err)
	}
	defer func() { _ = tx.Rollback() }()
	var head int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&head); err != nil {
		return 0, nil, fmt.Errorf("store: snapshot %s: %w", location, err)
	}
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT `+positionCols+` FROM positions WHERE location = ? ORDER BY sku`), location)
	if err != nil {
		return 0, nil, fmt.Errorf("store: snapshot %s: %w", location, err)
	}
	out, err := collectPositions(rows)
	if err != nil {
		return 0, nil, fmt.Errorf("store: snapshot %s: %w", location, err)
	}
	return head, out, nil
}

// AllPositions returns every stored position.
func (s *Store) AllPositions(ctx context.Context) ([]PositionRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+positionCols+` FROM positions ORDER BY sku, location`)
	if err != nil {
		return nil, fmt.Errorf("store: read positions: %w", err)
	}
	out, err := collectPositions(rows)
	if err != nil {
		return nil, fmt.Errorf("store: read positions: %w", err)
	}
	return out, nil
}

// OversellRow is a recorded oversell with the seq of the batch that found it.
type OversellRow struct {
	Seq int64 `json:"seq"`
	inventory.Oversell
}

// Oversells returns recorded oversells, oldest first.
func (s *Store) Oversells(ctx context.Context, limit int) ([]OversellRow, error) {
	return s.oversells(ctx, `ORDER BY seq LIMIT ?`, limit)
}

// oversells reads oversell rows; tail is the query's WHERE, ORDER BY and
// LIMIT.
func (s *Store) oversells(ctx context.Context, tail string, args ...any) ([]OversellRow, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT seq, event_id, kind, sku, location, order_id, requested, on_hand, reserved, at
		FROM oversells `+tail), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read oversells: %w", err)
	}
	defer rows.Close()
	var out []OversellRow
	for rows.Next() {
		var o OversellRow
		var req, onHand, reserved, at int64
		if err := rows.Scan(&o.Seq, &o.EventID, &o.Kind, &o.SKU, &o.Location, &o.OrderID, &req, &onHand, &reserved, &at); err != nil {
			return nil, fmt.Errorf("store: read oversells: %w", err)
		}
		o.Requested, o.OnHand, o.Reserved, o.At = event.Qty(req), event.Qty(onHand), event.Qty(reserved), time.UnixMicro(at).UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read oversells: %w", err)
	}
	return out, nil
}

// CountOversells returns how many oversells were recorded.
func (s *Store) CountOversells(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM oversells`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count oversells: %w", err)
	}
	return n, nil
}

// Cursor returns a destination's last delivered seq (0 if it never ran).
func (s *Store) Cursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := s.w.QueryRowContext(ctx, s.rebind(`SELECT seq FROM cursors WHERE name = ?`), name).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read cursor %s: %w", name, err)
	}
	return seq, nil
}

// SetCursor records a destination's last delivered seq.
func (s *Store) SetCursor(ctx context.Context, name string, seq int64) error {
	err := s.light(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO cursors (name, seq, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`), name, seq, time.Now().UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: write cursor %s: %w", name, err)
	}
	return nil
}

// Health is what the hub knows of one store's sync.
type Health struct {
	Location         string    `json:"location"`
	EdgeID           string    `json:"edge_id,omitempty"`
	LastContact      time.Time `json:"last_contact"`
	EventsReceived   int64     `json:"events_received"`
	Backlog          int64     `json:"backlog"`
	OldestUnsyncedAt time.Time `json:"oldest_unsynced_at,omitzero"`
}

// SaveHealth writes the sync health of stores, in one transaction.
func (s *Store) SaveHealth(ctx context.Context, hs []Health) error {
	if len(hs) == 0 {
		return nil
	}
	q := s.rebind(`INSERT INTO store_health (location, last_contact, events_received, backlog, oldest_unsynced_at, edge_id)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (location) DO UPDATE SET last_contact = excluded.last_contact,
		events_received = excluded.events_received, backlog = excluded.backlog,
		oldest_unsynced_at = excluded.oldest_unsynced_at, edge_id = excluded.edge_id`)
	err := s.light(ctx, func(tx *sql.Tx) error {
		for _, h := range hs {
			if _, err := tx.ExecContext(ctx, q, h.Location, micros(h.LastContact), h.EventsReceived, h.Backlog, micros(h.OldestUnsyncedAt), h.EdgeID); err != nil {
				return fmt.Errorf("store: save health of %s: %w", h.Location, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save store health: %w", err)
	}
	return nil
}

// Stores returns the sync health of every store that has made contact.
func (s *Store) Stores(ctx context.Context) ([]Health, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT location, edge_id, last_contact, events_received, backlog, oldest_unsynced_at FROM store_health ORDER BY location`)
	if err != nil {
		return nil, fmt.Errorf("store: read store health: %w", err)
	}
	defer rows.Close()
	var out []Health
	for rows.Next() {
		var h Health
		var last, oldest int64
		if err := rows.Scan(&h.Location, &h.EdgeID, &last, &h.EventsReceived, &h.Backlog, &oldest); err != nil {
			return nil, fmt.Errorf("store: read store health: %w", err)
		}
		if last != 0 {
			h.LastContact = time.UnixMicro(last).UTC()
		}
		if oldest != 0 {
			h.OldestUnsyncedAt = time.UnixMicro(oldest).UTC()
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// CheckLedger rebuilds the ledger from the whole log in memory and compares
// it with the stored positions. It returns one line per difference.
func (s *Store) CheckLedger(ctx context.Context) ([]string, error) {
	mem := inventory.NewMemory()
	var after int64
	for {
		batch, err := s.EventsAfter(ctx, after, 5000)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
		applied := make([]inventory.Applied, len(batch))
		for i, st := range batch {
			applied[i] = inventory.Applied{Seq: st.Seq, Event: st.Event}
		}
		if _, err := mem.Apply(applied); err != nil {
			return nil, err
		}
		after = batch[len(batch)-1].Seq
	}
	stored, err := s.AllPositions(ctx)
	if err != nil {
		return nil, err
	}
	return inventory.Diff(mem, stored2map(stored)), nil
}

func stored2map(rows []PositionRow) map[inventory.Key]inventory.Position {
	m := make(map[inventory.Key]inventory.Position, len(rows))
	for _, r := range rows {
		m[r.Key] = r.Position
	}
	return m
}

// PositionsChangedAfter returns positions last changed by a batch with seq >
// after, oldest change first, and the cursor to pass next time. A batch's
// positions all carry its last seq, so a page never splits one seq: a
// reader that resumes from the returned cursor misses nothing. This is how
// availability destinations read the ledger through their own cursor, and
// how a reconnecting subscriber catches up.
func (s *Store) PositionsChangedAfter(ctx context.Context, after int64, limit int) ([]PositionRow, int64, error) {
	q := `SELECT ` + positionCols + ` FROM positions WHERE updated_seq > ? ORDER BY updated_seq, sku, location LIMIT ?`
	rows, err := s.r.QueryContext(ctx, s.rebind(q), after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("store: positions changed after %d: %w", after, err)
	}
	out, err := collectPositions(rows)
	if err != nil {
		return nil, after, fmt.Errorf("store: positions changed after %d: %w", after, err)
	}
	if len(out) < limit {
		if len(out) == 0 {
			return nil, after, nil
		}
		return out, out[len(out)-1].UpdatedSeq, nil
	}
	last := out[len(out)-1].UpdatedSeq
	cut := len(out)
	for cut > 0 && out[cut-1].UpdatedSeq == last {
		cut--
	}
	if cut > 0 {
		return out[:cut], out[cut-1].UpdatedSeq, nil
	}
	// One batch changed more positions than a page: take all of it.
	rows, err = s.r.QueryContext(ctx, s.rebind(`SELECT `+positionCols+` FROM positions WHERE updated_seq = ? ORDER BY sku, location`), last)
	if err != nil {
		return nil, after, fmt.Errorf("store: positions changed at %d: %w", last, err)
	}
	out, err = collectPositions(rows)
	if err != nil {
		return nil, after, fmt.Errorf("store: positions changed at %d: %w", last, err)
	}
	return out, last, nil
}

// OldestAfter returns when the first event after seq was stored (zero time
// if there is none): the age of a destination's oldest undelivered event.
func (s *Store) OldestAfter(ctx context.Context, seq int64) (time.Time, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT stored_at FROM events WHERE seq > ? ORDER BY seq LIMIT 1`), seq).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: read event %d: %w", seq, err)
	}
	return time.UnixMicro(at).UTC(), nil
}

// CountDuplicates counts what would be a duplicate in the log: an event ID
// stored twice, or two events with the same store sequence from one
// location. Both are impossible by construction; the demo and the crash
// tests check it anyway.
func (s *Store) CountDuplicates(ctx context.Context) (int64, error) {
	var ids, seqs int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) - COUNT(DISTINCT id) FROM events`).Scan(&ids); err != nil {
		return 0, fmt.Errorf("store: count duplicate IDs: %w", err)
	}
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM events
		WHERE store_seq > 0 GROUP BY location, store_seq HAVING COUNT(*) > 1) AS d`).Scan(&seqs)
	if err != nil {
		return 0, fmt.Errorf("store: count duplicate store sequences: %w", err)
	}
	return ids + seqs, nil
}

// HasCursor reports whether a destination has a cursor yet.
func (s *Store) HasCursor(ctx context.Context, name string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM cursors WHERE name = ?`), name).Scan(&n); err != nil {
		return false, fmt.Errorf("store: read cursor %s: %w", name, err)
	}
	return n > 0, nil
}
