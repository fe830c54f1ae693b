package quarantine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/store"
)

// Config is what a Quarantine needs.
type Config struct {
	// Store holds the quarantine and the repair records.
	Store *store.Store
	// Next is the sink events go on to: the hub's log and ledger.
	Next intake.Sink
	// Resolver maps codes to catalog SKUs.
	Resolver *mapping.Resolver
	// Inbox, if set, gets one mapping_unknown_sku exception per unknown
	// code and source.
	Inbox *inbox.Inbox
	Log   *slog.Logger
	Now   func() time.Time
}

// Quarantine is an intake.Sink in front of the hub's own: it resolves
// every line code of every event, rewrites resolved codes to catalog SKUs
// and holds back, durably, the events with a code it cannot resolve.
// Commit and the releases it makes are serialized, as the committer
// serializes commits.
type Quarantine struct {
	st   *store.Store
	next intake.Sink
	in   *inbox.Inbox
	log  *slog.Logger
	now  func() time.Time

	res atomic.Pointer[mapping.Resolver]
	// mu serializes Commit with the appends of releases; relMu releases
	// with each other.
	mu    sync.Mutex
	relMu sync.Mutex
	// dirty asks Run to sweep: at start, and after a failed release.
	dirty atomic.Bool
	// held is whether the quarantine table may hold rows: while it holds
	// none, retries need no lookup.
	held atomic.Bool
	// wake asks Run to sync the inbox with what is held.
	wake chan struct{}
}

// New returns a quarantine sink. It reads whether anything is held.
func New(ctx context.Context, cfg Config) (*Quarantine, error) {
	switch {
	case cfg.Store == nil, cfg.Next == nil, cfg.Resolver == nil:
		return nil, errors.New("quarantine: store, next sink and resolver are required")
	}
	q := &Quarantine{st: cfg.Store, next: cfg.Next, in: cfg.Inbox, log: cfg.Log, now: cfg.Now, wake: make(chan struct{}, 1)}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.now == nil {
		q.now = time.Now
	}
	q.res.Store(cfg.Resolver)
	n, err := q.st.CountQuarantined(ctx, store.QuarantineHeld)
	if err != nil {
		return nil, err
	}
	m, err := q.st.CountQuarantined(ctx, store.QuarantineReleased)
	if err != nil {
		return nil, err
	}
	q.held.Store(n+m > 0)
	return q, nil
}

// Resolver is the resolver in use.
func (q *Quarantine) Resolver() *mapping.Resolver { return q.res.Load() }

// SetResolver switches to a new resolver (a reloaded catalog) and releases
// what it resolves.
func (q *Quarantine) SetResolver(ctx context.Context, r *mapping.Resolver) (Released, error) {
	q.res.Store(r)
	return q.Release(ctx)
}

func conflict(id, where string) intake.Outcome {
	return intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict,
		Message: fmt.Sprintf("event ID %q is already %s for a different event; IDs must be unique", id, where)}}
}

// Commit implements intake.Sink. Events whose codes all resolve go on to
// the next sink with their lines rewritten; events with an unresolved code
// are written to the quarantine (fsynced) and answered accepted and
// quarantined; a retry of a held or released event is a duplicate.
func (q *Quarantine) Commit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]intake.Outcome, len(events))
	var known map[string]store.QuarantinedEvent
	if q.held.Load() {
		ids := make([]string, len(events))
		for i, e := range events {
			ids[i] = e.ID
		}
		var err error
		if known, err = q.st.QuarantineByID(ctx, ids); err != nil {
			return nil, err
		}
	}
	r := q.Resolver()
	now := q.now().UTC()
	type hold struct {
		idx int
		row store.QuarantinedEvent
	}
	var (
		forward []*event.Event
		fwdIdx  []int
		holds   []hold
		repairs []store.Repair
		// sent are the fingerprints, as the till sent them, of forwarded
		// events the log may hold in another form (rewritten under an
		// earlier rule or catalog), by index.
		sent = map[int]string{}
	)
	for i, e := range events {
		if k, ok := known[e.ID]; ok {
			out[i] = q.again(e, k)
			continue
		}
		rw := resolve(r, e)
		if len(rw.unresolved) == 0 {
			for j := range rw.repairs {
				rw.repairs[j].At = now
			}
			repairs = append(repairs, rw.repairs...)
			if len(rw.sets) > 0 {
				e.Normalize()
				fp := e.Fingerprint()
				sent[i] = hex.EncodeToString(fp[:])
			}
			rw.apply()
			forward, fwdIdx = append(forward, e), append(fwdIdx, i)
			continue
		}
		e.Normalize()
		body, fp, err := e.Encode()
		if err != nil {
			return nil, fmt.Errorf("quarantine: encode event %s: %w", e.ID, err)
		}
		holds = append(holds, hold{idx: i, row: store.QuarantinedEvent{ID: e.ID, Location: e.Location, Source: e.Source,
			Type: string(e.Type), OccurredAt: e.OccurredAt, Fingerprint: hex.EncodeToString(fp[:]), Body: body,
			Codes: rw.unresolved, State: store.QuarantineHeld, QuarantinedAt: now}})
	}
	if len(holds) > 0 {
		// An ID the log already has is not held: the log answers it
		// (duplicate or conflict) as it would without a catalog.
		ids := make([]string, len(holds))
		for j, h := range holds {
			ids[j] = h.row.ID
		}
		inLog, err := q.st.EventsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		var rows []store.QuarantinedEvent
		first := map[string]store.QuarantinedEvent{}
		for _, h := range holds {
			switch f, dup := first[h.row.ID]; {
			case inLog[h.row.ID] != nil:
				forward, fwdIdx = append(forward, events[h.idx]), append(fwdIdx, h.idx)
				sent[h.idx] = h.row.Fingerprint
			case dup:
				out[h.idx] = q.again(events[h.idx], f)
			default:
				first[h.row.ID] = h.row
				rows = append(rows, h.row)
				out[h.idx] = intake.Outcome{Status: intake.StatusAccepted, Quarantined: true}
			}
		}
		if err := q.st.Quarantine(ctx, rows, repairs); err != nil {
			return nil, err
		}
		repairs = nil
		if len(rows) > 0 {
			q.held.Store(true)
			q.log.Info("events quarantined: unknown SKU codes", "events", len(rows))
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
	}
	if err := q.st.RecordRepairs(ctx, repairs); err != nil {
		return nil, err
	}
	if len(forward) > 0 {
		outs, err := q.next.Commit(ctx, forward)
		if err != nil {
			return nil, err
		}
		for j, o := range outs {
			out[fwdIdx[j]] = o
		}
		if err := q.sameAsSent(ctx, events, out, sent); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameAsSent turns the log's id_conflict for a retry into the duplicate it
// is: the log holds the event rewritten under an earlier rule or catalog
// (a different SKU), but as the till sent it, it is the same event.
func (q *Quarantine) sameAsSent(ctx context.Context, events []*event.Event, out []intake.Outcome, sent map[int]string) error {
	var ids []string
	for i, fp := range sent {
		if fp != "" && out[i].Status == intake.StatusRejected && out[i].Err != nil && out[i].Err.Code == intake.CodeIDConflict {
			ids = append(ids, events[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	logged, err := q.st.EventsByID(ctx, ids)
	if err != nil {
		return err
	}
	for i, fp := range sent {
		st := logged[events[i].ID]
		if st == nil || out[i].Status != intake.StatusRejected || st.Event.Location != events[i].Location {
			continue
		}
		if was, err := asSent(st.Event); err == nil && was == fp {
			out[i] = intake.Outcome{Status: intake.StatusDuplicate, Seq: st.Seq}
		}
	}
	return nil
}

// asSent is the fingerprint of a logged event as the till sent it: every
// rewritten line back to its scanned code.
func asSent(e *event.Event) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	c := new(event.Event)
	if err := json.Unmarshal(b, c); err != nil {
		return "", err
	}
	for _, l := range lines(c) {
		if *l.code != "" {
			*l.sku, *l.code = *l.code, ""
		}
	}
	fp := c.Fingerprint()
	return hex.EncodeToString(fp[:]), nil
}

// again answers an event whose ID the quarantine has: the same event is a
// duplicate (of the released log entry, if released), another one a
// conflict.
func (q *Quarantine) again(e *event.Event, k store.QuarantinedEvent) intake.Outcome {
	e.Normalize()
	fp := e.Fingerprint()
	if hex.EncodeToString(fp[:]) != k.Fingerprint || e.Location != k.Location {
		return conflict(e.ID, "quarantined")
	}
	return intake.Outcome{Status: intake.StatusDuplicate, Seq: k.Seq, Quarantined: k.State == store.QuarantineHeld}
}

// decode turns a held row back into its event.
func decode(row store.QuarantinedEvent) (*event.Event, error) {
	e := new(event.Event)
	if err := json.Unmarshal(row.Body, e); err != nil {
		return nil, fmt.Errorf("quarantine: event %s does not decode: %w", row.ID, err)
	}
	return e, nil
}
