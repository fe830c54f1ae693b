package destination_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpfake"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
)

// sales returns n one-line sales at a store, named prefix-00, prefix-01, ….
func sales(prefix, loc string, n int) ([]*event.Event, []string) {
	var evs []*event.Event
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%02d", prefix, i)
		evs = append(evs, eventtest.Sale(id, loc, at(i), eventtest.L("SKU-A", 1)))
		ids = append(ids, id)
	}
	return evs, ids
}

func TestERPTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	evs, ids := sales("sale", "berlin", 10)
	b.fake.FailNext("sale-03", 2, erp.Retry, "gateway timeout")
	b.fake.Force(erpfake.Fail, erpfake.Drop) // a 503, and a reset after the ERP committed
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	assertOnce(t, b.fake, ids)
	if n := b.fake.Posts()["sale-03"]; n < 3 {
		t.Errorf("sale-03 posted %d times, want ≥ 3 (two failures, then success)", n)
	}
	if dl := b.dead(t, ""); len(dl) != 0 {
		t.Errorf("dead letters %v, want none: every failure was transient", dl)
	}
}

// A permanent refusal parks the document with the ERP's words; the rest of
// its thread waits behind it — already queued or arriving later — while
// every other thread is delivered and the cursor moves on.
func TestERPPermanentFailureParksItsThreadOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const refusal = "Invalid item reference key 4711 for subsidiary 2"
	b.fake.FailNext("sale-01", -1, erp.Permanent, refusal)
	evs, ids := sales("sale", "berlin", 8)
	// The void of sale-01 is read with it, so it is queued behind it when
	// the refusal comes back.
	evs = append(evs, eventtest.Void("void-01", "berlin", at(30), "sale-01"), eventtest.Void("void-02", "berlin", at(30), "sale-02"))
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	// A return of sale-01 arriving after the refusal waits behind it too.
	head = b.add(t, eventtest.Return("ret-01", "berlin", at(40), "sale-01", eventtest.L("SKU-A", 1)))
	b.waitCursor(t, head)

	delivered := append(without(ids, "sale-01"), "void-02")
	assertOnce(t, b.fake, delivered)
	assertBefore(t, b.fake, [][2]string{{"sale-02", "void-02"}})
	dl := b.dead(t, store.DeadParked)
	if len(dl) != 3 {
		t.Fatalf("parked %v, want sale-01, void-01, ret-01", keys(dl))
	}
	head01 := dl["sale-01"]
	if head01.Class != "permanent" || !strings.Contains(head01.Error, refusal) || !strings.Contains(head01.Error, "HTTP 400") {
		t.Errorf("sale-01 parked as %s %q, want permanent with the ERP's error %q", head01.Class, head01.Error, refusal)
	}
	if head01.Thread != "doc:sale-01" || head01.Kind != string(erp.CashSale) || head01.Attempts != 1 || !strings.Contains(head01.Document, `"external_id":"sale-01"`) {
		t.Errorf("sale-01 dead letter %+v, want thread doc:sale-01, cash_sale, 1 attempt and its document", head01)
	}
	for _, id := range []string{"void-01", "ret-01"} {
		if d := dl[id]; !strings.Contains(d.Error, "waiting behind dead letter sale-01") || d.Thread != "doc:sale-01" {
			t.Errorf("%s parked with %q on thread %s, want waiting behind sale-01", id, d.Error, d.Thread)
		}
	}
	if n := b.fake.Posts()["sale-01"]; n != 1 {
		t.Errorf("sale-01 posted %d times, want once: a permanent refusal is not retried", n)
	}
	for _, id := range []string{"void-01", "ret-01"} {
		if n := b.fake.Posts()[id]; n != 0 {
			t.Errorf("%s posted %d times while its thread waits behind a dead letter, want 0", id, n)
		}
	}
}

func TestERPRetryBudgetParksWithClassRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Retry.Attempts = 3
	b.fake.FailNext("sale-01", -1, erp.Retry, "service unavailable")
	// Throttles are the ERP's load, not the document's fault: more of them
	// than the whole retry budget still end in a delivery.
	b.fake.FailNext("sale-02", 7, erp.RateLimited, "concurrency limit exceeded")
	evs, ids := sales("sale", "berlin", 5)
	evs = append(evs, eventtest.Void("void-01", "berlin", at(30), "sale-01"))
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	assertOnce(t, b.fake, without(ids, "sale-01"))
	posts := b.fake.Posts()
	if posts["sale-01"] != 3 {
		t.Errorf("sale-01 posted %d times, want 3 (the budget)", posts["sale-01"])
	}
	if posts["sale-02"] != 8 {
		t.Errorf("sale-02 posted %d times, want 8 (7 throttles, then success)", posts["sale-02"])
	}
	dl := b.dead(t, store.DeadParked)
	if d := dl["sale-01"]; d.Class != "retry" || d.Attempts != 3 || !strings.Contains(d.Error, "service unavailable") {
		t.Errorf("sale-01 parked as %+v, want class retry after 3 attempts with the ERP's error", d)
	}
	if d := dl["void-01"]; !strings.Contains(d.Error, "waiting behind dead letter sale-01") {
		t.Errorf("void-01 parked as %+v, want waiting behind sale-01", d)
	}
	if len(dl) != 2 {
		t.Errorf("parked %v, want sale-01 and void-01", keys(dl))
	}
}

// A refusal for load without a Retry-After is not answered at once by the
// same request: it backs off like a failure (without spending the budget).
func TestERPThrottleWithoutRetryAfterBacksOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Retry = destination.RetryPolicy{Attempts: 1, Backoff: destination.Backoff{Min: 80 * time.Millisecond, Max: 80 * time.Millisecond}}
	b.fake.FailNext("sale-00", 4, erp.RateLimited, "concurrency limit exceeded")
	evs, ids := sales("sale", "berlin", 1)
	head := b.add(t, evs...)
	start := time.Now()
	b.run(t)
	b.waitCursor(t, head)
	took := time.Since(start)

	assertOnce(t, b.fake, ids)
	// Four back-offs of at least half of 80 ms each.
	if took < 160*time.Millisecond {
		t.Errorf("delivered through 4 throttles in %s, want ≥ 160ms of back-off", took)
	}
}

// A void whose sale is not in the log waits for it (an offline store may
// sync the sale later) for HoldMax, then is parked; the cursor passes it.
func TestERPVoidOfUnknownEventParks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.HoldMax = 300 * time.Millisecond
	head := b.add(t,
		eventtest.Void("void-x", "berlin", at(0), "no-such-sale"),
		eventtest.Sale("sale-1", "berlin", at(1), eventtest.L("SKU-A", 1)))
	b.run(t)
	b.waitCursor(t, head)
	assertOnce(t, b.fake, []string{"sale-1"})
	dl := b.dead(t, store.DeadParked)
	if d := dl["void-x"]; d.Class != "permanent" || !strings.Contains(d.Error, "not in the log") {
		t.Errorf("void-x parked as %+v, want permanent: the voided event is not in the log", d)
	}
}

// The log has an offline store's documents the wrong way round: a void
// before its sale, a transfer received before it was shipped, a fulfilment
// before its order. Each waits for its predecessor and is posted after it:
// nothing burns its retry budget, nothing is parked.
func TestERPHoldsDocumentsUntilWhatTheySettleArrives(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Retry = destination.RetryPolicy{Attempts: 1, Backoff: destination.Backoff{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond}}
	b.add(t,
		eventtest.Void("void-1", "berlin", at(5), "sale-1"),
		eventtest.TransferIn("tin-1", "berlin", at(6), "tr-1", "hamburg", eventtest.L("SKU-A", 1)),
		eventtest.Fulfil("ful-1", "berlin", at(7), "web-1", eventtest.L("SKU-A", 1)),
		eventtest.Sale("other", "berlin", at(8), eventtest.L("SKU-B", 1)))
	b.run(t)
	// The unrelated sale goes at once; the rest wait.
	eventually(t, 10*time.Second, func() (bool, string) {
		return b.fake.Records()["other"] == 1, "the unrelated sale was not posted"
	})
	if r := b.fake.Records(); r["void-1"]+r["tin-1"]+r["ful-1"] != 0 {
		t.Fatalf("documents were posted before what they settle: %v", r)
	}
	head := b.add(t,
		eventtest.Sale("sale-1", "berlin", at(1), eventtest.L("SKU-A", 1)),
		eventtest.TransferOut("tout-1", "hamburg", at(2), "tr-1", "berlin", eventtest.L("SKU-A", 1)),
		eventtest.Order("ord-1", "berlin", at(3), "web-1", "web", eventtest.L("SKU-A", 1)))
	b.waitCursor(t, head)
	assertOnce(t, b.fake, []string{"sale-1", "void-1", "tout-1", "tin-1", "ord-1", "ful-1", "other"})
	pos := map[string]int{}
	for i, id := range b.fake.Order() {
		pos[id] = i
	}
	for _, pair := range [][2]string{{"sale-1", "void-1"}, {"tout-1", "tin-1"}, {"ord-1", "ful-1"}} {
		if pos[pair[0]] > pos[pair[1]] {
			t.Errorf("%s was posted after %s, which settles it", pair[0], pair[1])
		}
	}
	if dl := b.dead(t, store.DeadParked); len(dl) != 0 {
		t.Errorf("dead letters: %v, want none", dl)
	}
}

func without(ids []string, drop ...string) []string {
	var out []string
	for _, id := range ids {
		skip := false
		for _, d := range drop {
			skip = skip || id == d
		}
		if !skip {
			out = append(out, id)
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}
