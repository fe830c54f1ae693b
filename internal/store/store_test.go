package store_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// eachEngine runs the suite against SQLite and PostgreSQL alike.
func eachEngine(t *testing.T, f func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, storetest.Open(t, e))
		})
	}
}

func at(minutes int) time.Time { return et.Base.Add(time.Duration(minutes) * time.Minute) }

func appendOK(t *testing.T, s *store.Store, evs ...*event.Event) *store.Appended {
	t.Helper()
	out, err := s.Append(context.Background(), evs, time.Now())
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return out
}

// onHand returns a SKU's position at store s1, where these tests sell.
func onHand(t *testing.T, s *store.Store, sku string) inventory.Position {
	t.Helper()
	const loc = "s1"
	ps, err := s.PositionsByKey(context.Background(), []inventory.Key{{SKU: sku, Location: loc}})
	if err != nil {
		t.Fatal(err)
	}
	return ps[inventory.Key{SKU: sku, Location: loc}]
}

func TestAppendDedupesForever(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *store.Store) {
		recv := et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10))
		sale := et.Sale("sale-1", "s1", at(1), et.L("JKT", 2))
		out := appendOK(t, s, recv, sale, sale)
		want := []store.Outcome{store.Accepted, store.Accepted, store.Duplicate}
		for i, r := range out.Results {
			if r.Outcome != want[i] {
				t.Errorf("result %d: %s, want %s", i, r.Outcome, want[i])
			}
		}
		if out.Results[2].Seq != out.Results[1].Seq {
			t.Errorf("in-batch duplicate seq %d, want the original's %d", out.Results[2].Seq, out.Results[1].Seq)
		}
		// The same sale again later is a duplicate and changes nothing; the
		// same ID for a different sale is a conflict.
		again := appendOK(t, s, sale)
		if again.Results[0].Outcome != store.Duplicate {
			t.Fatalf("resent sale: %s, want duplicate", again.Results[0].Outcome)
		}
		other := et.Sale("sale-1", "s1", at(2), et.L("JKT", 5))
		if r := appendOK(t, s, other).Results[0]; r.Outcome != store.Conflict {
			t.Fatalf("reused ID: %s, want conflict", r.Outcome)
		}
		if p := onHand(t, s, "JKT"); p.OnHand() != event.Units(8) {
			t.Fatalf("on hand %s, want 8", p.OnHand())
		}
		n, _ := s.CountEvents(context.Background())
		if n != 2 {
			t.Fatalf("log holds %d events, want 2", n)
		}
		if diffs, err := s.CheckLedger(context.Background()); err != nil || len(diffs) > 0 {
			t.Fatalf("ledger differs from log: %v %v", err, diffs)
		}
	})
}

func TestLedgerAcrossBatches(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *store.Store) {
		appendOK(t, s, et.Receive("r", "s1", at(0), et.L("A", 10)))
		appendOK(t, s, et.Void("v", "s1", at(5), "sale")) // void before its sale
		appendOK(t, s, et.Sale("sale", "s1", at(3), et.L("A", 4)))
		if p := onHand(t, s, "A"); p.OnHand() != event.Units(10) {
			t.Fatalf("voided sale: on hand %s, want 10", p.OnHand())
		}
		appendOK(t, s, et.Order("o1", "s1", at(6), "W1", "web", et.L("A", 3)))
		if p := onHand(t, s, "A"); p.Reserved != event.Units(3) || p.Available() != event.Units(7) {
			t.Fatalf("after order: %+v", p)
		}
		appendOK(t, s, et.Fulfil("f1", "s1", at(7), "W1", et.L("A", 1)))
		appendOK(t, s, et.Cancel("c1", "s1", at(8), "W1"))
		p := onHand(t, s, "A")
		if p.OnHand() != event.Units(9) || p.Reserved != 0 {
			t.Fatalf("after fulfil+cancel: on hand %s reserved %s, want 9 and 0", p.OnHand(), p.Reserved)
		}
		// A late count taken at minute 4 absorbs the sale at 3, but the
		// void at 5 (+4) and the fulfilment at 7 (−1) apply on top: 23.
		appendOK(t, s, et.Count("cnt", "s1", at(4), et.L("A", 20)))
		if p := onHand(t, s, "A"); p.OnHand() != event.Units(23) {
			t.Fatalf("after late count: on hand %s, want 23", p.OnHand())
		}
		if diffs, err := s.CheckLedger(context.Background()); err != nil || len(diffs) > 0 {
			t.Fatalf("ledger differs from log: %v %v", err, diffs)
		}
	})
}

// TestAppendBatchSizes appends batches that split into chunks of several
// sizes, twice each, so the second round runs on prepared statements.
func TestAppendBatchSizes(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *store.Store) {
		n := 0
		for round := range 2 {
			for _, size := range []int{1, 3, 523, 401} {
				var evs []*event.Event
				for range size {
					n++
					evs = append(evs, et.Receive(fmt.Sprintf("rcv-%d", n), "s1", at(n), et.L("JKT", 1)))
				}
				out := appendOK(t, s, evs...)
				prev := int64(0)
				for i, r := range out.Results {
					if r.Outcome != store.Accepted || r.Seq <= prev {
						t.Fatalf("round %d, batch of %d, event %d: %s seq %d after %d", round, size, i, r.Outcome, r.Seq, prev)
					}
					prev = r.Seq
				}
				// Resent, the batch is all duplicates with the same seqs.
				again := appendOK(t, s, evs...)
				for i, r := range again.Results {
					if r.Outcome != store.Duplicate || r.Seq != out.Results[i].Seq {
						t.Fatalf("round %d, batch of %d, resent event %d: %s seq %d, want duplicate seq %d", round, size, i, r.Outcome, r.Seq, out.Results[i].Seq)
					}
				}
			}
		}
		if got := onHand(t, s, "JKT").OnHand(); got != event.Units(int64(n)) {
			t.Errorf("on hand %v after %d receipts of one", got, n)
		}
	})
}

// Two hubs on one database (replicas on PostgreSQL; two processes on one
// SQLite file) take turns appending movements of the same SKU. Each keeps
// positions cached between its appends, and each must see the other's.
func TestTwoAppendersShareTheLedger(t *testing.T) {
	t.Parallel()
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			dsn := eng.DSN(t)
			open := func() *store.Store {
				s, err := store.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s
			}
			hubs := []*store.Store{open(), open()}
			appendOK(t, hubs[0], et.Receive("r", "s1", at(0), et.L("A", 100)))
			want := int64(100)
			for i := range 12 {
				s := hubs[i%3%2] // 0, 1, 0, 0, 1, 0, …: runs and alternations
				appendOK(t, s, et.Sale(fmt.Sprintf("sale-%d", i), "s1", at(i+1), et.L("A", int64(1+i%3))))
				want -= int64(1 + i%3)
				for h, other := range hubs {
					if p := onHand(t, other, "A"); p.OnHand() != event.Units(want) {
						t.Fatalf("after sale %d (hub %d): hub %d reads on hand %s, want %d", i, i%3%2, h, p.OnHand(), want)
					}
				}
			}
			if diffs, err := hubs[1].CheckLedger(context.Background()); err != nil || len(diffs) > 0 {
				t.Fatalf("ledger differs from log: %v %v", err, diffs)
			}
		})
	}
}

// An append PostgreSQL refuses mid-pipeline (an ID with a NUL byte, which
// its text type cannot hold) is rolled back whole — the good event beside
// it is not stored — and the appends after it work.
func TestAppendRefusedByPostgresRollsBack(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, storetest.Engines()[1])
	ctx := context.Background()
	appendOK(t, s, et.Receive("r", "s1", at(0), et.L("A", 10)))
	bad := et.Sale("bad\x00id", "s1", at(2), et.L("A", 1))
	if _, err := s.Append(ctx, []*event.Event{et.Sale("good", "s1", at(1), et.L("A", 2)), bad}, time.Now()); err == nil {
		t.Fatal("PostgreSQL stored an ID with a NUL byte")
	}
	for i := range 3 { // every pooled writer connection, whichever took the failure
		out := appendOK(t, s, et.Sale(fmt.Sprintf("good-%d", i), "s1", at(3+i), et.L("A", 1)))
		if out.Results[0].Outcome != store.Accepted {
			t.Fatalf("append %d after the refused one: %v", i, out.Results[0].Outcome)
		}
	}
	if out := appendOK(t, s, et.Sale("good", "s1", at(1), et.L("A", 2))); out.Results[0].Outcome != store.Accepted {
		t.Fatalf("the refused batch's good event: %v, want accepted (it was rolled back)", out.Results[0].Outcome)
	}
	if p := onHand(t, s, "A"); p.OnHand() != event.Units(5) {
		t.Fatalf("on hand %s, want 10 - 3 - 2 = 5", p.OnHand())
	}
	if diffs, err := s.CheckLedger(ctx); err != nil || len(diffs) > 0 {
		t.Fatalf("ledger differs from log: %v %v", err, diffs)
	}
}

// Appends on one store from several goroutines (the committer, quarantine
// releases, approved transfers) finish, with batch sizes that keep new
// statements to prepare: preparing them once must not wait for the writer
// connection while holding what an append on that connection needs.
func TestConcurrentAppendsOnOneStore(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *store.Store) {
		appendOK(t, s, et.Receive("r", "s1", at(0), et.L("A", 10_000)))
		done := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 20 {
					var evs []*event.Event
					for j := range 1 + (g*20+i)%9 {
						evs = append(evs, et.Sale(fmt.Sprintf("g%d-%d-%d", g, i, j), "s1", at(1+i), et.L("A", 1)))
					}
					if _, err := s.Append(context.Background(), evs, time.Now()); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			// Not t.Fatal, nor a panic: the store's cleanup would wait
			// on the deadlock too. The goroutines show where.
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "FAIL: %s: concurrent appends did not finish in a minute: deadlocked\n%s", t.Name(), buf[:runtime.Stack(buf, true)])
			os.Exit(1)
		}
		if diffs, err := s.CheckLedger(context.Background()); err != nil || len(diffs) > 0 {
			t.Fatalf("ledger differs from log: %v %v", err, diffs)
		}
	})
}
