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

func (s *Store) insertEvents(ctx context.Context, tx querier, offer []pending, storedAt time.Time) (map[string]int64, error) {
	seqs := make(map[string]int64, len(offer))
	const cols = 11
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
		rows, err := tx.QueryContext(ctx, s.rebind(q), args...)
		if err != nil {
			return nil, fmt.Errorf("store: append events: %w", err)
		}
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("store: append events: %w", err)
			}
			seqs[id] = seq
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: append events: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: append events: %w", err)
		}
	}
	return seqs, nil
}

type existingEvent struct {
	seq         int64
	location    string
	fingerprint string
}

func (s *Store) lookupEvents(ctx context.Context, q querier, ids []string) (map[string]existingEvent, error) {
	out := make(map[string]existingEvent, len(ids))
	err := inChunks(ids, func(chunk []string) error {
		rows, err := q.QueryContext(ctx, s.rebind(`SELECT id, seq, location, fingerprint FROM events WHERE id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var ex existingEvent
			if err := rows.Scan(&id, &ex.seq, &ex.location, &ex.fingerprint); err != nil {
				return err
			}
			out[id] = ex
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: look up existing events: %w", err)
	}
	return out, nil
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

func (s *Store) eventsByID(ctx context.Context, q querier, ids []string) (map[string]*Stored, error) {
	out := make(map[string]*Stored, len(ids))
	err := inChunks(ids, func(chunk []string) error {
		rows, err := q.QueryContext(ctx, s.rebind(`SELECT seq, stored_at, body FROM events WHERE id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			st, err := scanStored(rows)
			if err != nil {
				return err
			}
			out[st.Event.ID] = st
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: load events by ID: %w", err)
	}
	return out, nil
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

func scanStored(rows *sql.Rows) (*Stored, error) {
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
