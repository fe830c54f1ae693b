package inbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// bundle is what a test needs: an inbox on a fresh database with a clock
// the test moves.
type bundle struct {
	in  *inbox.Inbox
	st  *store.Store
	now time.Time
}

func (b *bundle) tick() { b.now = b.now.Add(time.Minute) }

// eachEngine runs a test on SQLite and PostgreSQL.
func eachEngine(t *testing.T, f func(t *testing.T, b *bundle)) {
	t.Helper()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			b := &bundle{st: storetest.Open(t, e), now: time.Date(2025, 11, 28, 9, 0, 0, 0, time.UTC)}
			b.in = inbox.Standard(b.st, inbox.Options{Zones: map[string]string{"s1": "Europe/Berlin"}, Now: func() time.Time { return b.now }})
			f(t, b)
		})
	}
}

func evs(e ...*event.Event) []*event.Event { return e }

func problem(key string) inbox.Problem {
	return inbox.Problem{Key: key, Kind: inbox.CashVariance, Severity: inbox.SeverityWarning, Location: "s1", Subject: "till-3",
		Title: "till 3 is 12.40 EUR short", Evidence: map[string]any{"expected_minor": 51240, "counted_minor": 50000, "currency": "EUR"}}
}

func raise(t *testing.T, b *bundle, p inbox.Problem) (inbox.Exception, inbox.Raised) {
	t.Helper()
	x, what, err := b.in.Raise(context.Background(), p)
	if err != nil {
		t.Fatalf("raise %s: %v", p.Key, err)
	}
	return x, what
}

func act(t *testing.T, b *bundle, id int64, a inbox.Action) inbox.Exception {
	t.Helper()
	if a.Actor == "" {
		a.Actor = "alice"
	}
	x, err := b.in.Act(context.Background(), id, a)
	if err != nil {
		t.Fatalf("%s exception %d: %v", a.Name, id, err)
	}
	return x
}

func trailActions(x inbox.Exception) []string {
	var out []string
	for _, e := range x.Trail {
		out = append(out, fmt.Sprintf("%s:%s>%s", e.Action, e.FromState, e.ToState))
	}
	return out
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		x, _ := raise(t, b, problem("cash/s1/till-3/2025-11-28"))
		if x.State != inbox.Open || x.Zone != "Europe/Berlin" || x.Occurrences != 1 {
			t.Fatalf("raised: %+v", x)
		}
		if !slices.Equal(x.Actions, []string{"acknowledge", "assign", "resolve", "comment"}) {
			t.Errorf("open exception allows %v", x.Actions)
		}
		// Illegal: reopen what is open.
		_, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "reopen", Actor: "alice"})
		if !errors.Is(err, inbox.ErrIllegalTransition) || !strings.Contains(err.Error(), "open") {
			t.Fatalf("reopen an open exception: %v, want illegal_transition naming the state", err)
		}
		b.tick()
		x = act(t, b, x.ID, inbox.Action{Name: "acknowledge", Note: "looking"})
		if x.State != inbox.Acknowledged {
			t.Fatalf("acknowledged: %s", x.State)
		}
		if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "acknowledge", Actor: "bob"}); !errors.Is(err, inbox.ErrIllegalTransition) {
			t.Fatalf("acknowledge twice: %v", err)
		}
		x = act(t, b, x.ID, inbox.Action{Name: "assign", Assignee: "bob"})
		if x.Assignee != "bob" || x.State != inbox.Acknowledged {
			t.Fatalf("assigned: %+v", x)
		}
		b.tick()
		x = act(t, b, x.ID, inbox.Action{Name: "resolve", Actor: "bob", Note: "till recounted"})
		if x.State != inbox.Resolved || x.ResolvedAt == nil || !x.ResolvedAt.Equal(b.now) {
			t.Fatalf("resolved: %+v", x)
		}
		for _, a := range []string{"resolve", "acknowledge", "assign"} {
			if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: a, Actor: "bob"}); !errors.Is(err, inbox.ErrIllegalTransition) {
				t.Errorf("%s a resolved exception: %v, want illegal_transition", a, err)
			}
		}
		if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "replay", Actor: "bob"}); !errors.Is(err, inbox.ErrUnknownAction) {
			t.Errorf("replay on a cash variance: %v, want unknown_action (it offers no replay)", err)
		}
		if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "frobnicate", Actor: "bob"}); !errors.Is(err, inbox.ErrUnknownAction) {
			t.Errorf("unknown action: %v", err)
		}
		if _, err := b.in.Act(ctx, 9999, inbox.Action{Name: "resolve", Actor: "bob"}); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("no such exception: %v", err)
		}
		x = act(t, b, x.ID, inbox.Action{Name: "reopen", Actor: "carol", Note: "short again"})
		if x.State != inbox.Open || x.ResolvedAt != nil || x.Assignee != "bob" {
			t.Fatalf("reopened: %+v", x)
		}
		want := []string{"raised:>open", "acknowledge:open>acknowledged", "assign:acknowledged>acknowledged",
			"resolve:acknowledged>resolved", "reopen:resolved>open"}
		if got := trailActions(x); !slices.Equal(got, want) {
			t.Fatalf("trail %v\nwant  %v", got, want)
		}
		// The trail says who and when; failed attempts change nothing.
		if e := x.Trail[3]; e.Actor != "bob" || e.Note != "till recounted" || !e.At.Equal(b.now.Add(-0*time.Minute)) && e.At.IsZero() {
			t.Errorf("resolve line: %+v", e)
		}
		if e := x.Trail[2]; !strings.Contains(string(e.Detail), `"assignee":"bob"`) {
			t.Errorf("assign line detail %s", e.Detail)
		}
	})
}

func TestNextTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from   inbox.State
		action string
		to     inbox.State // "" for illegal
	}{
		{inbox.Open, "acknowledge", inbox.Acknowledged},
		{inbox.Open, "resolve", inbox.Resolved},
		{inbox.Acknowledged, "resolve", inbox.Resolved},
		{inbox.Resolved, "reopen", inbox.Open},
		{inbox.AutoResolved, "reopen", inbox.Open},
		{inbox.Open, "assign", inbox.Open},
		{inbox.AutoResolved, "comment", inbox.AutoResolved},
		{inbox.Acknowledged, "acknowledge", ""},
		{inbox.AutoResolved, "resolve", ""},
		{inbox.Open, "reopen", ""},
		{inbox.Resolved, "assign", ""},
	}
	for _, c := range cases {
		got, err := inbox.Next(c.from, c.action)
		if c.to == "" {
			if !errors.Is(err, inbox.ErrIllegalTransition) {
				t.Errorf("%s from %s: %v %v, want illegal", c.action, c.from, got, err)
			}
			continue
		}
		if err != nil || got != c.to {
			t.Errorf("%s from %s: %s %v, want %s", c.action, c.from, got, err, c.to)
		}
	}
}

func TestRaiseDedupesAndReopens(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		p := problem("cash/s1/till-3/2025-11-28")
		x1, what := raise(t, b, p)
		if what != inbox.Created {
			t.Fatalf("first raise: %s", what)
		}
		act(t, b, x1.ID, inbox.Action{Name: "acknowledge"})
		b.tick()
		p.Severity, p.Title = inbox.SeverityError, "till 3 is 40.00 EUR short"
		x2, what := raise(t, b, p)
		if what != inbox.Recurred || x2.ID != x1.ID || x2.Occurrences != 2 || x2.State != inbox.Acknowledged ||
			x2.Severity != inbox.SeverityError || !x2.LastSeen.Equal(b.now) || !x2.FirstSeen.Equal(x1.FirstSeen) {
			t.Fatalf("raise again: %s %+v", what, x2)
		}
		// The same observation twice is one sighting.
		p.Observation = "count-17"
		raise(t, b, p)
		if _, what := raise(t, b, p); what != inbox.Unchanged {
			t.Fatalf("same observation: %s", what)
		}
		act(t, b, x1.ID, inbox.Action{Name: "resolve"})
		b.tick()
		p.Observation = "count-18"
		x3, what := raise(t, b, p)
		if what != inbox.Reopened || x3.ID != x1.ID || x3.State != inbox.Open || x3.ResolvedAt != nil || x3.Occurrences != 4 {
			t.Fatalf("raise after resolve: %s %+v", what, x3)
		}
		page, err := b.in.List(ctx, inbox.Filter{})
		if err != nil || len(page.Exceptions) != 1 {
			t.Fatalf("list: %v %d exceptions, want 1", err, len(page.Exceptions))
		}
		got, _ := b.in.Get(ctx, x1.ID)
		want := []string{"raised:>open", "acknowledge:open>acknowledged", "recurred:acknowledged>acknowledged",
			"recurred:acknowledged>acknowledged", "resolve:acknowledged>resolved", "reopened:resolved>open"}
		if tr := trailActions(got); !slices.Equal(tr, want) {
			t.Fatalf("trail %v\nwant  %v", tr, want)
		}
		// A key belongs to one kind.
		q := p
		q.Kind = inbox.Oversell
		if _, _, err := b.in.Raise(ctx, q); !errors.Is(err, inbox.ErrInvalid) {
			t.Fatalf("same key, other kind: %v", err)
		}
		// Auto-resolution closes active ones only, once.
		if ok, err := b.in.AutoResolve(ctx, p.Key, "recount matched", nil); !ok || err != nil {
			t.Fatalf("auto-resolve: %v %v", ok, err)
		}
		if ok, err := b.in.AutoResolve(ctx, p.Key, "again", nil); ok || err != nil {
			t.Fatalf("auto-resolve twice: %v %v", ok, err)
		}
		got, _ = b.in.Get(ctx, x1.ID)
		if got.State != inbox.AutoResolved || got.Trail[len(got.Trail)-1].Actor != "system" {
			t.Fatalf("auto-resolved: %+v", got)
		}
	})
}

func TestRaiseValidates(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		bad := map[string]func(p *inbox.Problem){
			"key":        func(p *inbox.Problem) { p.Key = " " },
			"kind":       func(p *inbox.Problem) { p.Kind = "weird" },
			"severity":   func(p *inbox.Problem) { p.Severity = "meh" },
			"title":      func(p *inbox.Problem) { p.Title = "" },
			"evidence":   func(p *inbox.Problem) { p.Evidence = []int{1} },
			"confidence": func(p *inbox.Problem) { p.Suggestions = []inbox.Suggestion{{Label: "x", Confidence: 1.5}} },
			"actions":    func(p *inbox.Problem) { p.Actions = []string{"resolve"} },
		}
		for name, mutate := range bad {
			p := problem("k/" + name)
			mutate(&p)
			_, _, err := b.in.Raise(context.Background(), p)
			if !errors.Is(err, inbox.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		// Suggestions come back ranked and numbered.
		p := problem("k/ranked")
		p.Suggestions = []inbox.Suggestion{{Label: "low", Confidence: 0.2}, {Label: "high", Confidence: 0.9, Payload: json.RawMessage(`{"sku":"JKT-M"}`)}}
		x, _ := raise(t, b, p)
		if x.Suggestions[0].Label != "high" || x.Suggestions[0].ID != "1" || string(x.Suggestions[0].Payload) != `{"sku":"JKT-M"}` {
			t.Fatalf("suggestions %+v", x.Suggestions)
		}
	})
}

func TestRegisteredActions(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		var got []string
		b.in.MustRegister("approve", inbox.HandlerFunc(func(_ context.Context, x inbox.Exception, a inbox.Action, s *inbox.Suggestion) (inbox.Result, error) {
			if s == nil {
				return inbox.Result{}, errors.New("approve needs a suggestion")
			}
			got = append(got, string(s.Payload))
			return inbox.Result{State: inbox.Resolved, Note: "mapped", Detail: map[string]string{"to": "JKT-M"}}, nil
		}))
		if err := b.in.Register("resolve", inbox.HandlerFunc(nil)); err == nil {
			t.Fatal("registering a built-in name succeeded")
		}
		p := inbox.Problem{Key: "sku/s1/JKT-MED", Kind: inbox.MappingUnknownSKU, Severity: inbox.SeverityError, Location: "s1", Subject: "JKT-MED",
			Title: "unknown SKU JKT-MED", Actions: []string{"approve"},
			Suggestions: []inbox.Suggestion{{ID: "m1", Label: "JKT-M", Confidence: 0.8, Action: "approve", Payload: json.RawMessage(`{"sku":"JKT-M"}`)}}}
		x, _ := raise(t, b, p)
		if !slices.Contains(x.Actions, "approve") {
			t.Fatalf("actions %v lack approve", x.Actions)
		}
		// A failing handler is recorded and changes nothing.
		_, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "approve", Actor: "alice"})
		if !errors.Is(err, inbox.ErrActionFailed) {
			t.Fatalf("approve without a suggestion: %v", err)
		}
		if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "approve", Actor: "alice", Suggestion: "nope"}); !errors.Is(err, inbox.ErrInvalid) {
			t.Fatalf("unknown suggestion: %v", err)
		}
		x = act(t, b, x.ID, inbox.Action{Name: "approve", Suggestion: "m1"})
		if x.State != inbox.Resolved || len(got) != 1 || got[0] != `{"sku":"JKT-M"}` {
			t.Fatalf("approved: %s, handler saw %v", x.State, got)
		}
		want := []string{"raised:>open", "approve_failed:open>open", "approve:open>resolved"}
		if tr := trailActions(x); !slices.Equal(tr, want) {
			t.Fatalf("trail %v, want %v", tr, want)
		}
		if last := x.Trail[2]; !strings.Contains(string(last.Detail), `"suggestion":"m1"`) || !strings.Contains(last.Note, "mapped") {
			t.Fatalf("approve line %+v", last)
		}
		// Registered actions need an active exception.
		if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "approve", Actor: "alice", Suggestion: "m1"}); !errors.Is(err, inbox.ErrIllegalTransition) {
			t.Fatalf("approve a resolved exception: %v", err)
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		kinds := []inbox.Kind{inbox.Oversell, inbox.CashVariance, inbox.DeadLetter}
		sevs := []inbox.Severity{inbox.SeverityWarning, inbox.SeverityError}
		var ids []int64
		for i := range 30 {
			p := problem(fmt.Sprintf("k/%d", i))
			p.Kind, p.Severity, p.Location = kinds[i%3], sevs[i%2], fmt.Sprintf("s%d", i%5)
			x, _ := raise(t, b, p)
			ids = append(ids, x.ID)
			switch i % 4 {
			case 1:
				act(t, b, x.ID, inbox.Action{Name: "acknowledge"})
			case 2:
				act(t, b, x.ID, inbox.Action{Name: "assign", Assignee: "bob"})
			case 3:
				act(t, b, x.ID, inbox.Action{Name: "resolve"})
			}
		}
		count := func(f inbox.Filter) []int64 {
			t.Helper()
			var out []int64
			f.Limit = 4
			for pages := 0; ; pages++ {
				p, err := b.in.List(ctx, f)
				if err != nil {
					t.Fatalf("list %+v: %v", f, err)
				}
				if pages > 20 {
					t.Fatal("paging does not end")
				}
				for _, x := range p.Exceptions {
					out = append(out, x.ID)
				}
				if p.NextAfter == 0 {
					return out
				}
				f.After = p.NextAfter
			}
		}
		expect := func(name string, f inbox.Filter, keep func(i int) bool) {
			t.Helper()
			var want []int64
			for i, id := range ids {
				if keep(i) {
					want = append(want, id)
				}
			}
			if got := count(f); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}
		expect("all", inbox.Filter{}, func(int) bool { return true })
		expect("open", inbox.Filter{State: "open"}, func(i int) bool { return i%4 == 0 || i%4 == 2 })
		expect("active", inbox.Filter{State: "active"}, func(i int) bool { return i%4 != 3 })
		expect("resolved", inbox.Filter{State: "resolved"}, func(i int) bool { return i%4 == 3 })
		expect("kind", inbox.Filter{Kind: "oversell"}, func(i int) bool { return i%3 == 0 })
		expect("severity", inbox.Filter{Severity: "error"}, func(i int) bool { return i%2 == 1 })
		expect("store", inbox.Filter{Location: "s2"}, func(i int) bool { return i%5 == 2 })
		expect("assignee", inbox.Filter{Assignee: "bob"}, func(i int) bool { return i%4 == 2 })
		expect("combined", inbox.Filter{State: "active", Kind: "dead_letter", Severity: "warning"},
			func(i int) bool { return i%4 != 3 && i%3 == 2 && i%2 == 0 })
		for _, f := range []inbox.Filter{{State: "closed"}, {Kind: "nope"}, {Severity: "high"}, {Limit: -1}} {
			if _, err := b.in.List(ctx, f); !errors.Is(err, inbox.ErrInvalid) {
				t.Errorf("list %+v: %v, want invalid", f, err)
			}
		}
	})
}

// TestListUsesIndexes checks SQLite's plan: each filter is served by an
// index, so a page stays cheap with 10,000 open exceptions (see the
// benchmark for the numbers).
func TestListUsesIndexes(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, storetest.Engines()[0])
	for _, f := range []store.ExceptionFilter{
		{States: []string{"open"}}, {States: []string{"open"}, Kind: "oversell"}, {Kind: "oversell"},
		{States: []string{"open"}, Severity: "error"}, {Location: "s1"}, {States: []string{"open"}, Assignee: "bob"},
	} {
		plan, err := st.ExplainExceptions(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "USING INDEX inbox_exceptions_") && !strings.Contains(plan, "USING COVERING INDEX inbox_exceptions_") {
			t.Errorf("filter %+v: plan %q uses no inbox index", f, plan)
		}
		if strings.Contains(plan, "SCAN inbox_exceptions") && !strings.Contains(plan, "INDEX") {
			t.Errorf("filter %+v: full scan: %q", f, plan)
		}
	}
}

func TestOversellFeed(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		at := func(m int) time.Time { return et.Base.Add(time.Duration(m) * time.Minute) }
		if _, err := b.st.Append(ctx, evs(
			et.Receive("r1", "s1", at(0), et.L("JKT", 2)),
			et.Order("o1", "s1", at(1), "W1", "web", et.L("JKT", 2)),
			et.Sale("sale1", "s1", at(2), et.L("JKT", 1)), // takes stock promised to W1
			et.Order("o2", "s1", at(3), "W2", "web", et.L("JKT", 1)),
		), time.Now()); err != nil {
			t.Fatal(err)
		}
		feed := &inbox.OversellFeed{Inbox: b.in}
		if err := feed.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := feed.Sync(ctx); err != nil { // again: nothing new, nothing counted twice
			t.Fatal(err)
		}
		page, err := b.in.List(ctx, inbox.Filter{Kind: "oversell"})
		if err != nil || len(page.Exceptions) != 1 {
			t.Fatalf("oversell exceptions: %v %+v", err, page)
		}
		x := page.Exceptions[0]
		var ev inbox.OversellEvidence
		if err := json.Unmarshal(x.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if x.Key != inbox.OversellKey("s1", "JKT") || x.State != inbox.Open || x.Occurrences != 2 || ev.Count != 2 ||
			ev.Latest.EventID != "o2" || len(ev.Recent) != 2 || x.Location != "s1" || x.Subject != "JKT" {
			t.Fatalf("exception %+v evidence %+v", x, ev)
		}
		if !strings.Contains(x.Title, "order W2") {
			t.Errorf("title %q does not name the order", x.Title)
		}
		// Stock arrives: on hand covers every reservation, the exception
		// auto-resolves.
		if _, err := b.st.Append(ctx, evs(et.Receive("r2", "s1", at(4), et.L("JKT", 5))), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := feed.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := b.in.Get(ctx, x.ID)
		if got.State != inbox.AutoResolved {
			t.Fatalf("after receipt: %s, trail %v", got.State, trailActions(got))
		}
	})
}

func TestDeadLetterFeedReplayAndAutoResolve(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		app, err := b.st.Append(ctx, evs(et.Sale("sale-9", "s1", et.Base, et.L("JKT", 1))), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		seq := app.Results[0].Seq
		failed := time.Date(2025, 11, 28, 8, 0, 0, 0, time.UTC)
		park := func(at time.Time, msg string) {
			t.Helper()
			if err := b.st.SaveProgress(ctx, store.Progress{Destination: "netsuite", Cursor: seq, Dead: []store.DeadLetter{{
				ExternalID: "eid:sale-9", Thread: "sale-9", Seq: seq, Kind: "sale", Attempts: 8, Class: "permanent",
				Error: msg, FirstFailed: failed, LastFailed: at, Document: `{"external_id":"eid:sale-9"}`}}}); err != nil {
				t.Fatal(err)
			}
		}
		park(failed, "INVALID_KEY_OR_REF: item JKT not found")
		feed := &inbox.DeadLetterFeed{Inbox: b.in}
		for range 2 { // a second pass re-reads the same dead letter: no new occurrence
			if err := feed.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		page, err := b.in.List(ctx, inbox.Filter{Kind: "dead_letter"})
		if err != nil || len(page.Exceptions) != 1 {
			t.Fatalf("dead letter exceptions: %v %+v", err, page)
		}
		x := page.Exceptions[0]
		var ev inbox.DeadLetterEvidence
		_ = json.Unmarshal(x.Evidence, &ev)
		if x.Occurrences != 1 || x.Location != "s1" || x.Zone != "Europe/Berlin" || ev.Error != "INVALID_KEY_OR_REF: item JKT not found" ||
			ev.Destination != "netsuite" || !slices.Contains(x.Actions, "replay") || x.Suggestions[0].Action != "replay" {
			t.Fatalf("exception %+v evidence %+v", x, ev)
		}
		// Replay: the dead letter is queued for re-delivery, the exception
		// acknowledged.
		x = act(t, b, x.ID, inbox.Action{Name: "replay", Actor: "ops", Suggestion: "1"})
		if x.State != inbox.Acknowledged {
			t.Fatalf("after replay: %s", x.State)
		}
		if n, _ := b.st.CountDeadLetters(ctx, "netsuite", store.DeadReplay); n != 1 {
			t.Fatalf("%d dead letters queued for replay, want 1", n)
		}
		// Replaying twice is refused: it is no longer parked.
		if _, err := b.in.Act(ctx, x.ID, inbox.Action{Name: "replay", Actor: "ops"}); !errors.Is(err, inbox.ErrActionFailed) ||
			!strings.Contains(err.Error(), "not parked") {
			t.Fatalf("second replay: %v", err)
		}
		// It fails again: parked again, the exception records it.
		park(failed.Add(time.Hour), "INVALID_KEY_OR_REF: item JKT still not found")
		if err := feed.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		x, _ = b.in.Get(ctx, x.ID)
		_ = json.Unmarshal(x.Evidence, &ev)
		if x.Occurrences != 2 || x.State != inbox.Acknowledged || !strings.Contains(ev.Error, "still") {
			t.Fatalf("after a second failure: %+v", x)
		}
		// Replay again, and this time the destination delivers it.
		act(t, b, x.ID, inbox.Action{Name: "replay", Actor: "ops"})
		if err := b.st.SaveProgress(ctx, store.Progress{Destination: "netsuite", Cursor: seq,
			Delivered: []store.Delivered{{ExternalID: "eid:sale-9", Kind: "sale", Seq: seq, Events: 1}},
			Resolved:  []string{"eid:sale-9"}}); err != nil {
			t.Fatal(err)
		}
		if err := feed.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		x, _ = b.in.Get(ctx, x.ID)
		want := []string{"raised:>open", "replay:open>acknowledged", "replay_failed:acknowledged>acknowledged",
			"recurred:acknowledged>acknowledged", "replay:acknowledged>acknowledged", "auto_resolve:acknowledged>auto_resolved"}
		if x.State != inbox.AutoResolved || !slices.Equal(trailActions(x), want) {
			t.Fatalf("after delivery: %s, trail %v\nwant %v", x.State, trailActions(x), want)
		}
	})
}
