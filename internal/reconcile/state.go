package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// carried marks a line restored from a State that was matched before: it
// only counts into its batch.
const carried int32 = -2

// StateVersion is the version of State this package writes and reads.
const StateVersion = 1

// State is what an engine must keep between runs: its open items, the
// batches still waiting for their bank deposit, and which open items have
// an exception raised. A hub keeps it as JSON in a file of its own beside
// its database (tillsync reconcile --state FILE).
type State struct {
	Version int      `json:"version"`
	Tenders []Tender `json:"tenders"`
	// Lines are open payment and refund lines, open deposits and payouts,
	// and chargebacks not yet linked to their sale.
	Lines []Line `json:"lines"`
	// Batches are the batches no bank deposit has matched yet.
	Batches []BatchState `json:"batches,omitempty"`
	// Raised are the keys of the open exceptions.
	Raised []string `json:"raised,omitempty"`
	// LogSeq is the hub event log's sequence the tenders were read up to:
	// a later run reads only the events after it (its matched tenders are
	// not kept, so reading them again would make them open).
	LogSeq int64 `json:"log_seq,omitempty"`
}

// BatchState is a batch waiting for its bank deposit. Members are kept
// only when there is no payout to state its amount (the residue search
// needs them).
type BatchState struct {
	ID       string       `json:"id"`
	Currency string       `json:"currency"`
	Net      event.Amount `json:"net"`
	LastDay  time.Time    `json:"last_day"`
	Count    int          `json:"count"`
	Payout   *Line        `json:"payout,omitempty"`
	Members  []Line       `json:"members,omitempty"`
}

// State returns the engine's open state as of the last Run.
func (e *Engine) State() State {
	st := State{Version: StateVersion, Tenders: []Tender{}, Lines: []Line{}, LogSeq: e.logSeq}
	for _, i := range e.openT {
		if e.ts[i].match == none {
			st.Tenders = append(st.Tenders, e.tenders[i])
			if e.ts[i].flags&flagRaised != 0 {
				st.Raised = append(st.Raised, tenderKey(&e.tenders[i]))
			}
		}
	}
	inState := map[int32]bool{}
	for _, list := range [][]int32{e.openL, e.deposits, e.chargebacks} {
		for _, j := range list {
			if inState[j] || (e.ls[j].match != none && e.ls[j].class != classChargeback) {
				continue
			}
			if e.ls[j].class == classChargeback && e.ls[j].match != none {
				continue // linked: nothing left to do but the exception
			}
			inState[j] = true
			st.Lines = append(st.Lines, e.lines[j])
			if e.ls[j].flags&flagRaised != 0 {
				st.Raised = append(st.Raised, lineKey(&e.lines[j]))
			}
		}
	}
	for _, b := range e.batches {
		if b.deposit != none {
			continue
		}
		bs := BatchState{ID: b.id, Currency: b.cur, Net: b.net, LastDay: time.Unix(int64(b.last)*86400, 0).UTC(), Count: len(b.members)}
		if b.payout != none && !inState[b.payout] {
			p := e.lines[b.payout] // settled: it states the batch's amount
			bs.Payout = &p
		} else {
			// No payout, or an open one (restored from Lines): the members
			// are needed to add the batch up again.
			for _, j := range b.members {
				if !inState[j] {
					bs.Members = append(bs.Members, e.lines[j])
				}
			}
		}
		st.Batches = append(st.Batches, bs)
	}
	return st
}

// WriteState writes the engine's State as JSON.
func (e *Engine) WriteState(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(e.State())
}

// ReadState reads a State written by WriteState.
func ReadState(r io.Reader) (State, error) {
	var st State
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return State{}, fmt.Errorf("reconcile: read state: %w", err)
	}
	if st.Version != StateVersion {
		return State{}, fmt.Errorf("reconcile: state version %d, this build reads version %d", st.Version, StateVersion)
	}
	return st, nil
}

// Restore builds an engine from a State and runs it once, so that its open
// items are indexed again; exceptions raised before stay raised (and are
// resolved when their item is matched).
func Restore(ctx context.Context, cfg Config, exc exception.Inbox, st State) (*Engine, error) {
	e, err := NewEngine(cfg, exc)
	if err != nil {
		return nil, err
	}
	e.logSeq = st.LogSeq
	raised := make(map[string]bool, len(st.Raised))
	for _, k := range st.Raised {
		raised[k] = true
	}
	// Batches first: their matched lines are carried, not matched again.
	for _, bs := range st.Batches {
		b := &batch{id: bs.ID, cur: bs.Currency, payout: none, deposit: none, settled: none, last: day(bs.LastDay)}
		e.batches[bs.ID] = b
		if bs.Payout != nil {
			j := e.carry(*bs.Payout)
			b.payout, b.settled = j, carried
			b.net = bs.Net
			continue
		}
		for _, l := range bs.Members {
			b.members = append(b.members, e.carry(l))
			b.net += l.Net
		}
	}
	e.doneL = len(e.lines)
	e.AddTenders(st.Tenders...)
	e.AddLines(st.Lines...)
	e.ts = growState(e.ts, len(e.tenders))
	e.ls = growLState(e.ls, len(e.lines))
	for i := range e.tenders {
		if raised[tenderKey(&e.tenders[i])] {
			e.ts[i].flags |= flagRaised
		}
	}
	for j := e.doneL; j < len(e.lines); j++ {
		if raised[lineKey(&e.lines[j])] {
			e.ls[j].flags |= flagRaised
		}
	}
	if err := e.Run(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// carry adds a line that was matched before the state was saved.
func (e *Engine) carry(l Line) int32 {
	j := int32(len(e.lines)) //nolint:gosec // G115: as above
	e.lines = append(e.lines, l)
	e.ls = growLState(e.ls, len(e.lines))
	e.ls[j].match = carried
	e.ls[j].class = classify(&l)
	e.seen["l:"+l.Key()] = struct{}{}
	return j
}

// LogSeq is the hub event log's sequence the engine's tenders were read up
// to (0: none, or they did not come from a log).
func (e *Engine) LogSeq() int64 { return e.logSeq }

// SetLogSeq records that tenders were read from the hub event log up to seq.
func (e *Engine) SetLogSeq(seq int64) { e.logSeq = seq }
