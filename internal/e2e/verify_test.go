package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
)

// verifyLog checks the hub's log against what the store's edge acknowledged
// to the registers (event ID → store_seq), the edge having started with an
// empty local log:
//
//   - every acknowledged event is in the log exactly once, and nothing else;
//   - each keeps the store_seq it was acknowledged with, and the location's
//     store_seqs run 1..N without a gap;
//   - in store_seq order, each register's events come in the order the
//     register numbered (and sent) them;
//   - the stored ledger equals a rebuild from the log in log order
//     (store.CheckLedger) and a rebuild in store order.
func verifyLog(t *testing.T, st *store.Store, acks map[string]int64) {
	t.Helper()
	ctx := context.Background()
	var all []*store.Stored
	for after := int64(0); ; {
		batch, err := st.EventsAfter(ctx, after, 5000)
		if err != nil {
			t.Fatalf("read the hub's log: %v", err)
		}
		if len(batch) == 0 {
			break
		}
		all = append(all, batch...)
		after = batch[len(batch)-1].Seq
	}
	if n, err := st.CountEvents(ctx); err != nil || n != int64(len(all)) {
		t.Fatalf("the log counts %d events (err %v) but reading it gave %d", n, err, len(all))
	}

	// Exactly once, nothing extra.
	copies := map[string]int{}
	for _, s := range all {
		copies[s.Event.ID]++
	}
	var missing, doubled, extra []string
	for id := range acks {
		switch copies[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			doubled = append(doubled, fmt.Sprintf("%s×%d", id, copies[id]))
		}
	}
	for id := range copies {
		if _, ok := acks[id]; !ok {
			extra = append(extra, id)
		}
	}
	report(t, "acknowledged events missing from the hub's log", missing)
	report(t, "events in the hub's log more than once", doubled)
	report(t, "events in the hub's log that the edge never acknowledged", extra)
	if len(all) != len(acks) {
		t.Errorf("the hub's log holds %d events; the edge acknowledged %d", len(all), len(acks))
	}

	// Store order.
	bySeq := map[int64]*store.Stored{}
	var wrongSeq []string
	for _, s := range all {
		e := s.Event
		if e.Location != location {
			t.Errorf("event %s is for location %q, want %q", e.ID, e.Location, location)
			continue
		}
		if want, ok := acks[e.ID]; ok && e.StoreSeq != want {
			wrongSeq = append(wrongSeq, fmt.Sprintf("%s: store_seq %d in the hub, %d when acknowledged", e.ID, e.StoreSeq, want))
		}
		if other, ok := bySeq[e.StoreSeq]; ok {
			t.Errorf("store_seq %d is held by both %s and %s", e.StoreSeq, other.Event.ID, e.ID)
		}
		bySeq[e.StoreSeq] = s
	}
	report(t, "events whose store_seq changed on the way", wrongSeq)
	var gaps []string
	for seq := int64(1); seq <= int64(len(acks)); seq++ {
		if bySeq[seq] == nil {
			gaps = append(gaps, fmt.Sprint(seq))
		}
	}
	report(t, "store_seqs missing from 1..N in the hub", gaps)

	seqs := slices.Sorted(maps.Keys(bySeq))
	next := map[string]int{} // register → the number its next event must have
	var disorder []string
	for _, seq := range seqs {
		id := bySeq[seq].Event.ID
		prefix, r, n, ok := parseID(id)
		if !ok {
			t.Errorf("event %s does not have a register's ID", id)
			continue
		}
		reg := fmt.Sprintf("%s/r%02d", prefix, r)
		if n != next[reg] {
			disorder = append(disorder, fmt.Sprintf("store_seq %d is %s's event %d; expected its event %d", seq, reg, n, next[reg]))
		}
		next[reg] = n + 1
	}
	report(t, "registers' events out of order in store_seq order", disorder)

	// The ledger.
	diffs, err := st.CheckLedger(ctx)
	if err != nil {
		t.Fatalf("CheckLedger: %v", err)
	}
	report(t, "stored stock that differs from a rebuild of the log (CheckLedger)", diffs)

	mem := inventory.NewMemory()
	applied := make([]inventory.Applied, 0, len(seqs))
	for _, seq := range seqs {
		s := bySeq[seq]
		applied = append(applied, inventory.Applied{Seq: s.Seq, Event: s.Event})
	}
	if _, err := mem.Apply(applied); err != nil {
		t.Fatalf("rebuild the ledger in store order: %v", err)
	}
	stored, err := st.AllPositions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pos := make(map[inventory.Key]inventory.Position, len(stored))
	for _, p := range stored {
		pos[p.Key] = p.Position
	}
	report(t, "stored stock that differs from a rebuild in store order", inventory.Diff(mem, pos))
	t.Logf("hub log: %d events, store_seq 1..%d, %d positions; ledger checks clean", len(all), len(seqs), len(stored))
}

// report fails the test listing up to ten examples of what went wrong.
func report(t *testing.T, what string, items []string) {
	t.Helper()
	if len(items) == 0 {
		return
	}
	slices.Sort(items)
	shown := items[:min(len(items), 10)]
	t.Errorf("%d %s, e.g.:\n  %s", len(items), what, strings.Join(shown, "\n  "))
}
