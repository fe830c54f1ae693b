package destination_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpfake"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// bundle is what an engine test needs: a real store, the in-memory ERP,
// the commit signal and a destination configuration with fast retries.
type bundle struct {
	st     *store.Store
	fake   *erpfake.Fake
	notify *destination.Notifier
	cfg    destination.ERPConfig
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return setupOn(t, storetest.Engines()[0])
}

func setupOn(t *testing.T, e storetest.Engine) *bundle {
	t.Helper()
	fake := erpfake.New()
	return &bundle{
		st:     storetest.Open(t, e),
		fake:   fake,
		notify: destination.NewNotifier(),
		cfg: destination.ERPConfig{
			Name:      "erp",
			Connector: fake,
			Governor:  destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 4}),
			Retry:     destination.RetryPolicy{Attempts: 5, Backoff: destination.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}},
			Timeout:   5 * time.Second,
			Flush:     20 * time.Millisecond,
		},
	}
}

// add appends events to the log, wakes the destination and returns the
// log's head.
func (b *bundle) add(t *testing.T, evs ...*event.Event) int64 {
	t.Helper()
	res, err := b.st.Append(context.Background(), evs, time.Now())
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	for i, r := range res.Results {
		if r.Outcome != store.Accepted {
			t.Fatalf("append: event %d of %d is %s", i, len(evs), r.Outcome)
		}
	}
	b.notify.Broadcast()
	return res.MaxSeq
}

// run starts a destination on the bundle's store; stop cancels it and waits
// for Run to return (it also runs at the end of the test).
func (b *bundle) run(t *testing.T) (stop func()) {
	t.Helper()
	d := destination.NewERPDestination(b.cfg, b.st, b.notify, destination.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if d.Name() != b.cfg.Name {
		t.Errorf("Name = %q, want %q", d.Name(), b.cfg.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitCursor waits until the destination's saved cursor reaches seq.
func (b *bundle) waitCursor(t *testing.T, seq int64) {
	t.Helper()
	eventually(t, 15*time.Second, func() (bool, string) {
		c, err := b.st.Cursor(context.Background(), b.cfg.Name)
		if err != nil {
			return false, err.Error()
		}
		return c == seq, fmt.Sprintf("cursor %d, want %d", c, seq)
	})
}

// dead returns a destination's dead letters in a state by external ID.
func (b *bundle) dead(t *testing.T, state string) map[string]store.DeadLetter {
	t.Helper()
	dls, err := b.st.DeadLetters(context.Background(), b.cfg.Name, state, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.DeadLetter{}
	for _, dl := range dls {
		out[dl.ExternalID] = dl
	}
	return out
}

// eventually polls cond until it holds, failing the test with cond's last
// message after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s: %s", timeout, msg)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}

// assertOnce checks that every ID is in the ERP exactly once and nothing
// else is.
func assertOnce(t *testing.T, fake *erpfake.Fake, ids []string) {
	t.Helper()
	recs := fake.Records()
	for _, id := range ids {
		if recs[id] != 1 {
			t.Errorf("%s created %d times in the ERP, want once", id, recs[id])
		}
	}
	if len(recs) != len(ids) {
		var extra []string
		for id := range recs {
			if !slices.Contains(ids, id) {
				extra = append(extra, id)
			}
		}
		t.Errorf("ERP holds %d records, want %d; unexpected: %v", len(recs), len(ids), sorted(extra))
	}
}

// assertBefore checks that each pair's first record was created before its
// second.
func assertBefore(t *testing.T, fake *erpfake.Fake, pairs [][2]string) {
	t.Helper()
	order := fake.Order()
	for _, p := range pairs {
		i, j := slices.Index(order, p[0]), slices.Index(order, p[1])
		if i < 0 || j < 0 || i > j {
			t.Errorf("%s created at position %d, %s at %d: want the first before the second", p[0], i, p[1], j)
		}
	}
}

func at(minute int) time.Time { return eventtest.Base.Add(time.Duration(minute) * time.Minute) }

// retailMix is a day of two stores: every kind of event, with threads (a
// sale and its void, a sale and its return, a transfer's two sides, orders
// with their fulfilment or cancellation) and drawer counts, which post
// nothing. It returns the events, the external IDs the ERP must hold, and
// the pairs that must be created in order.
func retailMix() ([]*event.Event, []string, [][2]string) {
	L := eventtest.L
	evs := []*event.Event{
		eventtest.Receive("rcv-1", "berlin", at(0), L("SKU-A", 20), L("SKU-B", 10)),
		eventtest.Count("cnt-1", "berlin", at(1), L("SKU-C", 5)),
		eventtest.Sale("sale-1", "berlin", at(2), L("SKU-A", 2), L("SKU-B", 1)),
		eventtest.Sale("sale-2", "berlin", at(3), L("SKU-C", 1)),
		eventtest.Void("void-1", "berlin", at(4), "sale-1"),
		eventtest.Return("ret-2", "berlin", at(5), "sale-2", L("SKU-C", 1)),
		eventtest.Adjust("adj-1", "berlin", at(6), L("SKU-B", -1)),
		eventtest.TransferOut("tout-1", "berlin", at(7), "T-1", "hamburg", L("SKU-A", 3)),
		eventtest.Drawer("drawer-1", "berlin", at(8), 12345),
		eventtest.Order("ord-1", "hamburg", at(9), "O-1", "shopify", L("SKU-A", 1)),
		eventtest.TransferIn("tin-1", "hamburg", at(10), "T-1", "berlin", L("SKU-A", 3)),
		eventtest.Fulfil("ful-1", "hamburg", at(11), "O-1", L("SKU-A", 1)),
		eventtest.Order("ord-2", "hamburg", at(12), "O-2", "shopify", L("SKU-B", 1)),
		eventtest.Cancel("cancel-2", "hamburg", at(13), "O-2"),
		eventtest.Drawer("drawer-2", "hamburg", at(14), 500),
	}
	pairs := [][2]string{{"sale-1", "void-1"}, {"sale-2", "ret-2"}, {"tout-1", "tin-1"}, {"ord-1", "ful-1"}, {"ord-2", "cancel-2"}}
	for i := range 30 {
		id := fmt.Sprintf("sale-h-%02d", i)
		evs = append(evs, eventtest.Sale(id, "hamburg", at(20+i), L("SKU-A", 1)))
		if i%5 == 0 {
			v := fmt.Sprintf("void-h-%02d", i)
			evs = append(evs, eventtest.Void(v, "hamburg", at(20+i).Add(time.Second), id))
			pairs = append(pairs, [2]string{id, v})
		}
	}
	var want []string
	for _, e := range evs {
		if e.Type != event.TypeDrawerCount {
			want = append(want, e.ID)
		}
	}
	return evs, want, pairs
}

// The core promise, on every database engine: every POS document reaches
// the ERP exactly once, threads in log order, drawer counts not at all, and
// the destination's records agree.
func TestERPDetailDeliversEveryDocumentOnce(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			b := setupOn(t, e)
			evs, want, pairs := retailMix()
			// Half before the destination starts, half while it runs.
			b.add(t, evs[:20]...)
			b.run(t)
			head := b.add(t, evs[20:]...)
			b.waitCursor(t, head)

			assertOnce(t, b.fake, want)
			assertBefore(t, b.fake, pairs)
			for _, id := range []string{"drawer-1", "drawer-2"} {
				if _, ok := b.fake.Document(id); ok {
					t.Errorf("drawer count %s was posted", id)
				}
			}
			docs, events, err := b.st.DeliveryCounts(context.Background(), b.cfg.Name)
			if err != nil {
				t.Fatal(err)
			}
			if docs != int64(len(want)) || events != int64(len(want)) {
				t.Errorf("DeliveryCounts = %d documents, %d events; want %d and %d", docs, events, len(want), len(want))
			}
			if dl := b.dead(t, ""); len(dl) != 0 {
				t.Errorf("dead letters %v, want none", dl)
			}

			// The mapping reached the ERP as the engine built it.
			void, _ := b.fake.Document("void-1")
			if void.Kind != erp.CashRefund || void.Reverses != "sale-1" || len(void.Lines) != 2 {
				t.Errorf("void-1 posted as %+v, want a cash refund of sale-1's two lines", void)
			}
			tin, _ := b.fake.Document("tin-1")
			if tin.Kind != erp.TransferReceipt || tin.Location != "berlin" || tin.ToLocation != "hamburg" {
				t.Errorf("tin-1 posted as %+v, want a transfer receipt berlin → hamburg", tin)
			}
			if ful, _ := b.fake.Document("ful-1"); ful.Kind != erp.Fulfilment || ful.Reference != "O-1" {
				t.Errorf("ful-1 posted as %+v, want the fulfilment of O-1", ful)
			}
		})
	}
}

func TestERPFiltersByLocationAndType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Locations = map[string]bool{"berlin": true}
	b.cfg.Types = map[event.Type]bool{event.TypeSale: true, event.TypeVoid: true}
	evs, _, _ := retailMix()
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)
	assertOnce(t, b.fake, []string{"sale-1", "sale-2", "void-1"})
}

// Unrelated threads go in parallel up to the account's ceiling, never
// beyond, and each thread stays in order.
func TestERPConcurrencyBoundedByGovernor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Latency = 20 * time.Millisecond
	b.fake.Limit = 5 // the ERP refuses a sixth request in flight
	b.cfg.Governor = destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 5})
	var evs []*event.Event
	var want []string
	var pairs [][2]string
	for i := range 80 {
		id := fmt.Sprintf("sale-%02d", i)
		evs = append(evs, eventtest.Sale(id, "berlin", at(i), eventtest.L("SKU-A", 1)))
		want = append(want, id)
		if i%4 == 0 {
			v := "void-" + id
			evs = append(evs, eventtest.Void(v, "berlin", at(i).Add(time.Second), id))
			want = append(want, v)
			pairs = append(pairs, [2]string{id, v})
		}
	}
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	assertOnce(t, b.fake, want)
	assertBefore(t, b.fake, pairs)
	_, limited, peak := b.fake.Stats()
	if peak > 5 || peak < 2 {
		t.Errorf("ERP saw %d requests at once, want 2..5 (parallel threads, within the ceiling)", peak)
	}
	if limited != 0 {
		t.Errorf("ERP refused %d requests for concurrency, want 0", limited)
	}
	if st := b.cfg.Governor.Stats(); st.Peak > 5 || st.InFlight != 0 {
		t.Errorf("governor %+v, want peak ≤ 5 and nothing in flight", st)
	}
}

// With ERP batching, documents of one kind travel together, and one
// refused document in a batch fails alone.
func TestERPBatchesAndPartialFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Batch = 10
	b.fake.Latency = 10 * time.Millisecond
	b.cfg.Governor = destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1})
	var evs []*event.Event
	var want []string
	for i := range 50 {
		id := fmt.Sprintf("sale-%02d", i)
		evs = append(evs, eventtest.Sale(id, "berlin", at(i), eventtest.L("SKU-A", 1)))
		want = append(want, id)
	}
	b.fake.FailNext("sale-07", 1, erp.Retry, "lock timeout on record")
	b.fake.FailNext("sale-33", -1, erp.Permanent, "Invalid subsidiary reference 9")
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	assertOnce(t, b.fake, slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id == "sale-33" }))
	if calls, _, _ := b.fake.Stats(); calls > 20 {
		t.Errorf("50 documents took %d calls with batches of 10, want batching", calls)
	}
	if n := b.fake.Posts()["sale-07"]; n != 2 {
		t.Errorf("sale-07 posted %d times, want 2 (one failure in a batch, then alone or in the next)", n)
	}
	dl := b.dead(t, store.DeadParked)
	if len(dl) != 1 || dl["sale-33"].Class != "permanent" {
		t.Errorf("dead letters %v, want only sale-33, permanent", dl)
	}
}

// A destination with a field allow-list receives only the fields its
// mapping names: the cashier's note and the card brand never reach it.
func TestERPFieldAllowList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f, err := erp.ParseFields([]string{"lines.amount", "payments", "reference"})
	if err != nil {
		t.Fatal(err)
	}
	b.cfg.Fields = f
	s := eventtest.Sale("sale-1", "berlin", at(1), eventtest.L("SKU-A", 2))
	s.Body.(*event.Sale).Notes = "customer Jane Doe, jane@example.com"
	head := b.add(t, s)
	b.run(t)
	b.waitCursor(t, head)
	d, ok := b.fake.Document("sale-1")
	if !ok {
		t.Fatal("sale-1 was not posted")
	}
	if d.Memo != "" {
		t.Errorf("memo %q reached a destination whose allow-list does not name it", d.Memo)
	}
	if len(d.Payments) != 1 || d.Payments[0].Brand != "" || d.Payments[0].Amount != 2000 {
		t.Errorf("payments = %+v, want one of 2000 without its brand", d.Payments)
	}
	if d.Reference != "sale-1" || len(d.Lines) != 1 || d.Lines[0].Amount != 2000 || d.Lines[0].SKU != "SKU-A" {
		t.Errorf("document lost allowed fields: %+v", d)
	}
}
