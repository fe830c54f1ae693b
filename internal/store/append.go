package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// Outcome is what happened to one event offered to Append.
type Outcome int

// Outcomes.
const (
	// Accepted: appended to the log now.
	Accepted Outcome = iota
	// Duplicate: the same event (same ID, same fingerprint) was already in
	// the log; nothing changed.
	Duplicate
	// Conflict: the ID is in the log for a different event (another
	// location, or different contents); nothing changed.
	Conflict
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	}
	return "conflict"
}

// Result is the outcome for one event and its log sequence number (the
// existing one for a duplicate).
type Result struct {
	Outcome Outcome
	Seq     int64
}

// Appended is what one Append committed.
type Appended struct {
	Results []Result
	// Events are the accepted events in log order with their seqs.
	Events []inventory.Applied
	// Changes are the ledger changes the accepted events made.
	Changes *inventory.Changes
	// MaxSeq is the highest log sequence after the commit.
	MaxSeq int64
	// CommitTook is how long the COMMIT took: with SQLite's
	// synchronous=FULL, the WAL write and its fsync; on PostgreSQL, where
	// it shares a round trip with the ledger's writes, both.
	CommitTook time.Duration

	// fill is for the position cache, once committed.
	fill *cacheFill
}

// Append writes a batch of validated events in one transaction: new events
// are appended to the log (an ID already present is a duplicate forever),
// their ledger changes are applied, and the transaction commits — with
// SQLite's synchronous=FULL, only after the WAL is fsynced. When Append
// returns nil every accepted event is durable.
func (s *Store) Append(ctx context.Context, events []*event.Event, storedAt time.Time) (*Appended, error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin append: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if s.dialect == Postgres {
		return s.appendPostgres(ctx, conn, events, storedAt)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin append: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	st := newSQLSteps(ctx, preparedTx{tx, s.prepared})
	out, err := s.appendTx(ctx, st, events, storedAt)
	if err != nil {
		return nil, err
	}
	if err := st.flush(ctx); err != nil {
		return nil, fmt.Errorf("store: append: %w", err)
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		s.positions.forget()
		return nil, fmt.Errorf("store: commit append: %w", err)
	}
	s.committed(out, start)
	// Free the writer connection, then prepare what this append ran
	// unprepared.
	_ = conn.Close()
	s.prepared.prepareMissed(ctx)
	return out, nil
}

// appendPostgres is Append on PostgreSQL, in pipelined steps on the pgx
// connection under conn: BEGIN and the lock go with the first, COMMIT with
// the last.
func (s *Store) appendPostgres(ctx context.Context, conn *sql.Conn, events []*event.Event, storedAt time.Time) (*Appended, error) {
	st := &pipeSteps{conn: conn}
	st.exec(`BEGIN`)
	// One appender at a time across hub replicas, so sequence numbers
	// become visible in order and a cursor never skips a late commit.
	st.exec(`SELECT pg_advisory_xact_lock(7245002)`)
	out, err := s.appendTx(ctx, st, events, storedAt)
	if err != nil {
		rollbackPgx(ctx, conn)
		return nil, err
	}
	// The ledger's writes and the COMMIT go in one round trip; a failed
	// write makes PostgreSQL skip the COMMIT.
	st.exec(`COMMIT`)
	start := time.Now()
	if err := st.flush(ctx); err != nil {
		// Perhaps committed after all (the connection dropped after the
		// COMMIT was sent): the cache cannot tell.
		s.positions.forget()
		rollbackPgx(ctx, conn)
		return nil, fmt.Errorf("store: append: %w", err)
	}
	s.committed(out, start)
	return out, nil
}

// committed completes an append whose COMMIT started at start and
// succeeded.
func (s *Store) committed(out *Appended, start time.Time) {
	out.CommitTook = time.Since(start)
	if f := out.fill; f != nil {
		s.positions.committed(f.base, out.MaxSeq, f.positions)
	}
}

type pending struct {
	idx  int
	e    *event.Event
	fp   string
	body []byte
}

// appendTx runs an append's statements on st in three steps: the insert of
// the events with the reads of what they refer to; the duplicates' seqs and
// the positions the accepted events touch; the ledger's changes with the
// log head. It queues the third step and leaves it to the caller to flush,
// with the COMMIT where that can go in the same round trip.
func (s *Store) appendTx(ctx context.Context, st steps, events []*event.Event, storedAt time.Time) (*Appended, error) {
	out := &Appended{Results: make([]Result, len(events))}
	// Deduplicate within the batch first: the first copy of an ID is
	// offered to the log, later copies share its outcome.
	fps := make([]string, len(events))
	first := map[string]int{}
	later := map[int]int{}
	var offer []pending
	for i, e := range events {
		e.Normalize()
		body, fp, err := e.Encode()
		if err != nil {
			return nil, fmt.Errorf("store: encode event %s: %w", e.ID, err)
		}
		fps[i] = hex.EncodeToString(fp[:])
		if j, ok := first[e.ID]; ok {
			later[i] = j
			continue
		}
		first[e.ID] = i
		offer = append(offer, pending{idx: i, e: e, fp: fps[i], body: body})
	}

	// Step 1. What the events refer to is read for all of them, before
	// knowing which are new: reading a little more (for duplicates, which
	// are rare) saves a round trip on every append. Queued after the
	// insert, the reads see events of this batch that others refer to.
	// The log head before the insert tells the position cache whether
	// anything was appended since it was filled: read under the lock
	// (PostgreSQL) or in the single writer's transaction (SQLite), it is
	// exact, whatever sequence numbers rollbacks and duplicates skipped.
	var before int64
	s.queueHead(st, &before)
	seqs := make(map[string]int64, len(offer))
	s.queueInsert(st, offer, storedAt, seqs)
	l := inventory.NewPartial()
	offered := make([]*event.Event, len(offer))
	for i, p := range offer {
		offered[i] = p.e
	}
	s.queueRefs(st, l, offered)
	if err := st.flush(ctx); err != nil {
		return nil, fmt.Errorf("store: append: %w", err)
	}

	// Step 2.
	var missing []string
	for _, p := range offer {
		if seq, ok := seqs[p.e.ID]; ok {
			out.Results[p.idx] = Result{Accepted, seq}
			out.Events = append(out.Events, inventory.Applied{Seq: seq, Event: p.e})
		} else {
			missing = append(missing, p.e.ID)
		}
	}
	sort.Slice(out.Events, func(a, b int) bool { return out.Events[a].Seq < out.Events[b].Seq })
	existing := make(map[string]existingEvent, len(missing))
	s.queueLookup(st, missing, existing)
	var fill *cacheFill
	if len(out.Events) > 0 {
		fill = s.queueTouched(st, l, out.Events, before)
	}
	if err := st.flush(ctx); err != nil {
		return nil, fmt.Errorf("store: append: %w", err)
	}
	for _, p := range offer {
		if _, ok := seqs[p.e.ID]; ok {
			continue
		}
		ex := existing[p.e.ID]
		if ex.location == p.e.Location && ex.fingerprint == p.fp {
			out.Results[p.idx] = Result{Duplicate, ex.seq}
		} else {
			out.Results[p.idx] = Result{Conflict, ex.seq}
		}
	}
	for i, j := range later {
		r := out.Results[j]
		switch {
		case fps[j] != fps[i] || events[j].Location != events[i].Location:
			r.Outcome = Conflict
		case r.Outcome == Accepted:
			r.Outcome = Duplicate
		}
		out.Results[i] = r
	}

	// Step 3.
	out.Changes = &inventory.Changes{}
	if len(out.Events) > 0 {
		ch, err := s.applyLedger(st, l, out.Events, fill)
		if err != nil {
			return nil, err
		}
		out.Changes, out.fill = ch, fill
	}
	s.queueHead(st, &out.MaxSeq)
	return out, nil
}

// queueHead queues the read of the log head (0 for an empty log) into head.
// Its callback cannot fail: in the last step, after the COMMIT is sent, a
// failing callback would report an append failed that committed.
func (s *Store) queueHead(st steps, head *int64) {
	st.query(`SELECT COALESCE(MAX(seq), 0) FROM events`, nil, func(r rows) error {
		for r.Next() {
			_ = r.Scan(head) // BIGINT into int64: cannot fail
		}
		return nil
	})
}
