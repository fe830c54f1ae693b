package destination_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
)

// Once the ERP is fixed, a replay delivers the dead letter and everything
// that waited behind it, in log order — across a restart — and the thread
// flows normally afterwards.
func TestERPReplayDeliversTheThreadInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.fake.FailNext("sale-01", -1, erp.Permanent, "Customer 17 is inactive")
	evs, ids := sales("sale", "berlin", 4)
	evs = append(evs, eventtest.Void("void-01", "berlin", at(30), "sale-01"))
	head := b.add(t, evs...)
	stop := b.run(t)
	b.waitCursor(t, head)
	stop()

	// After a restart the thread still waits behind its dead letter.
	b.run(t)
	head = b.add(t, eventtest.Return("ret-01", "berlin", at(40), "sale-01", eventtest.L("SKU-A", 1)),
		eventtest.Sale("sale-late", "berlin", at(41), eventtest.L("SKU-B", 1)))
	b.waitCursor(t, head)
	if got := keys(b.dead(t, store.DeadParked)); !equal(got, []string{"ret-01", "sale-01", "void-01"}) {
		t.Fatalf("parked %v, want sale-01 and the two documents behind it", got)
	}
	assertOnce(t, b.fake, append(without(ids, "sale-01"), "sale-late"))

	b.fake.FailNext("sale-01", 0, 0, "") // the customer is active again
	n, err := b.st.RequestReplay(ctx, b.cfg.Name, nil)
	if err != nil || n != 3 {
		t.Fatalf("RequestReplay = %d, %v; want 3 dead letters", n, err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		r := b.dead(t, store.DeadResolved)
		return len(r) == 3, fmt.Sprintf("resolved %v", keys(r))
	})
	if left := b.dead(t, ""); len(left) != 3 {
		t.Errorf("dead letters %v, want the 3 resolved rows kept", keys(left))
	}
	assertBefore(t, b.fake, [][2]string{{"sale-01", "void-01"}, {"void-01", "ret-01"}})

	// The thread is healthy again: a new document of it goes straight out.
	head = b.add(t, eventtest.Return("ret-01b", "berlin", at(50), "sale-01", eventtest.L("SKU-A", 1)))
	b.waitCursor(t, head)
	eventually(t, 5*time.Second, func() (bool, string) {
		_, ok := b.fake.Document("ret-01b")
		return ok, "ret-01b not delivered"
	})
	assertOnce(t, b.fake, append(ids, "sale-late", "void-01", "ret-01", "ret-01b"))
	if p := b.dead(t, store.DeadParked); len(p) != 0 {
		t.Errorf("parked %v after the replay, want none", keys(p))
	}
}

// A replayed dead letter is posted once, though its row reads "replay"
// until the next flush: a poll of the operator's requests in between does
// not post it again (here after its void, which would reverse the order).
func TestERPReplayPostsEachDeadLetterOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Flushes at 1.7 s and 3.4 s, polls every second: the replay goes out
	// after the poll at 2 s, and the poll at 3 s comes before its flush.
	b.cfg.Flush = 1700 * time.Millisecond
	b.fake.FailNext("sale-00", -1, erp.Permanent, "Customer 17 is inactive")
	evs, _ := sales("sale", "berlin", 1)
	evs = append(evs, eventtest.Void("void-00", "berlin", at(30), "sale-00"))
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	b.fake.FailNext("sale-00", 0, 0, "")
	if _, err := b.st.RequestReplay(context.Background(), b.cfg.Name, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		r := b.dead(t, store.DeadResolved)
		return len(r) == 2, fmt.Sprintf("resolved %v", keys(r))
	})
	if posts := b.fake.Posts(); posts["sale-00"] != 2 || posts["void-00"] != 1 {
		t.Errorf("posts %v, want sale-00 twice (refused, replayed) and void-00 once", posts)
	}
	assertBefore(t, b.fake, [][2]string{{"sale-00", "void-00"}})
}

// A replay of a document the ERP still refuses parks it again, with the
// new error, and its thread stays behind it; it is not replayed again
// until asked.
func TestERPReplayThatFailsAgainStaysParked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Flush = 1700 * time.Millisecond // as above: a poll comes between the failure and its flush
	b.fake.FailNext("sale-00", -1, erp.Permanent, "Period is closed")
	evs, _ := sales("sale", "berlin", 1)
	evs = append(evs, eventtest.Void("void-00", "berlin", at(30), "sale-00"))
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	b.fake.FailNext("sale-00", -1, erp.Permanent, "Period 2026-11 is locked")
	if _, err := b.st.RequestReplay(context.Background(), b.cfg.Name, []string{"sale-00"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		d := b.dead(t, "")["sale-00"]
		return d.State == store.DeadParked && strings.Contains(d.Error, "is locked"), fmt.Sprintf("sale-00 %s: %s", d.State, d.Error)
	})
	if d := b.dead(t, "")["void-00"]; d.State != store.DeadParked {
		t.Errorf("void-00 is %s, want still parked behind sale-00", d.State)
	}
	if recs := b.fake.Records(); len(recs) != 0 {
		t.Errorf("ERP holds %v, want nothing", recs)
	}
	if n := b.fake.Posts()["sale-00"]; n != 2 {
		t.Errorf("sale-00 posted %d times, want 2 (refused, refused again on the one replay asked)", n)
	}
}

// A rewind re-posts everything after a position; the ERP updates instead
// of duplicating, the destination's records stay one per document, and a
// dead letter keeps the ERP's words instead of being re-parked as waiting
// behind itself.
func TestERPRewindRedeliversWithoutDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const refusal = "Location berlin is not allowed for subsidiary 3"
	b.fake.FailNext("sale-1", -1, erp.Permanent, refusal)
	evs, want, _ := retailMix()
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)
	delivered := without(want, "sale-1", "void-1")
	assertOnce(t, b.fake, delivered)
	docs0, events0, err := b.st.DeliveryCounts(ctx, b.cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	posts0 := b.fake.Posts()

	if err := b.st.RequestRewind(ctx, b.cfg.Name, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		posts := b.fake.Posts()
		for _, id := range delivered {
			if posts[id] < posts0[id]+1 {
				return false, id + " not re-posted yet"
			}
		}
		st, err := b.st.GetDestinationState(ctx, b.cfg.Name)
		return err == nil && st.ReplayFrom == -1, fmt.Sprintf("state %+v, %v", st, err)
	})
	b.waitCursor(t, head)

	assertOnce(t, b.fake, delivered)
	docs, events, err := b.st.DeliveryCounts(ctx, b.cfg.Name)
	if err != nil || docs != docs0 || events != events0 {
		t.Errorf("DeliveryCounts after rewind = %d, %d (%v); want %d, %d as before", docs, events, err, docs0, events0)
	}
	if n := b.fake.Posts()["sale-1"]; n != posts0["sale-1"] {
		t.Errorf("the dead letter sale-1 was posted again by a rewind (%d → %d); it waits for a replay", posts0["sale-1"], n)
	}
	dl := b.dead(t, "")
	if d := dl["sale-1"]; d.State != store.DeadParked || d.Class != "permanent" || !strings.Contains(d.Error, refusal) {
		t.Errorf("sale-1 after rewind: %s %s %q, want still parked with the ERP's error %q", d.State, d.Class, d.Error, refusal)
	}
	if d := dl["void-1"]; d.State != store.DeadParked || !strings.Contains(d.Error, "waiting behind dead letter sale-1") {
		t.Errorf("void-1 after rewind: %s %q, want parked behind sale-1", d.State, d.Error)
	}
	if len(dl) != 2 {
		t.Errorf("dead letters %v, want sale-1 and void-1", keys(dl))
	}
}

// A paused destination posts nothing, however much arrives; resumed, it
// delivers all of it.
func TestERPPauseStopsPostingResumeDelivers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	first, firstIDs := sales("before", "berlin", 5)
	head := b.add(t, first...)
	b.run(t)
	b.waitCursor(t, head)

	if err := b.st.SetPaused(ctx, b.cfg.Name, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the destination polls its state about once a second
	calls0, _, _ := b.fake.Stats()
	cursor0, _ := b.st.Cursor(ctx, b.cfg.Name)
	second, secondIDs := sales("paused", "hamburg", 10)
	head = b.add(t, second...)
	time.Sleep(1500 * time.Millisecond)
	if calls, _, _ := b.fake.Stats(); calls != calls0 {
		t.Errorf("a paused destination made %d calls, want none", calls-calls0)
	}
	if c, _ := b.st.Cursor(ctx, b.cfg.Name); c != cursor0 {
		t.Errorf("a paused destination moved its cursor %d → %d", cursor0, c)
	}

	if err := b.st.SetPaused(ctx, b.cfg.Name, false); err != nil {
		t.Fatal(err)
	}
	b.waitCursor(t, head)
	assertOnce(t, b.fake, append(firstIDs, secondIDs...))
}

// Stopped in the middle of delivery — requests in flight, others waiting
// for the governor — and started again on the same store, the destination
// ends with every document once: redelivery, no duplicates, and an
// interrupted request is not a failure that spends the retry budget.
func TestERPRestartMidDeliveryDeliversEachOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.fake.Latency = 25 * time.Millisecond
	b.cfg.Retry.Attempts = 1 // any interruption counted as a failure would park a document
	var want []string
	var pairs [][2]string
	evs, ids := sales("sale", "berlin", 100)
	want = append(want, ids...)
	for i := 0; i < 100; i += 10 {
		v := fmt.Sprintf("void-%02d", i)
		evs = append(evs, eventtest.Void(v, "berlin", at(200+i), ids[i]))
		want = append(want, v)
		pairs = append(pairs, [2]string{ids[i], v})
	}
	head := b.add(t, evs...)

	for round := range 3 {
		stop := b.run(t)
		eventually(t, 10*time.Second, func() (bool, string) {
			n := len(b.fake.Records())
			return n >= 20*(round+1), fmt.Sprintf("%d records", n)
		})
		stop()
		if c, _ := b.st.Cursor(ctx, b.cfg.Name); c >= head {
			t.Fatalf("round %d: delivery finished before the stop; the test needs a slower ERP", round)
		}
	}
	b.run(t)
	b.waitCursor(t, head)

	assertOnce(t, b.fake, want)
	assertBefore(t, b.fake, pairs)
	if dl := b.dead(t, ""); len(dl) != 0 {
		t.Errorf("dead letters %v after restarts, want none", keys(dl))
	}
	docs, events, err := b.st.DeliveryCounts(ctx, b.cfg.Name)
	if err != nil || docs != int64(len(want)) || events != int64(len(want)) {
		t.Errorf("DeliveryCounts = %d, %d (%v); want %d each", docs, events, err, len(want))
	}
}
