package completeness_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpfake"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/reconcile/completeness"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// bundle is a real store, the in-memory ERP, a detail destination on it
// and an auditor with an in-memory inbox.
type bundle struct {
	st     *store.Store
	fake   *erpfake.Fake
	notify *destination.Notifier
	cfg    destination.ERPConfig
	inbox  *exception.Memory
	audit  *completeness.Auditor
}

func setup(t *testing.T) *bundle {
	t.Helper()
	fake := erpfake.New()
	st := storetest.Open(t, storetest.Engines()[0])
	inbox := exception.NewMemory()
	return &bundle{
		st: st, fake: fake, notify: destination.NewNotifier(), inbox: inbox,
		cfg: destination.ERPConfig{
			Name: "erp", Connector: fake,
			Governor: destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 4}),
			Retry:    destination.RetryPolicy{Attempts: 2, Backoff: destination.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}},
			Timeout:  5 * time.Second, Flush: 20 * time.Millisecond,
		},
		audit: &completeness.Auditor{Store: st, Destinations: []completeness.Destination{{Name: "erp"}}, Inbox: inbox,
			Wait: 10 * time.Second, Poll: 50 * time.Millisecond},
	}
}

func (b *bundle) add(t *testing.T, evs ...*event.Event) {
	t.Helper()
	if _, err := b.st.Append(context.Background(), evs, time.Now()); err != nil {
		t.Fatalf("append: %v", err)
	}
	b.notify.Broadcast()
}

func (b *bundle) run(t *testing.T) {
	t.Helper()
	d := destination.NewERPDestination(b.cfg, b.st, b.notify, destination.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// settle waits until the destination's cursor reaches the log head.
func (b *bundle) settle(t *testing.T) {
	t.Helper()
	head, _ := b.st.Head(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, _ := b.st.Cursor(context.Background(), "erp"); c >= head {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("destination did not reach the head %d", head)
}

// day27 is store s1's 27 November 2026 in Berlin: 23:00 UTC on the 26th
// to 23:00 UTC on the 27th.
func day27(t *testing.T) completeness.Day {
	t.Helper()
	d, err := completeness.LocalDay("s1", eventtest.Zone, "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dayEvents: three sales of 10.00, 20.00 and 30.00 EUR and a cash refund
// of 10.00 on the day (one at 23:30 UTC on the 26th: already the 27th in
// Berlin), a drawer count (no document), a sale on the 28th and one at
// another store.
func dayEvents() []*event.Event { return eventsAround(eventtest.Base) }

// eventsAround is dayEvents around another 09:00 UTC.
func eventsAround(b time.Time) []*event.Event {
	return []*event.Event{
		eventtest.Sale("a", "s1", b.Add(-9*time.Hour-30*time.Minute), eventtest.L("X", 1)),
		eventtest.Sale("b", "s1", b, eventtest.L("X", 2)),
		eventtest.Sale("c", "s1", b.Add(time.Hour), eventtest.L("X", 3)),
		eventtest.Return("r", "s1", b.Add(2*time.Hour), "b", eventtest.L("X", 1)),
		eventtest.Drawer("dc", "s1", b.Add(3*time.Hour), 5000),
		eventtest.Sale("next", "s1", b.Add(14*time.Hour+30*time.Minute), eventtest.L("X", 1)),
		eventtest.Sale("other", "s2", b, eventtest.L("X", 1)),
	}
}

func TestLocalDayFollowsTheStoreZone(t *testing.T) {
	t.Parallel()
	d := day27(t)
	if want := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC); !d.From.Equal(want) {
		t.Errorf("From = %s, want %s", d.From, want)
	}
	if want := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC); !d.To.Equal(want) {
		t.Errorf("To = %s, want %s", d.To, want)
	}
	// 29 March 2026: Berlin springs forward; the day has 23 hours.
	dst, err := completeness.LocalDay("s1", "Europe/Berlin", "2026-03-29")
	if err != nil {
		t.Fatal(err)
	}
	if got := dst.To.Sub(dst.From); got != 23*time.Hour {
		t.Errorf("29 March lasts %s, want 23h", got)
	}
	if _, err := completeness.LocalDay("s1", "Europe/Berlin", "27.11.2026"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("bad date: err = %v", err)
	}
	if _, err := completeness.LocalDay("s1", "Mars/Olympus", "2026-11-27"); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("bad zone: err = %v", err)
	}
}

func TestEverythingConfirmed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, dayEvents()...)
	b.run(t)
	b.settle(t)
	// An earlier audit's exception for the day is resolved.
	key := completeness.Key("erp", day27(t))
	_ = b.inbox.Raise(context.Background(), exception.Exception{Key: key, Kind: exception.KindERPMissing})
	res, err := b.audit.Audit(context.Background(), day27(t))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	// 10 + 20 + 30 − 10 = 50.00 EUR in four documents; the drawer count
	// posts nothing, the 28th and store s2 are other audits.
	if r.Expected.Count != 4 || r.Expected.Value["EUR"] != 5000 {
		t.Errorf("expected = %+v, want 4 documents worth 5000 EUR", r.Expected)
	}
	if r.Confirmed.Count != 4 || r.Confirmed.Value["EUR"] != 5000 || !r.Complete() || r.Redelivered != 0 {
		t.Errorf("result = %+v, want all 4 confirmed, nothing re-delivered", r)
	}
	if _, ok := b.inbox.Resolved(key); !ok || len(b.inbox.Open()) != 0 {
		t.Errorf("open exceptions = %+v, want the earlier one resolved", b.inbox.Open())
	}
}

func TestPendingIsNotMissing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, dayEvents()...) // no destination running: nothing is due yet
	b.audit.Wait = time.Millisecond
	res, err := b.audit.Audit(context.Background(), day27(t))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Pending.Count != 4 || r.Confirmed.Count != 0 || !r.Complete() || r.Redelivered != 0 {
		t.Errorf("result = %+v, want 4 pending, none missing", r)
	}
	if len(b.inbox.Open()) != 0 {
		t.Errorf("raised %+v for documents not yet due", b.inbox.Open())
	}
}

func TestDeadLetterIsReplayedAndRecovers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext("c", -1, erp.Permanent, "item X is inactive")
	b.add(t, dayEvents()...)
	b.run(t)
	b.settle(t)
	if n, _ := b.st.CountDeadLetters(context.Background(), "erp", store.DeadParked); n != 1 {
		t.Fatalf("parked = %d, want sale c parked", n)
	}
	b.fake.FailNext("c", 0, 0, "") // someone reactivated the item
	res, err := b.audit.Audit(context.Background(), day27(t))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if !r.Complete() || r.Redelivered != 1 || r.Recovered != 1 || r.Confirmed.Value["EUR"] != 5000 {
		t.Errorf("result = %+v, want c re-delivered and confirmed", r)
	}
	if b.fake.Records()["c"] != 1 {
		t.Errorf("ERP records of c = %d, want 1", b.fake.Records()["c"])
	}
	if len(b.inbox.Open()) != 0 {
		t.Errorf("raised %+v although the re-delivery succeeded", b.inbox.Open())
	}
}

func TestStillFailingRaisesWithEvidence(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext("c", -1, erp.Permanent, "item X is inactive")
	b.add(t, dayEvents()...)
	b.run(t)
	b.settle(t)
	res, err := b.audit.Audit(context.Background(), day27(t))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if len(r.Missing) != 1 || r.Missing[0].EventID != "c" || r.Missing[0].State != completeness.StateDead ||
		!strings.Contains(r.Missing[0].Error, "inactive") || r.Missing[0].Value != 3000 {
		t.Fatalf("missing = %+v, want sale c (30.00) parked with the ERP's error", r.Missing)
	}
	if r.Confirmed.Count != 3 || r.Confirmed.Value["EUR"] != 2000 {
		t.Errorf("confirmed = %+v, want 3 documents worth 2000", r.Confirmed)
	}
	if b.fake.Posts()["c"] < 2 {
		t.Errorf("c was posted %d times, want the replay to have tried again", b.fake.Posts()["c"])
	}
	open := b.inbox.Open()
	if len(open) != 1 || open[0].Kind != exception.KindERPMissing || open[0].Key != completeness.Key("erp", day27(t)) ||
		open[0].Severity != exception.Critical || open[0].Location != "s1" {
		t.Fatalf("open = %+v, want one critical erp_missing for s1", open)
	}
	ev := open[0].Evidence.(map[string]any)
	if ev["missing_count"] != 1 || ev["missing_value"].(map[string]event.Amount)["EUR"] != 3000 {
		t.Errorf("evidence = %+v", ev)
	}
	// Fixed in the ERP: the next audit re-delivers, confirms, resolves.
	b.fake.FailNext("c", 0, 0, "")
	if res, err = b.audit.Audit(context.Background(), day27(t)); err != nil {
		t.Fatal(err)
	}
	if !res[0].Complete() || len(b.inbox.Open()) != 0 {
		t.Errorf("after the fix: result %+v, open %+v", res[0], b.inbox.Open())
	}
}

func TestPassedWithoutConfirmationIsRedelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, dayEvents()...)
	// The destination's cursor is past the day but no delivery was
	// recorded: a destination started at the end of the log, or records
	// lost with a restored database.
	head, _ := b.st.Head(context.Background())
	if err := b.st.SetCursor(context.Background(), "erp", head); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	res, err := b.audit.Audit(context.Background(), day27(t))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if !r.Complete() || r.Redelivered != 4 || r.Recovered != 4 || r.Confirmed.Count != 4 {
		t.Errorf("result = %+v, want the 4 documents re-delivered and confirmed", r)
	}
	recs := b.fake.Records()
	for _, id := range []string{"a", "b", "c", "r"} {
		if recs[id] != 1 {
			t.Errorf("ERP records of %s = %d, want 1", id, recs[id])
		}
	}
	if recs["next"] != 0 || recs["other"] != 0 {
		t.Errorf("re-delivered outside the audited day: %v", recs)
	}
	if len(b.inbox.Open()) != 0 {
		t.Errorf("raised %+v although the re-delivery succeeded", b.inbox.Open())
	}
}

func TestDestinationFiltersApply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, dayEvents()...)
	b.audit.ReportOnly = true
	b.audit.Destinations = []completeness.Destination{
		{Name: "returns", Types: map[event.Type]bool{event.TypeReturn: true}},
		{Name: "s2only", Locations: map[string]bool{"s2": true}},
	}
	res, err := b.audit.Audit(context.Background(), day27(t))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Expected.Count != 1 || res[0].Expected.Value["EUR"] != -1000 {
		t.Errorf("returns-only destination expects %+v, want the one refund of −10.00", res[0].Expected)
	}
	if res[1].Expected.Count != 0 {
		t.Errorf("s2-only destination expects %+v of s1, want nothing", res[1].Expected)
	}
}

func TestSummaryDestination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Mode, b.cfg.Interval = destination.Summary, time.Hour
	b.audit.Destinations = []completeness.Destination{{Name: "erp", Summary: true}}
	// A week earlier: summaries are posted once their hour is over.
	b.add(t, eventsAround(eventtest.Base.AddDate(0, 0, -7))...)
	day, err := completeness.LocalDay("s1", eventtest.Zone, eventtest.Base.AddDate(0, 0, -7).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	// The destination's cursor is past the day with nothing summarized:
	// the audit must rewind it so the day's sales are summarized again.
	head, _ := b.st.Head(context.Background())
	if err := b.st.SetCursor(context.Background(), "erp", head); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	res, err := b.audit.Audit(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if !r.Complete() || r.Redelivered != 4 || r.Recovered != 4 || r.Confirmed.Value["EUR"] != 5000 {
		t.Fatalf("result = %+v, want the day's 4 sales and refunds summarized again and confirmed", r)
	}
	for id := range b.fake.Records() {
		if id == "a" || id == "b" {
			t.Errorf("summary destination got detail record %s", id)
		}
	}
	// Audited again: everything is confirmed through the summaries,
	// nothing is re-delivered.
	if res, err = b.audit.Audit(context.Background(), day); err != nil || res[0].Redelivered != 0 || !res[0].Complete() || res[0].Confirmed.Count != 4 {
		t.Errorf("second audit = %+v, %v", res, err)
	}
}
