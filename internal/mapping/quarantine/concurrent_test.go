package quarantine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// Intake keeps committing (new events with the unknown code, and retries
// of earlier ones) while a person's mapping releases and sweeps run: every
// event ends in the log exactly once, and nothing stays held.
func TestReleaseWhileIntakeRuns(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e storetest.Engine) {
		b := setup(t, e)
		ctx := context.Background()
		const n = 120
		sale := func(i int) *event.Event {
			return et.Sale(fmt.Sprintf("sale-%03d", i), "s1", at(i), et.L("NEW-CODE", 1), et.L("MUG-RED", 1))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		wg.Go(func() {
			for i := 0; i < n; i += 4 {
				batch := []*event.Event{sale(i), sale(i + 1), sale(i + 2), sale(i + 3)}
				if i > 0 {
					batch = append(batch, sale(i-4), sale(i-3)) // retries
				}
				if _, err := b.q.Commit(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			if _, err := b.q.Map(ctx, "pos", "NEW-CODE", "JKT-BLK-M", "alice"); err != nil {
				errs <- err
				return
			}
			for range 5 {
				if _, err := b.q.Release(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := b.q.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.logged(t); got != n {
			t.Fatalf("log holds %d events, want %d", got, n)
		}
		if held, _ := b.st.CountQuarantined(ctx, store.QuarantineHeld); held != 0 {
			t.Fatalf("%d still held", held)
		}
		if q := b.onHand(t, "JKT-BLK-M"); q != event.Units(-n) {
			t.Fatalf("JKT-BLK-M on hand %s, want %d", q, -n)
		}
		if diffs, err := b.st.CheckLedger(ctx); err != nil || len(diffs) > 0 {
			t.Fatalf("ledger differs from log: %v %v", err, diffs)
		}
	})
}
