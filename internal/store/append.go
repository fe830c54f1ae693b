package store

import (
	"context"
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
	// CommitTook is how long the COMMIT itself took: with SQLite's
	// synchronous=FULL, the WAL write and its fsync.
	CommitTook time.Duration
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
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin append: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	ptx := preparedTx{tx, s.prepared}
	var w writer = txWriter{ptx}
	if s.dialect == Postgres {
		// One appender at a time across hub replicas, so sequence numbers
		// become visible in order and a cursor never skips a late commit.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7245002)`); err != nil {
			return nil, fmt.Errorf("store: lock log: %w", err)
		}
		w = &pipeWriter{conn: conn}
	}
	out, err := s.appendTx(ctx, ptx, w, events, storedAt)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit append: %w", err)
	}
	out.CommitTook = time.Since(start)
	// Free the writer connection, then prepare what this append ran
	// unprepared.
	_ = conn.Close()
	s.prepared.prepareMissed(ctx)
	return out, nil
}

type pending struct {
	idx  int
	e    *event.Event
	fp   string
	body []byte
}

func (s *Store) appendTx(ctx context.Context, tx querier, w writer, events []*event.Event, storedAt time.Time) (*Appended, error) {
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

	seqs, err := s.insertEvents(ctx, tx, offer, storedAt)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, p := range offer {
		if seq, ok := seqs[p.e.ID]; ok {
			out.Results[p.idx] = Result{Accepted, seq}
			out.Events = append(out.Events, inventory.Applied{Seq: seq, Event: p.e})
		} else {
			missing = append(missing, p.e.ID)
		}
	}
	if len(missing) > 0 {
		existing, err := s.lookupEvents(ctx, tx, missing)
		if err != nil {
			return nil, err
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
	sort.Slice(out.Events, func(a, b int) bool { return out.Events[a].Seq < out.Events[b].Seq })

	changes, err := s.applyLedger(ctx, tx, w, out.Events)
	if err != nil {
		return nil, err
	}
	out.Changes = changes
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&out.MaxSeq); err != nil {
		return nil, fmt.Errorf("store: read log head: %w", err)
	}
	return out, nil
}
