package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// queueInsert queues the insert of new events into the log; seqs gets the
// log sequence of each one stored (an ID already in the log is left out).
func (s *Store) queueInsert(st steps, offer []pending, storedAt time.Time, seqs map[string]int64) {
	const cols = 11
	read := func(r rows) error {
		for r.Next() {
			var seq int64
			var id string
			if err := r.Scan(&seq, &id); err != nil {
				return fmt.Errorf("store: append events: %w", err)
			}
			seqs[id] = seq
		}
		return nil
	}
	for start, end := 0, 0; start < len(offer); start = end {
		end = chunkEnd(start, len(offer))
		chunk := offer[start:end]
		args := make([]any, 0, len(chunk)*cols)
		for _, p := range chunk {
			e := p.e
			args = append(args, e.ID, string(e.Type), e.Location, e.Source, e.OccurredAt.UnixMicro(), e.Zone,
				e.ReceivedAt.UnixMicro(), storedAt.UnixMicro(), e.StoreSeq, p.fp, string(p.body))
		}
		q := `INSERT INTO events (id, type, location, source, occurred_at, zone, received_at, stored_at, store_seq, fingerprint, body) VALUES ` +
			values(len(chunk), cols) + ` ON CONFLICT (id) DO NOTHING RETURNING seq, id`
		st.query(s.rebind(q), args, read)
	}
}

type existingEvent struct {
	seq         int64
	location    string
	fingerprint string
}

// queueLookup queues the read of events already in the log by ID into out.
func (s *Store) queueLookup(st steps, ids []string, out map[string]existingEvent) {
	s.queueIn(st, `SELECT id, seq, location, fingerprint FROM events WHERE id`, ids, func(r rows) error {
		for r.Next() {
			var id string
			var ex existingEvent
			if err := r.Scan(&id, &ex.seq, &ex.location, &ex.fingerprint); err != nil {
				return fmt.Errorf("store: look up existing events: %w", err)
			}
			out[id] = ex
		}
		return nil
	})
}

// Stored is an event as the log holds it.
type Stored struct {
	Seq      int64
	StoredAt time.Time
	Event    *event.Event
}

// EventsByID loads events from the log by ID; absent IDs are left out.
func (s *Store) EventsByID(ctx context.Context, ids []string) (map[string]*Stored, error) {
	return s.eventsByID(ctx, s.r, ids)
}

func (s *Store) eventsByID(ctx context.Context, q queryExecer, ids []string) (map[string]*Stored, error) {
	out := make(map[string]*Stored, len(ids))
	st := newSQLSteps(ctx, q)
	s.queueEvents(st, ids, func(e *Stored) { out[e.Event.ID] = e })
	if err := st.flush(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// queueEvents queues the read of events from the log by ID; each found is
// handed to found.
func (s *Store) queueEvents(st steps, ids []string, found func(*Stored)) {
	s.queueIn(st, `SELECT seq, stored_at, body FROM events WHERE id`, ids, func(r rows) error {
		for r.Next() {
			e, err := scanStored(r)
			if err != nil {
				return fmt.Errorf("store: load events by ID: %w", err)
			}
			found(e)
		}
		return nil
	})
}

// EventsAfter returns up to limit events with seq > after, in log order.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]*Stored, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT seq, stored_at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read log after %d: %w", after, err)
	}
	defer rows.Close()
	var out []*Stored
	for rows.Next() {
		st, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read log after %d: %w", after, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func scanStored(rows rows) (*Stored, error) {
	var st Stored
	var storedAt int64
	var body string
	if err := rows.Scan(&st.Seq, &storedAt, &body); err != nil {
		return nil, err
	}
	st.StoredAt = time.UnixMicro(storedAt).UTC()
	st.Event = new(event.Event)
	if err := json.Unmarshal([]byte(body), st.Event); err != nil {
		return nil, fmt.Errorf("event at seq %d does not decode: %w", st.Seq, err)
	}
	return &st, nil
}

// Head returns the highest log sequence number (0 for an empty log).
func (s *Store) Head(ctx context.Context) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: read log head: %w", err)
	}
	return seq, nil
}

// CountEvents returns how many events the log holds.
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count events: %w", err)
	}
	return n, nil
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func inChunks[T any](xs []T, f func([]T) error) error {
	for start, end := 0, 0; start < len(xs); start = end {
		end = chunkEnd(start, len(xs))
		if err := f(xs[start:end]); err != nil {
			return err
		}
	}
	return nil
}
