package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ExceptionRow is one stored exception of the inbox. The inbox package
// gives the columns their meaning (kinds, states, the JSON of evidence,
// suggestions and actions); this package only stores and finds them.
type ExceptionRow struct {
	ID          int64
	Key         string
	Kind        string
	Severity    string
	State       string
	Location    string
	Zone        string
	Subject     string
	Title       string
	Evidence    string // JSON
	Suggestions string // JSON
	Actions     string // JSON
	Assignee    string
	Occurrences int64
	// Observation is the feed's token for what it last saw.
	Observation string
	FirstSeen   time.Time
	LastSeen    time.Time
	UpdatedAt   time.Time
	// ResolvedAt is zero while the exception is not resolved.
	ResolvedAt time.Time
}

// ExceptionAudit is one line of an exception's own trail.
type ExceptionAudit struct {
	ID          int64
	ExceptionID int64
	At          time.Time
	Actor       string
	Action      string
	FromState   string
	ToState     string
	Note        string
	Detail      string // JSON, "" for none
}

// ExceptionFilter selects exceptions for a page of the inbox. Empty fields
// do not filter; States matches any of its values. Pages are in id order,
// after the id After, at most Limit rows.
type ExceptionFilter struct {
	States   []string
	Kind     string
	Severity string
	Location string
	Assignee string
	After    int64
	Limit    int
}

// ErrNoException is returned when an exception does not exist.
var ErrNoException = errors.New("no such exception")

// InboxTx is a write transaction on the inbox. Writers are serialised
// (SQLite has one writer; on PostgreSQL a transaction-scoped advisory lock),
// so a read-modify-write inside one cannot race another.
type InboxTx struct {
	s  *Store
	tx *sql.Tx
}

// Inbox runs fn in an InboxTx, committed when fn returns nil. Inbox
// changes are decisions of people and feeds, rare next to events: every
// commit is fsynced.
func (s *Store) Inbox(ctx context.Context, fn func(*InboxTx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: inbox: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7245002)`); err != nil {
			return fmt.Errorf("store: inbox: lock: %w", err)
		}
	}
	if err := fn(&InboxTx{s: s, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: inbox: commit: %w", err)
	}
	return nil
}

const exceptionCols = `id, dedup_key, kind, severity, state, location, zone, subject, title, evidence, suggestions, actions,
	assignee, occurrences, observation, first_seen, last_seen, updated_at, resolved_at`

func scanException(row interface{ Scan(...any) error }) (*ExceptionRow, error) {
	var e ExceptionRow
	var first, last, updated, resolved int64
	if err := row.Scan(&e.ID, &e.Key, &e.Kind, &e.Severity, &e.State, &e.Location, &e.Zone, &e.Subject, &e.Title,
		&e.Evidence, &e.Suggestions, &e.Actions, &e.Assignee, &e.Occurrences, &e.Observation,
		&first, &last, &updated, &resolved); err != nil {
		return nil, err
	}
	e.FirstSeen, e.LastSeen, e.UpdatedAt = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC(), time.UnixMicro(updated).UTC()
	if resolved != 0 {
		e.ResolvedAt = time.UnixMicro(resolved).UTC()
	}
	return &e, nil
}

func (t *InboxTx) one(ctx context.Context, where string, arg any) (*ExceptionRow, error) {
	e, err := scanException(t.tx.QueryRowContext(ctx, t.s.rebind(`SELECT `+exceptionCols+` FROM inbox_exceptions WHERE `+where), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read exception: %w", err)
	}
	return e, nil
}

// ByKey returns the exception with a dedup key, or nil.
func (t *InboxTx) ByKey(ctx context.Context, key string) (*ExceptionRow, error) {
	return t.one(ctx, `dedup_key = ?`, key)
}

// ByID returns the exception with an id, or nil.
func (t *InboxTx) ByID(ctx context.Context, id int64) (*ExceptionRow, error) {
	return t.one(ctx, `id = ?`, id)
}

// Insert stores a new exception and sets its ID.
func (t *InboxTx) Insert(ctx context.Context, e *ExceptionRow) error {
	err := t.tx.QueryRowContext(ctx, t.s.rebind(`INSERT INTO inbox_exceptions (dedup_key, kind, severity, state, location, zone,
		subject, title, evidence, suggestions, actions, assignee, occurrences, observation, first_seen, last_seen, updated_at, resolved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		e.Key, e.Kind, e.Severity, e.State, e.Location, e.Zone, e.Subject, e.Title, e.Evidence, e.Suggestions, e.Actions,
		e.Assignee, e.Occurrences, e.Observation, micros(e.FirstSeen), micros(e.LastSeen), micros(e.UpdatedAt), micros(e.ResolvedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("store: insert exception %s: %w", e.Key, err)
	}
	return nil
}

// Update rewrites an exception's mutable columns (everything but its id,
// key and first sighting).
func (t *InboxTx) Update(ctx context.Context, e *ExceptionRow) error {
	res, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE inbox_exceptions SET kind = ?, severity = ?, state = ?, location = ?, zone = ?,
		subject = ?, title = ?, evidence = ?, suggestions = ?, actions = ?, assignee = ?, occurrences = ?, observation = ?,
		last_seen = ?, updated_at = ?, resolved_at = ? WHERE id = ?`),
		e.Kind, e.Severity, e.State, e.Location, e.Zone, e.Subject, e.Title, e.Evidence, e.Suggestions, e.Actions, e.Assignee,
		e.Occurrences, e.Observation, micros(e.LastSeen), micros(e.UpdatedAt), micros(e.ResolvedAt), e.ID)
	if err != nil {
		return fmt.Errorf("store: update exception %d: %w", e.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update exception %d: %w", e.ID, ErrNoException)
	}
	return nil
}

// AppendAudit adds a line to an exception's trail. There is no update or
// delete of trail lines.
func (t *InboxTx) AppendAudit(ctx context.Context, a ExceptionAudit) error {
	_, err := t.tx.ExecContext(ctx, t.s.rebind(`INSERT INTO inbox_audit (exception_id, at, actor, action, from_state, to_state, note, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), a.ExceptionID, micros(a.At), a.Actor, a.Action, a.FromState, a.ToState, a.Note, a.Detail)
	if err != nil {
		return fmt.Errorf("store: append to the trail of exception %d: %w", a.ExceptionID, err)
	}
	return nil
}

// SetCursor records a feed's position in the same transaction as the
// exceptions it raised, so a feed neither loses nor repeats a row.
func (t *InboxTx) SetCursor(ctx context.Context, name string, seq int64) error {
	if _, err := t.tx.ExecContext(ctx, t.s.rebind(`INSERT INTO cursors (name, seq, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`), name, seq, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("store: write cursor %s: %w", name, err)
	}
	return nil
}

// Exception reads one exception.
func (s *Store) Exception(ctx context.Context, id int64) (*ExceptionRow, error) {
	e, err := scanException(s.r.QueryRowContext(ctx, s.rebind(`SELECT `+exceptionCols+` FROM inbox_exceptions WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: exception %d: %w", id, ErrNoException)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read exception %d: %w", id, err)
	}
	return e, nil
}

// Exceptions returns a page of exceptions. Only the filters given appear
// in the query, so each can use its index.
func (s *Store) Exceptions(ctx context.Context, f ExceptionFilter) ([]ExceptionRow, error) {
	var where []string
	var args []any
	if len(f.States) == 1 {
		where, args = append(where, `state = ?`), append(args, f.States[0])
	} else if len(f.States) > 1 {
		where, args = append(where, `state IN (`+marks(len(f.States))+`)`), append(args, anys(f.States)...)
	}
	for _, c := range []struct{ col, v string }{{"kind", f.Kind}, {"severity", f.Severity}, {"location", f.Location}, {"assignee", f.Assignee}} {
		if c.v != "" {
			where, args = append(where, c.col+` = ?`), append(args, c.v)
		}
	}
	if f.After > 0 {
		where, args = append(where, `id > ?`), append(args, f.After)
	}
	q := `SELECT ` + exceptionCols + ` FROM inbox_exceptions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list exceptions: %w", err)
	}
	defer rows.Close()
	var out []ExceptionRow
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list exceptions: %w", err)
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// ExplainExceptions returns SQLite's plan for a page query, for tests
// that check the indexes serve each filter ("" on PostgreSQL).
func (s *Store) ExplainExceptions(ctx context.Context, f ExceptionFilter) (string, error) {
	if s.dialect != SQLite {
		return "", nil
	}
	var where []string
	var args []any
	if len(f.States) == 1 {
		where, args = append(where, `state = ?`), append(args, f.States[0])
	}
	for _, c := range []struct{ col, v string }{{"kind", f.Kind}, {"severity", f.Severity}, {"location", f.Location}, {"assignee", f.Assignee}} {
		if c.v != "" {
			where, args = append(where, c.col+` = ?`), append(args, c.v)
		}
	}
	q := `EXPLAIN QUERY PLAN SELECT id FROM inbox_exceptions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id LIMIT 100`
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; "), rows.Err()
}

// ExceptionTrail returns an exception's trail, oldest first.
func (s *Store) ExceptionTrail(ctx context.Context, id int64) ([]ExceptionAudit, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT id, exception_id, at, actor, action, from_state, to_state, note, detail
		FROM inbox_audit WHERE exception_id = ? ORDER BY id`), id)
	if err != nil {
		return nil, fmt.Errorf("store: read the trail of exception %d: %w", id, err)
	}
	defer rows.Close()
	var out []ExceptionAudit
	for rows.Next() {
		var a ExceptionAudit
		var at int64
		if err := rows.Scan(&a.ID, &a.ExceptionID, &at, &a.Actor, &a.Action, &a.FromState, &a.ToState, &a.Note, &a.Detail); err != nil {
			return nil, fmt.Errorf("store: read the trail of exception %d: %w", id, err)
		}
		a.At = time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// ParkedSince returns parked dead letters whose last failure is at or
// after since, in (last_failed_at, destination, external_id) order after
// the given position, without their documents: what the inbox raises.
func (s *Store) ParkedSince(ctx context.Context, since time.Time, afterDest, afterID string, limit int) ([]DeadLetter, error) {
	at := since.UnixMicro()
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT destination, external_id, thread, seq, kind, attempts, class, error, first_failed_at, last_failed_at, state
		FROM dead_letters WHERE state = ? AND (last_failed_at > ? OR (last_failed_at = ? AND (destination > ? OR (destination = ? AND external_id > ?))))
		ORDER BY last_failed_at, destination, external_id LIMIT ?`), DeadParked, at, at, afterDest, afterDest, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read parked dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var first, last int64
		if err := rows.Scan(&d.Destination, &d.ExternalID, &d.Thread, &d.Seq, &d.Kind, &d.Attempts, &d.Class, &d.Error,
			&first, &last, &d.State); err != nil {
			return nil, fmt.Errorf("store: read parked dead letters: %w", err)
		}
		d.FirstFailed, d.LastFailed = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountResolvedDeadLetters counts dead letters delivered on replay, across
// destinations: the inbox looks for newly delivered ones only when it
// changes.
func (s *Store) CountResolvedDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM dead_letters WHERE state = ?`), DeadResolved).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count resolved dead letters: %w", err)
	}
	return n, nil
}

// DeadLetterRef names one dead letter.
type DeadLetterRef struct {
	Destination string
	ExternalID  string
}

// DeadLetterStates returns the state of each dead letter named that
// exists.
func (s *Store) DeadLetterStates(ctx context.Context, refs []DeadLetterRef) (map[DeadLetterRef]string, error) {
	out := map[DeadLetterRef]string{}
	err := inChunks(refs, func(chunk []DeadLetterRef) error {
		args := make([]any, 0, 2*len(chunk))
		for _, r := range chunk {
			args = append(args, r.Destination, r.ExternalID)
		}
		rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT destination, external_id, state FROM dead_letters
			WHERE (destination, external_id) IN (VALUES `+values(len(chunk), 2)+`)`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r DeadLetterRef
			var st string
			if err := rows.Scan(&r.Destination, &r.ExternalID, &st); err != nil {
				return err
			}
			out[r] = st
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: read dead letter states: %w", err)
	}
	return out, nil
}

// OversellsAfter returns the oversells recorded by batches after seq, whole
// batches only (all rows of a seq, or none), about limit rows at most.
func (s *Store) OversellsAfter(ctx context.Context, seq int64, limit int) ([]OversellRow, error) {
	var upto sql.NullInt64
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT MAX(seq) FROM (SELECT seq FROM oversells WHERE seq > ? ORDER BY seq LIMIT ?) page`),
		seq, limit).Scan(&upto)
	if err != nil {
		return nil, fmt.Errorf("store: read oversells: %w", err)
	}
	if !upto.Valid {
		return nil, nil
	}
	return s.oversells(ctx, `WHERE seq > ? AND seq <= ? ORDER BY seq`, seq, upto.Int64)
}
