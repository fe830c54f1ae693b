package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DeadLetter is a document a destination gave up on, with the ERP's error.
type DeadLetter struct {
	Destination string    `json:"destination"`
	ExternalID  string    `json:"external_id"`
	Thread      string    `json:"thread"`
	Seq         int64     `json:"seq"`
	Kind        string    `json:"kind"`
	Attempts    int       `json:"attempts"`
	Class       string    `json:"class"`
	Error       string    `json:"error"`
	FirstFailed time.Time `json:"first_failed_at"`
	LastFailed  time.Time `json:"last_failed_at"`
	// State is parked (waiting for a human), replay (asked to be
	// re-delivered) or resolved (delivered on replay).
	State string `json:"state"`
	// Document is the ERP document as JSON, sanitized like every posting.
	Document string `json:"document"`
	// PeriodKey and Part number a parked summary's part, which stays taken
	// (a later part of its period must not reuse its external ID).
	PeriodKey string `json:"-"`
	Part      int    `json:"-"`
}

// Dead-letter states.
const (
	DeadParked   = "parked"
	DeadReplay   = "replay"
	DeadResolved = "resolved"
)

// Delivered is a document an ERP confirmed.
type Delivered struct {
	ExternalID string
	Kind       string
	Seq        int64
	Events     int
	// SummaryEvents are the events a summary carried (nil for detail).
	SummaryEvents []string
	// PeriodKey and Part number a summary's part for its period.
	PeriodKey string
	Part      int
}

// Progress is one flush of a destination's progress: its new cursor, the
// documents delivered and the dead letters parked or resolved since the
// last flush, in one transaction.
type Progress struct {
	Destination string
	Cursor      int64
	Delivered   []Delivered
	Dead        []DeadLetter
	Resolved    []string // external IDs of dead letters delivered on replay
}

// SaveProgress writes a destination's progress atomically: a crash never
// leaves the cursor ahead of what was delivered or parked.
func (s *Store) SaveProgress(ctx context.Context, p Progress) error {
	// A lost save only means re-posting (upserts by external ID) and
	// re-parking: no fsync of its own.
	err := s.light(ctx, func(tx *sql.Tx) error { return s.saveProgress(ctx, tx, p) })
	if err != nil {
		return fmt.Errorf("store: save progress of %s: %w", p.Destination, err)
	}
	return nil
}

func (s *Store) saveProgress(ctx context.Context, tx *sql.Tx, p Progress) error {
	now := time.Now().UnixMicro()
	st := newSQLSteps(ctx, tx)
	s.insertRows(st, `INSERT INTO deliveries (destination, external_id, kind, seq, events, delivered_at) VALUES `,
		` ON CONFLICT (destination, external_id) DO UPDATE SET delivered_at = excluded.delivered_at`, 6, len(p.Delivered),
		func(i int, a []any) []any {
			d := p.Delivered[i]
			return append(a, p.Destination, d.ExternalID, d.Kind, d.Seq, d.Events, now)
		})
	if err := st.flush(ctx); err != nil {
		return fmt.Errorf("store: record deliveries: %w", err)
	}
	for _, d := range p.Delivered {
		if d.SummaryEvents == nil {
			continue
		}
		if d.PeriodKey != "" {
			if err := s.takeSummaryPart(ctx, tx, p.Destination, d.PeriodKey, d.Part); err != nil {
				return err
			}
		}
		s.insertRows(st, `INSERT INTO summary_items (destination, summary_id, event_id) VALUES `,
			` ON CONFLICT (destination, summary_id, event_id) DO NOTHING`, 3, len(d.SummaryEvents), func(i int, a []any) []any {
				return append(a, p.Destination, d.ExternalID, d.SummaryEvents[i])
			})
		if err := st.flush(ctx); err != nil {
			return fmt.Errorf("store: record summary contents: %w", err)
		}
	}
	for _, d := range p.Dead {
		if d.PeriodKey != "" {
			if err := s.takeSummaryPart(ctx, tx, p.Destination, d.PeriodKey, d.Part); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO dead_letters (destination, external_id, thread, seq, kind, attempts, class, error,
			first_failed_at, last_failed_at, state, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (destination, external_id) DO UPDATE SET attempts = dead_letters.attempts + excluded.attempts,
			class = excluded.class, error = excluded.error, last_failed_at = excluded.last_failed_at, state = excluded.state`),
			p.Destination, d.ExternalID, d.Thread, d.Seq, d.Kind, d.Attempts, d.Class, d.Error,
			d.FirstFailed.UnixMicro(), d.LastFailed.UnixMicro(), DeadParked, d.Document); err != nil {
			return fmt.Errorf("store: park dead letter %s: %w", d.ExternalID, err)
		}
	}
	for _, id := range p.Resolved {
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE dead_letters SET state = ? WHERE destination = ? AND external_id = ?`),
			DeadResolved, p.Destination, id); err != nil {
			return fmt.Errorf("store: resolve dead letter %s: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO cursors (name, seq, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`), p.Destination, p.Cursor, now); err != nil {
		return fmt.Errorf("store: write cursor %s: %w", p.Destination, err)
	}
	return nil
}

// takeSummaryPart records that a period's summary part is taken (delivered
// or parked).
func (s *Store) takeSummaryPart(ctx context.Context, tx *sql.Tx, destination, periodKey string, part int) error {
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO summary_parts (destination, period_key, parts) VALUES (?, ?, ?)
		ON CONFLICT (destination, period_key) DO UPDATE SET parts = CASE WHEN excluded.parts > summary_parts.parts THEN excluded.parts ELSE summary_parts.parts END`),
		destination, periodKey, part); err != nil {
		return fmt.Errorf("store: record summary part: %w", err)
	}
	return nil
}

// DeadLetters lists a destination's dead letters in a state ("" for all),
// oldest first. An empty destination lists every destination's.
func (s *Store) DeadLetters(ctx context.Context, destination, state string, limit int) ([]DeadLetter, error) {
	q := `SELECT destination, external_id, thread, seq, kind, attempts, class, error, first_failed_at, last_failed_at, state, document
		FROM dead_letters WHERE (? = '' OR destination = ?) AND (? = '' OR state = ?) ORDER BY destination, seq, external_id LIMIT ?`
	rows, err := s.r.QueryContext(ctx, s.rebind(q), destination, destination, state, state, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var first, last int64
		if err := rows.Scan(&d.Destination, &d.ExternalID, &d.Thread, &d.Seq, &d.Kind, &d.Attempts, &d.Class, &d.Error,
			&first, &last, &d.State, &d.Document); err != nil {
			return nil, fmt.Errorf("store: read dead letters: %w", err)
		}
		d.FirstFailed, d.LastFailed = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// ParkedThreads returns the threads of a destination that have a parked
// dead letter: later documents of those threads wait behind it.
func (s *Store) ParkedThreads(ctx context.Context, destination string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT thread, external_id FROM dead_letters WHERE destination = ? AND state = ? ORDER BY seq`),
		destination, DeadParked)
	if err != nil {
		return nil, fmt.Errorf("store: read parked threads: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var thread, id string
		if err := rows.Scan(&thread, &id); err != nil {
			return nil, err
		}
		if _, ok := out[thread]; !ok {
			out[thread] = id
		}
	}
	return out, rows.Err()
}

// RequestReplay marks dead letters for re-delivery: all parked ones of the
// destination, or only those named.
func (s *Store) RequestReplay(ctx context.Context, destination string, ids []string) (int64, error) {
	var res sql.Result
	var err error
	if len(ids) == 0 {
		res, err = s.w.ExecContext(ctx, s.rebind(`UPDATE dead_letters SET state = ? WHERE destination = ? AND state = ?`),
			DeadReplay, destination, DeadParked)
	} else {
		args := append([]any{DeadReplay, destination, DeadParked}, anys(ids)...)
		res, err = s.w.ExecContext(ctx, s.rebind(`UPDATE dead_letters SET state = ? WHERE destination = ? AND state = ? AND external_id IN (`+marks(len(ids))+`)`), args...)
	}
	if err != nil {
		return 0, fmt.Errorf("store: request replay: %w", err)
	}
	return res.RowsAffected()
}

// DestinationState is what an operator asked of a destination.
type DestinationState struct {
	Paused bool `json:"paused"`
	// ReplayFrom, when ≥ 0, asks the destination to re-deliver everything
	// after that log position (its cursor is set to it).
	ReplayFrom int64 `json:"replay_from"`
}

// GetDestinationState reads a destination's operator state.
func (s *Store) GetDestinationState(ctx context.Context, name string) (DestinationState, error) {
	var st DestinationState
	var paused int
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT paused, replay_from FROM destination_state WHERE name = ?`), name).Scan(&paused, &st.ReplayFrom)
	if errors.Is(err, sql.ErrNoRows) {
		return DestinationState{ReplayFrom: -1}, nil
	}
	if err != nil {
		return st, fmt.Errorf("store: read state of %s: %w", name, err)
	}
	st.Paused = paused != 0
	return st, nil
}

// SetPaused pauses or resumes a destination.
func (s *Store) SetPaused(ctx context.Context, name string, paused bool) error {
	_, err := s.w.ExecContext(ctx, s.rebind(`INSERT INTO destination_state (name, paused, replay_from, updated_at) VALUES (?, ?, -1, ?)
		ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`), name, boolInt(paused), time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("store: pause %s: %w", name, err)
	}
	return nil
}

// RequestRewind asks a destination to re-deliver from a log position (-1
// clears the request, which the destination does once it has rewound).
func (s *Store) RequestRewind(ctx context.Context, name string, from int64) error {
	_, err := s.w.ExecContext(ctx, s.rebind(`INSERT INTO destination_state (name, paused, replay_from, updated_at) VALUES (?, 0, ?, ?)
		ON CONFLICT (name) DO UPDATE SET replay_from = excluded.replay_from, updated_at = excluded.updated_at`), name, from, time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("store: rewind %s: %w", name, err)
	}
	return nil
}

// SummaryParts returns how many summary parts were posted for a period.
func (s *Store) SummaryParts(ctx context.Context, destination, periodKey string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT parts FROM summary_parts WHERE destination = ? AND period_key = ?`), destination, periodKey).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// SummaryOf returns the summary document that carried an event, if any.
func (s *Store) SummaryOf(ctx context.Context, destination, eventID string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT summary_id FROM summary_items WHERE destination = ? AND event_id = ?`), destination, eventID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// DeliveryCounts returns how many documents and events a destination has
// delivered.
func (s *Store) DeliveryCounts(ctx context.Context, destination string) (docs, events int64, err error) {
	err = s.r.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*), COALESCE(SUM(events), 0) FROM deliveries WHERE destination = ?`), destination).Scan(&docs, &events)
	return docs, events, err
}

// Summarized reports which of the events a destination's delivered
// summaries already carry.
func (s *Store) Summarized(ctx context.Context, destination string, ids []string) (map[string]bool, error) {
	out, err := s.destinationIDs(ctx, `SELECT event_id FROM summary_items WHERE destination = ? AND event_id IN (`, destination, ids)
	if err != nil {
		return nil, fmt.Errorf("store: read summarized events: %w", err)
	}
	return out, nil
}

// destinationIDs reports which of ids a query of one destination's rows
// finds; query ends in "IN (", for the ids' placeholders.
func (s *Store) destinationIDs(ctx context.Context, query, destination string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inChunks(ids, func(chunk []string) error {
		rows, err := s.r.QueryContext(ctx, s.rebind(query+marks(len(chunk))+`)`), append([]any{destination}, anys(chunk)...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
		}
		return rows.Err()
	})
	return out, err
}

// CountDeadLetters counts a destination's dead letters in a state.
func (s *Store) CountDeadLetters(ctx context.Context, destination, state string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM dead_letters WHERE destination = ? AND state = ?`), destination, state).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count dead letters: %w", err)
	}
	return n, nil
}
