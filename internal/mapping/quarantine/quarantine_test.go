package quarantine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/mapping/quarantine"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// logSink is the hub's sink in miniature: append to the log and ledger,
// and count the events it was offered.
type logSink struct {
	st      *store.Store
	offered atomic.Int64
}

func (s *logSink) Commit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	s.offered.Add(int64(len(events)))
	app, err := s.st.Append(ctx, events, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]intake.Outcome, len(events))
	for i, r := range app.Results {
		switch r.Outcome {
		case store.Accepted:
			out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: r.Seq}
		case store.Duplicate:
			out[i] = intake.Outcome{Status: intake.StatusDuplicate, Seq: r.Seq}
		default:
			out[i] = intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict}}
		}
	}
	return out, nil
}

func catalog(t *testing.T) *mapping.Catalog {
	t.Helper()
	cat := mapping.New()
	for _, it := range []mapping.Item{
		{SKU: "JKT-BLK-M", GTINs: []string{"4006381333931"}, Description: "Jacket black M"},
		{SKU: "JKT-BLK-L", GTINs: []string{"4006381333948"}, Description: "Jacket black L"},
		{SKU: "MUG-RED", Description: "Mug red"},
	} {
		if err := cat.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	return cat
}

type bundle struct {
	st   *store.Store
	next *logSink
	in   *inbox.Inbox
	q    *quarantine.Quarantine
}

func setup(t *testing.T, e storetest.Engine) *bundle {
	t.Helper()
	st := storetest.Open(t, e)
	return setupOn(t, st, mapping.NewResolver(catalog(t), mapping.Options{}))
}

func setupOn(t *testing.T, st *store.Store, r *mapping.Resolver) *bundle {
	t.Helper()
	b := &bundle{st: st, next: &logSink{st: st}, in: inbox.Standard(st, inbox.Options{})}
	var err error
	b.q, err = quarantine.New(context.Background(), quarantine.Config{Store: st, Next: b.next, Resolver: r, Inbox: b.in})
	if err != nil {
		t.Fatal(err)
	}
	b.in.MustRegister(quarantine.ActApprove, b.q.Approve())
	return b
}

func eachEngine(t *testing.T, f func(t *testing.T, e storetest.Engine)) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}

func at(minutes int) time.Time { return et.Base.Add(time.Duration(minutes) * time.Minute) }

func (b *bundle) commit(t *testing.T, evs ...*event.Event) []intake.Outcome {
	t.Helper()
	out, err := b.q.Commit(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (b *bundle) onHand(t *testing.T, sku string) event.Qty {
	t.Helper()
	k := inventory.Key{SKU: sku, Location: "s1"}
	ps, err := b.st.PositionsByKey(context.Background(), []inventory.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return ps[k].OnHand()
}

func (b *bundle) logged(t *testing.T) int64 {
	t.Helper()
	n, err := b.st.CountEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func status(o intake.Outcome) string {
	s := string(o.Status)
	if o.Quarantined {
		s += "+quarantined"
	}
	return s
}

func wantStatus(t *testing.T, got []intake.Outcome, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outcomes, want %d", len(got), len(want))
	}
	for i, w := range want {
		if o := got[i]; status(o) != w {
			t.Errorf("event %d: %s, want %s (%+v)", i, status(o), w, o.Err)
		}
	}
}

func TestUnknownCodeIsHeldNotBlockingAndRetryIsDuplicate(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e storetest.Engine) {
		b := setup(t, e)
		ctx := context.Background()
		recv := et.Receive("rcv-1", "s1", at(0), et.L("MUG-RED", 10))
		held := et.Sale("sale-unknown", "s1", at(1), et.L("MUG-RED", 1), et.L("ZZZ-999", 1))
		sale := et.Sale("sale-ok", "s1", at(2), et.L("MUG-RED", 2))
		wantStatus(t, b.commit(t, recv, held, sale), "accepted", "accepted+quarantined", "accepted")
		if n := b.logged(t); n != 2 {
			t.Fatalf("log holds %d events, want 2 (the held sale stays out)", n)
		}
		if got := b.onHand(t, "MUG-RED"); got != event.Units(8) {
			t.Fatalf("MUG-RED on hand %s, want 8", got)
		}
		rows, err := b.st.QuarantineByID(ctx, []string{"sale-unknown"})
		if err != nil || rows["sale-unknown"].State != store.QuarantineHeld || len(rows["sale-unknown"].Codes) != 1 ||
			rows["sale-unknown"].Codes[0] != (store.UnresolvedCode{Line: 1, Code: "ZZZ-999"}) {
			t.Fatalf("quarantine row %+v (%v)", rows, err)
		}
		// The POS retries the whole batch (its ack was lost): every event
		// is a duplicate, nothing is held or stored twice.
		again := []*event.Event{
			et.Receive("rcv-1", "s1", at(0), et.L("MUG-RED", 10)),
			et.Sale("sale-unknown", "s1", at(1), et.L("MUG-RED", 1), et.L("ZZZ-999", 1)),
			et.Sale("sale-ok", "s1", at(2), et.L("MUG-RED", 2)),
		}
		wantStatus(t, b.commit(t, again...), "duplicate", "duplicate+quarantined", "duplicate")
		// Twice in one batch: held once.
		twice := et.Sale("sale-twice", "s1", at(3), et.L("QQQ", 1))
		wantStatus(t, b.commit(t, twice, et.Sale("sale-twice", "s1", at(3), et.L("QQQ", 1))), "accepted+quarantined", "duplicate+quarantined")
		// The same ID for a different fact is refused, held or logged.
		wantStatus(t, b.commit(t, et.Sale("sale-unknown", "s1", at(9), et.L("ZZZ-999", 5))), "rejected")
		wantStatus(t, b.commit(t, et.Sale("sale-ok", "s1", at(9), et.L("ZZZ-999", 5))), "rejected")
		if n, _ := b.st.CountQuarantined(ctx, store.QuarantineHeld); n != 2 {
			t.Fatalf("held %d, want 2", n)
		}
		if n := b.logged(t); n != 2 {
			t.Fatalf("log holds %d events, want 2", n)
		}
	})
}

func TestAutoApplyRewritesAndRecordsRepair(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e storetest.Engine) {
		b := setup(t, e)
		ctx := context.Background()
		// A variant spelt in another order, a scanner prefix on a GTIN and
		// a catalog SKU in one receipt.
		recv := et.Receive("rcv-1", "s1", at(0), et.L("JKT-M-BLK", 3), et.L("]E04006381333948", 2), et.L("MUG-RED", 1))
		wantStatus(t, b.commit(t, recv), "accepted")
		got, err := b.st.EventsByID(ctx, []string{"rcv-1"})
		if err != nil {
			t.Fatal(err)
		}
		lines := got["rcv-1"].Event.Body.(*event.Receipt).Lines
		want := []event.Line{
			{SKU: "JKT-BLK-M", Code: "JKT-M-BLK", Quantity: event.Units(3)},
			{SKU: "JKT-BLK-L", Code: "]E04006381333948", Quantity: event.Units(2)},
			{SKU: "MUG-RED", Quantity: event.Units(1)},
		}
		for i := range want {
			if lines[i] != want[i] {
				t.Errorf("line %d in the log: %+v, want %+v", i, lines[i], want[i])
			}
		}
		if q := b.onHand(t, "JKT-BLK-M"); q != event.Units(3) {
			t.Errorf("JKT-BLK-M on hand %s, want 3", q)
		}
		reps, err := b.st.Repairs(ctx, "rcv-1")
		if err != nil || len(reps) != 2 {
			t.Fatalf("repairs %+v (%v), want 2", reps, err)
		}
		if r := reps[0]; r.Line != 0 || r.Code != "JKT-M-BLK" || r.SKU != "JKT-BLK-M" || r.Evidence != "variant" ||
			r.Confidence < mapping.DefaultThreshold || r.Who != "tillsync:variant" || r.Source != "pos" {
			t.Errorf("repair 0: %+v", r)
		}
		if r := reps[1]; r.Line != 1 || r.SKU != "JKT-BLK-L" || r.Evidence != "gtin:scanner_affix" {
			t.Errorf("repair 1: %+v", r)
		}
		// The POS resends it as it sent it: a duplicate of the rewritten
		// event.
		again := et.Receive("rcv-1", "s1", at(0), et.L("JKT-M-BLK", 3), et.L("]E04006381333948", 2), et.L("MUG-RED", 1))
		wantStatus(t, b.commit(t, again), "duplicate")
		if n, _ := b.st.CountQuarantined(ctx, store.QuarantineHeld); n != 0 {
			t.Fatalf("held %d, want 0", n)
		}
		// A person later decides the code means another SKU: a retry of
		// the event stored under the old repair is still a duplicate, not
		// an ID conflict, and the log keeps it once.
		if _, err := b.q.Resolver().Confirm("pos", "JKT-M-BLK", "JKT-BLK-L", "alice"); err != nil {
			t.Fatal(err)
		}
		again = et.Receive("rcv-1", "s1", at(0), et.L("JKT-M-BLK", 3), et.L("]E04006381333948", 2), et.L("MUG-RED", 1))
		out := b.commit(t, again)
		wantStatus(t, out, "duplicate")
		if out[0].Seq != got["rcv-1"].Seq {
			t.Errorf("retry seq %d, want %d", out[0].Seq, got["rcv-1"].Seq)
		}
		// Another fact under the same ID is still refused.
		wantStatus(t, b.commit(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT-M-BLK", 4))), "rejected")
		if n := b.logged(t); n != 1 {
			t.Fatalf("log holds %d events, want 1", n)
		}
	})
}

// exception returns the inbox exception of a source's code.
func (b *bundle) exception(t *testing.T, code string) inbox.Exception {
	t.Helper()
	page, err := b.in.List(context.Background(), inbox.Filter{Kind: string(inbox.MappingUnknownSKU)})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range page.Exceptions {
		if x.Key == quarantine.Key("pos", code) {
			x, err := b.in.Get(context.Background(), x.ID)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
	}
	t.Fatalf("no exception for %s in %+v", code, page.Exceptions)
	return inbox.Exception{}
}

func TestApproveReleasesIntoTheLogOnce(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e storetest.Engine) {
		b := setup(t, e)
		ctx := context.Background()
		wantStatus(t, b.commit(t,
			et.Receive("rcv-xl", "s1", at(0), et.L("JKT-BLK-XL", 5)),
			et.Sale("sale-xl", "s1", at(1), et.L("JKT-BLK-XL", 1)),
			et.Sale("sale-both", "s1", at(2), et.L("JKT-BLK-XL", 1), et.L("NOPE-1", 1)),
			et.Receive("rcv-mug", "s1", at(3), et.L("MUG-RED", 4)),
		), "accepted+quarantined", "accepted+quarantined", "accepted+quarantined", "accepted")
		if err := b.q.Raise(ctx); err != nil {
			t.Fatal(err)
		}
		// Raising again with nothing new changes nothing.
		if err := b.q.Raise(ctx); err != nil {
			t.Fatal(err)
		}
		x := b.exception(t, "JKT-BLK-XL")
		var ev struct {
			Waiting int      `json:"events_waiting"`
			Events  []string `json:"event_ids"`
			Code    string   `json:"code"`
		}
		if err := json.Unmarshal(x.Evidence, &ev); err != nil || ev.Waiting != 3 || ev.Code != "JKT-BLK-XL" || len(ev.Events) != 3 {
			t.Fatalf("evidence %s (%v)", x.Evidence, err)
		}
		if x.Occurrences != 1 || x.State != inbox.Open || len(x.Suggestions) == 0 || x.Suggestions[0].Action != quarantine.ActApprove ||
			string(x.Suggestions[0].Payload) != `{"sku":"JKT-BLK-L"}` {
			t.Fatalf("exception %+v", x)
		}
		// A person approves the first suggestion.
		done, err := b.in.Act(ctx, x.ID, inbox.Action{Name: quarantine.ActApprove, Actor: "alice", Suggestion: x.Suggestions[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if done.State != inbox.Resolved {
			t.Fatalf("exception after approve: %s", done.State)
		}
		// The two events with only that code are in the log, once each,
		// under the approved SKU; the one with another unknown code waits.
		if n := b.logged(t); n != 3 {
			t.Fatalf("log holds %d events, want 3", n)
		}
		if q := b.onHand(t, "JKT-BLK-L"); q != event.Units(4) {
			t.Fatalf("JKT-BLK-L on hand %s, want 4", q)
		}
		rows, _ := b.st.QuarantineByID(ctx, []string{"rcv-xl", "sale-xl", "sale-both"})
		if rows["rcv-xl"].State != store.QuarantineReleased || rows["rcv-xl"].Seq == 0 || rows["sale-both"].State != store.QuarantineHeld {
			t.Fatalf("rows after approve: %+v", rows)
		}
		logged, _ := b.st.EventsByID(ctx, []string{"sale-xl"})
		if l := logged["sale-xl"].Event.Body.(*event.Sale).Lines[0]; l.SKU != "JKT-BLK-L" || l.Code != "JKT-BLK-XL" {
			t.Fatalf("released line %+v", l)
		}
		// The rule holds from now on: the same code arriving later goes
		// straight to the log, with a repair record naming the rule.
		wantStatus(t, b.commit(t, et.Sale("sale-later", "s1", at(5), et.L("jkt-blk-xl", 1))), "accepted")
		if reps, _ := b.st.Repairs(ctx, "sale-later"); len(reps) != 1 || reps[0].Evidence != "rule" || reps[0].SKU != "JKT-BLK-L" {
			t.Fatalf("repairs of a later event: %+v", reps)
		}
		// The POS retries a released event: a duplicate of its log entry.
		out := b.commit(t, et.Sale("sale-xl", "s1", at(1), et.L("JKT-BLK-XL", 1)))
		wantStatus(t, out, "duplicate")
		if out[0].Seq != rows["sale-xl"].Seq {
			t.Fatalf("retry seq %d, want the released one %d", out[0].Seq, rows["sale-xl"].Seq)
		}
		// The second code's exception then releases the last event.
		if err := b.q.Raise(ctx); err != nil {
			t.Fatal(err)
		}
		y := b.exception(t, "NOPE-1")
		if len(y.Suggestions) != 0 {
			t.Fatalf("suggestions for a code nothing resembles: %+v", y.Suggestions)
		}
		if _, err := b.in.Act(ctx, y.ID, inbox.Action{Name: quarantine.ActApprove, Actor: "alice"}); err == nil {
			t.Fatal("approve without a suggestion succeeded")
		}
		if _, err := b.q.Resolver().Confirm("pos", "NOPE-1", "MUG-RED", "cli:bob"); err != nil {
			t.Fatal(err)
		}
		rel, err := b.q.Release(ctx)
		if err != nil || len(rel.Events) != 1 || rel.Events[0] != "sale-both" || rel.Waiting != 0 {
			t.Fatalf("release after a rule from elsewhere: %+v (%v)", rel, err)
		}
		if len(rel.Resolved) != 1 || rel.Resolved[0] != quarantine.Key("pos", "NOPE-1") {
			t.Fatalf("auto-resolved %v", rel.Resolved)
		}
		if y = b.exception(t, "NOPE-1"); y.State != inbox.AutoResolved {
			t.Fatalf("NOPE-1 exception %s, want auto_resolved", y.State)
		}
		if n := b.logged(t); n != 5 {
			t.Fatalf("log holds %d events, want 5", n)
		}
		if diffs, err := b.st.CheckLedger(ctx); err != nil || len(diffs) > 0 {
			t.Fatalf("ledger differs from log: %v %v", err, diffs)
		}
	})
}

func TestReleaseAfterCrashDoesNotDuplicate(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e storetest.Engine) {
		dsn := e.DSN(t)
		ctx := context.Background()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		rules := mapping.NewMemRules()
		b := setupOn(t, st, mapping.NewResolver(catalog(t), mapping.Options{Rules: rules}))
		wantStatus(t, b.commit(t, et.Receive("rcv-a", "s1", at(0), et.L("CODE-A", 2)), et.Receive("rcv-b", "s1", at(1), et.L("CODE-A", 3))),
			"accepted+quarantined", "accepted+quarantined")
		if _, err := b.q.Resolver().Confirm("pos", "CODE-A", "MUG-RED", "alice"); err != nil {
			t.Fatal(err)
		}
		// The crash: the release appended rcv-a to the log, then died
		// before marking it released.
		rows, _ := b.st.QuarantineByID(ctx, []string{"rcv-a"})
		crashed := new(event.Event)
		if err := json.Unmarshal(rows["rcv-a"].Body, crashed); err != nil {
			t.Fatal(err)
		}
		crashed.Body.(*event.Receipt).Lines[0] = event.Line{SKU: "MUG-RED", Code: "CODE-A", Quantity: event.Units(2)}
		if _, err := st.Append(ctx, []*event.Event{crashed}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		// Restart: the database reopened, the rules reloaded.
		st, err = store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		b = setupOn(t, st, mapping.NewResolver(catalog(t), mapping.Options{Rules: rules}))
		for range 2 {
			if _, err := b.q.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := b.logged(t); n != 2 {
			t.Fatalf("log holds %d events, want 2", n)
		}
		if q := b.onHand(t, "MUG-RED"); q != event.Units(5) {
			t.Fatalf("MUG-RED on hand %s, want 5", q)
		}
		after, _ := b.st.QuarantineByID(ctx, []string{"rcv-a", "rcv-b"})
		for id, r := range after {
			if r.State != store.QuarantineReleased || r.Seq == 0 {
				t.Errorf("%s: %+v", id, r)
			}
		}
		if n, _ := b.st.CountQuarantined(ctx, store.QuarantineHeld); n != 0 {
			t.Fatalf("still held: %d", n)
		}
		if diffs, err := b.st.CheckLedger(ctx); err != nil || len(diffs) > 0 {
			t.Fatalf("ledger differs from log: %v %v", err, diffs)
		}
	})
}

func TestListSummarisesHeldEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Engine{Name: "sqlite", DSN: storetest.SQLiteDSN})
	for i := range 3 {
		b.commit(t, et.Sale(fmt.Sprintf("s-%d", i), "s1", at(i), et.L("ABC-1", 1)))
	}
	s, err := b.q.List(context.Background(), store.QuarantineHeld, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Held != 3 || s.Released != 0 || len(s.Events) != 2 || s.Events[0].ID != "s-0" || s.Events[0].Zone != et.Zone ||
		len(s.Codes) != 1 || s.Codes[0].Waiting != 3 || s.Codes[0].Code != "ABC-1" || s.Codes[0].Exception != "mapping_unknown_sku/pos/ABC-1" {
		t.Fatalf("summary %+v", s)
	}
}
