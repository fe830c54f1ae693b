package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Quarantine states.
const (
	// QuarantineHeld: the event waits for its codes to resolve.
	QuarantineHeld = "quarantined"
	// QuarantineReleased: the event was appended to the log (at Seq).
	QuarantineReleased = "released"
)

// QuarantinedEvent is an event held back because some of its line codes
// resolve to no catalog SKU. Body and Fingerprint are the event as it
// arrived, so a retry of it is recognised as the same event.
type QuarantinedEvent struct {
	ID          string
	Location    string
	Source      string
	Type        string
	OccurredAt  time.Time
	Fingerprint string
	// Body is the event's JSON as it arrived (event.Encode).
	Body []byte
	// Codes are the unresolved codes.
	Codes         []UnresolvedCode
	State         string
	QuarantinedAt time.Time
	// ReleasedAt and Seq are set once released.
	ReleasedAt time.Time
	Seq        int64
	Note       string
}

// UnresolvedCode is one line code no catalog SKU, mapping or rule
// resolved, with the line's description if the till sent one.
type UnresolvedCode struct {
	Line        int    `json:"line"`
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
}

// Repair is an automatic SKU repair applied to one event line, with the
// resolver's evidence.
type Repair struct {
	EventID    string
	Line       int
	Source     string
	Code       string
	SKU        string
	Confidence float64
	Evidence   string
	Detail     string
	Who        string
	At         time.Time
}

// Quarantine durably records held events and automatic repairs in one
// transaction (fsynced on SQLite before it returns). An event ID already
// held, and a repair already recorded for the same event line, are left
// as they are.
func (s *Store) Quarantine(ctx context.Context, held []QuarantinedEvent, repairs []Repair) error {
	if len(held) == 0 && len(repairs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin quarantine: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range held {
		codes, err := json.Marshal(q.Codes)
		if err != nil {
			return fmt.Errorf("store: quarantine %s: %w", q.ID, err)
		}
		state := q.State
		if state == "" {
			state = QuarantineHeld
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO quarantine (id, location, source, type, occurred_at, fingerprint,
			body, codes, state, quarantined_at, released_at, seq, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)
			ON CONFLICT (id) DO NOTHING`), q.ID, q.Location, q.Source, q.Type, q.OccurredAt.UnixMicro(), q.Fingerprint,
			string(q.Body), string(codes), state, q.QuarantinedAt.UnixMicro(), q.Note); err != nil {
			return fmt.Errorf("store: quarantine %s: %w", q.ID, err)
		}
	}
	if err := s.insertRepairs(ctx, tx, repairs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit quarantine: %w", err)
	}
	return nil
}

func (s *Store) insertRepairs(ctx context.Context, tx *sql.Tx, repairs []Repair) error {
	for _, r := range repairs {
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO mapping_repairs (event_id, line, source, code, sku, confidence,
			evidence, detail, who, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, line) DO NOTHING`),
			r.EventID, r.Line, r.Source, r.Code, r.SKU, r.Confidence, r.Evidence, r.Detail, r.Who, r.At.UnixMicro()); err != nil {
			return fmt.Errorf("store: record repair of %s line %d: %w", r.EventID, r.Line, err)
		}
	}
	return nil
}

// RecordRepairs records automatic repairs (a repair already recorded for
// the same event line is kept) in a light transaction: the caller appends
// the repaired events next, and that append's fsynced commit makes the
// repairs durable with them (a repair of an event the append does not
// accept was recorded when the event first came).
func (s *Store) RecordRepairs(ctx context.Context, repairs []Repair) error {
	if len(repairs) == 0 {
		return nil
	}
	err := s.light(ctx, func(tx *sql.Tx) error { return s.insertRepairs(ctx, tx, repairs) })
	if err != nil {
		return fmt.Errorf("store: record repairs: %w", err)
	}
	return nil
}

// Repairs returns the repairs recorded for an event, by line.
func (s *Store) Repairs(ctx context.Context, eventID string) ([]Repair, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT event_id, line, source, code, sku, confidence, evidence, detail, who, at
		FROM mapping_repairs WHERE event_id = ? ORDER BY line`), eventID)
	if err != nil {
		return nil, fmt.Errorf("store: read repairs of %s: %w", eventID, err)
	}
	defer rows.Close()
	var out []Repair
	for rows.Next() {
		var r Repair
		var at int64
		if err := rows.Scan(&r.EventID, &r.Line, &r.Source, &r.Code, &r.SKU, &r.Confidence, &r.Evidence, &r.Detail, &r.Who, &at); err != nil {
			return nil, fmt.Errorf("store: read repairs of %s: %w", eventID, err)
		}
		r.At = time.UnixMicro(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

const quarantineCols = `id, location, source, type, occurred_at, fingerprint, body, codes, state, quarantined_at, released_at, seq, note`

func scanQuarantined(rows *sql.Rows) (QuarantinedEvent, error) {
	var q QuarantinedEvent
	var occurred, qAt, rAt int64
	var body, codes string
	if err := rows.Scan(&q.ID, &q.Location, &q.Source, &q.Type, &occurred, &q.Fingerprint, &body, &codes, &q.State,
		&qAt, &rAt, &q.Seq, &q.Note); err != nil {
		return q, err
	}
	q.OccurredAt = time.UnixMicro(occurred).UTC()
	q.QuarantinedAt = time.UnixMicro(qAt).UTC()
	if rAt != 0 {
		q.ReleasedAt = time.UnixMicro(rAt).UTC()
	}
	q.Body = []byte(body)
	if err := json.Unmarshal([]byte(codes), &q.Codes); err != nil {
		return q, fmt.Errorf("quarantined event %s: codes: %w", q.ID, err)
	}
	return q, nil
}

// QuarantineByID returns the held or released quarantine rows of these
// event IDs; absent IDs are left out.
func (s *Store) QuarantineByID(ctx context.Context, ids []string) (map[string]QuarantinedEvent, error) {
	out := map[string]QuarantinedEvent{}
	err := inChunks(ids, func(chunk []string) error {
		rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT `+quarantineCols+` FROM quarantine WHERE id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			q, err := scanQuarantined(rows)
			if err != nil {
				return err
			}
			out[q.ID] = q
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: read quarantine by ID: %w", err)
	}
	return out, nil
}

// Quarantined returns up to limit rows in a state, oldest first, after
// the row (quarantined_at, id) given by afterAt and afterID (zero and ""
// for the first page).
func (s *Store) Quarantined(ctx context.Context, state string, afterAt time.Time, afterID string, limit int) ([]QuarantinedEvent, error) {
	var after int64
	if !afterAt.IsZero() {
		after = afterAt.UnixMicro()
	}
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT `+quarantineCols+` FROM quarantine WHERE state = ?
		AND (quarantined_at > ? OR (quarantined_at = ? AND id > ?)) ORDER BY quarantined_at, id LIMIT ?`),
		state, after, after, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read %s events: %w", state, err)
	}
	defer rows.Close()
	var out []QuarantinedEvent
	for rows.Next() {
		q, err := scanQuarantined(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read %s events: %w", state, err)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// CountQuarantined counts the rows in a state.
func (s *Store) CountQuarantined(ctx context.Context, state string) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM quarantine WHERE state = ?`), state).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s events: %w", state, err)
	}
	return n, nil
}

// Release marks held events released: each ID maps to the log sequence
// the event has there. A row already released is left as it is.
func (s *Store) Release(ctx context.Context, seqs map[string]int64, at time.Time, note string) error {
	if len(seqs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin release: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for id, seq := range seqs {
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE quarantine SET state = ?, released_at = ?, seq = ?, note = ?
			WHERE id = ? AND state = ?`), QuarantineReleased, at.UnixMicro(), seq, note, id, QuarantineHeld); err != nil {
			return fmt.Errorf("store: release %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit release: %w", err)
	}
	return nil
}
