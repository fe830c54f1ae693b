package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/store"
)

// ActReplay re-delivers a dead letter to its destination.
const ActReplay = "replay"

// DeadLetterEvidence is the evidence of a dead_letter exception.
type DeadLetterEvidence struct {
	Destination string `json:"destination"`
	ExternalID  string `json:"external_id"`
	// DocumentKind is the ERP document's kind (sale, summary, …).
	DocumentKind string `json:"document_kind"`
	Thread       string `json:"thread"`
	// Seq is the log position of the (last) event the document carries.
	Seq      int64  `json:"seq"`
	Attempts int    `json:"attempts"`
	Class    string `json:"class"`
	// Error is the ERP's error, as the connector reported it.
	Error         string    `json:"error"`
	FirstFailedAt time.Time `json:"first_failed_at"`
	LastFailedAt  time.Time `json:"last_failed_at"`
}

// DeadLetterKey is the dedup key of a dead letter's exception.
func DeadLetterKey(destination, externalID string) string {
	return "dead_letter/" + destination + "/" + externalID
}

// ReplayDeadLetter is the handler of "replay" on a dead_letter exception:
// it asks the destination engine to re-deliver the dead letter (the same
// request as tillsync replay --dead-letters --id), which the running hub
// picks up within a second, and acknowledges the exception. The exception
// is auto-resolved when the document is delivered; if it fails again it
// is parked again and the exception records the recurrence.
func ReplayDeadLetter(st *store.Store) Handler {
	return HandlerFunc(func(ctx context.Context, x Exception, _ Action, _ *Suggestion) (Result, error) {
		if x.Kind != DeadLetter {
			return Result{}, fmt.Errorf("replay applies to dead letters, not %s", x.Kind)
		}
		var ev DeadLetterEvidence
		if err := json.Unmarshal(x.Evidence, &ev); err != nil || ev.Destination == "" || ev.ExternalID == "" {
			return Result{}, fmt.Errorf("exception %d carries no dead letter reference in its evidence", x.ID)
		}
		n, err := st.RequestReplay(ctx, ev.Destination, []string{ev.ExternalID})
		if err != nil {
			return Result{}, err
		}
		if n == 0 {
			states, err := st.DeadLetterStates(ctx, []store.DeadLetterRef{{Destination: ev.Destination, ExternalID: ev.ExternalID}})
			if err != nil {
				return Result{}, err
			}
			st, ok := states[store.DeadLetterRef{Destination: ev.Destination, ExternalID: ev.ExternalID}]
			if !ok {
				return Result{}, fmt.Errorf("destination %s has no dead letter %s", ev.Destination, ev.ExternalID)
			}
			return Result{}, fmt.Errorf("dead letter %s of %s is %s, not parked: nothing to replay", ev.ExternalID, ev.Destination, st)
		}
		return Result{State: Acknowledged, Note: "replay requested from " + ev.Destination,
			Detail: map[string]string{"destination": ev.Destination, "external_id": ev.ExternalID}}, nil
	})
}

// DeadLetterFeed raises a dead_letter exception for every document an ERP
// destination parks, and auto-resolves it once the document is delivered
// on replay. It reads the dead_letters table the destinations write, so
// the destination engine neither waits for nor can be failed by the inbox.
type DeadLetterFeed struct {
	Inbox *Inbox
	// Lookback is how far behind the newest failure seen each pass
	// re-reads, covering dead letters whose save lagged their failure
	// time (destinations flush progress every 200ms and retry failed
	// saves). Default 10 minutes. Re-reading is harmless: a dead letter's
	// last failure time is its exception's observation.
	Lookback time.Duration
	// FullEvery is how often a pass re-reads every parked dead letter
	// (default 10 minutes); the first pass always does.
	FullEvery time.Duration

	since    time.Time
	lastFull time.Time
	// resolved is how many dead letters were resolved at the last
	// resolving pass (-1 before the first).
	resolved int64
	full     bool
}

// Name implements Feed.
func (f *DeadLetterFeed) Name() string { return "dead_letters" }

// Sync raises new dead letters and resolves delivered ones.
func (f *DeadLetterFeed) Sync(ctx context.Context) error {
	if err := f.raise(ctx); err != nil {
		return err
	}
	return f.resolve(ctx)
}

const feedPage = 500

func (f *DeadLetterFeed) raise(ctx context.Context) error {
	lookback, every := f.Lookback, f.FullEvery
	if lookback <= 0 {
		lookback = 10 * time.Minute
	}
	if every <= 0 {
		every = 10 * time.Minute
	}
	now := f.Inbox.now()
	since := f.since.Add(-lookback)
	f.full = f.lastFull.IsZero() || now.Sub(f.lastFull) >= every
	if f.full {
		since, f.lastFull = time.Time{}, now
	}
	st := f.Inbox.store
	at, dest, id := since, "", ""
	if since.IsZero() {
		at = time.UnixMicro(0)
	}
	for {
		page, err := st.ParkedSince(ctx, at, dest, id, feedPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		locs, err := f.locations(ctx, page)
		if err != nil {
			return err
		}
		err = st.Inbox(ctx, func(tx *store.InboxTx) error {
			for _, d := range page {
				if _, _, err := f.Inbox.RaiseTx(ctx, tx, deadLetterProblem(d, locs[d.Seq])); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		last := page[len(page)-1]
		at, dest, id = last.LastFailed, last.Destination, last.ExternalID
		if last.LastFailed.After(f.since) {
			f.since = last.LastFailed
		}
		if len(page) < feedPage {
			return nil
		}
	}
}

// locations finds the store of each dead letter's event.
func (f *DeadLetterFeed) locations(ctx context.Context, page []store.DeadLetter) (map[int64]string, error) {
	out := map[int64]string{}
	for _, d := range page {
		if _, ok := out[d.Seq]; ok || d.Seq <= 0 {
			continue
		}
		evs, err := f.Inbox.store.EventsAfter(ctx, d.Seq-1, 1)
		if err != nil {
			return nil, err
		}
		out[d.Seq] = ""
		if len(evs) == 1 && evs[0].Seq == d.Seq {
			out[d.Seq] = evs[0].Event.Location
		}
	}
	return out, nil
}

func deadLetterProblem(d store.DeadLetter, location string) Problem {
	ev := DeadLetterEvidence{Destination: d.Destination, ExternalID: d.ExternalID, DocumentKind: d.Kind, Thread: d.Thread,
		Seq: d.Seq, Attempts: d.Attempts, Class: d.Class, Error: d.Error, FirstFailedAt: d.FirstFailed, LastFailedAt: d.LastFailed}
	sev := SeverityError
	replay := Suggestion{Label: "Fix what the ERP refused (see the error), then replay", Confidence: 0.6, Action: ActReplay}
	if d.Class == "retry" || d.Class == "rate_limited" {
		// The budget ran out on failures that looked passing: the ERP
		// may simply be back.
		sev = SeverityWarning
		replay = Suggestion{Label: "Replay now: the failures looked transient", Confidence: 0.9, Action: ActReplay}
	}
	return Problem{
		Key: DeadLetterKey(d.Destination, d.ExternalID), Kind: DeadLetter, Severity: sev, Location: location, Subject: d.ExternalID,
		Title:    fmt.Sprintf("%s refused %s %s after %d attempt(s): %s", d.Destination, d.Kind, d.ExternalID, d.Attempts, oneLine(d.Error, 160)),
		Evidence: ev,
		Suggestions: []Suggestion{replay,
			{Label: "Resolve without re-delivery if the document was entered in the ERP by hand", Confidence: 0.1, Action: ActResolve}},
		Actions:     []string{ActReplay},
		Observation: strconv.FormatInt(d.LastFailed.UnixMicro(), 10),
		At:          d.LastFailed,
	}
}

func (f *DeadLetterFeed) resolve(ctx context.Context) error {
	// Only when more dead letters were delivered than last time (and on
	// full passes, which also catch a count that fell and rose again).
	n, err := f.Inbox.store.CountResolvedDeadLetters(ctx)
	if err != nil {
		return err
	}
	if !f.full && n == f.resolved {
		return nil
	}
	if err := f.resolveAll(ctx); err != nil {
		return err
	}
	f.resolved = n
	return nil
}

func (f *DeadLetterFeed) resolveAll(ctx context.Context) error {
	return f.Inbox.resolveSettled(ctx, DeadLetter, func(ctx context.Context, page []Exception) ([]settled, error) {
		refs := make([]store.DeadLetterRef, 0, len(page))
		keys := map[store.DeadLetterRef]Exception{}
		for _, x := range page {
			var ev DeadLetterEvidence
			if json.Unmarshal(x.Evidence, &ev) != nil {
				continue
			}
			r := store.DeadLetterRef{Destination: ev.Destination, ExternalID: ev.ExternalID}
			refs, keys[r] = append(refs, r), x
		}
		states, err := f.Inbox.store.DeadLetterStates(ctx, refs)
		if err != nil {
			return nil, err
		}
		var done []settled
		for r, s := range states {
			if s == store.DeadResolved {
				done = append(done, settled{keys[r].Key, "delivered to " + r.Destination + " on replay",
					map[string]string{"destination": r.Destination, "external_id": r.ExternalID}})
			}
		}
		return done, nil
	})
}
