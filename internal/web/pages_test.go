package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/completeness"
	"github.com/tillsync/tillsync/internal/store"
)

func rowState(body, id string) string {
	m := regexp.MustCompile(`<tr id="store-` + regexp.QuoteMeta(id) + `" class="([a-z]+)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestStoresShowSyncHealth(t *testing.T) {
	b := setup(t, nil)
	now := b.clock.now()
	b.health = []store.Health{
		{Location: "s1", LastContact: now.Add(-2 * time.Second), EventsReceived: 40},
		{Location: "s2", LastContact: now.Add(-30 * time.Second), Backlog: 12, OldestUnsyncedAt: now.Add(-5 * time.Minute)},
		{Location: "s3", LastContact: now, Backlog: 7, OldestUnsyncedAt: now.Add(-time.Minute)},
		{Location: "s9", LastContact: now}, // reports, but is not configured
	}
	c := b.loggedIn(t, viewerKey)
	r := c.get("/ui/stores")
	for id, want := range map[string]string{"s1": "online", "s2": "offline", "s3": "draining", "s9": "online"} {
		if got := rowState(r.body, id); got != want {
			t.Errorf("store %s shown %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(r.body, "1m0s") || !strings.Contains(r.body, "Berlin") || !strings.Contains(r.body, "Europe/Berlin") {
		t.Error("the stores page lacks the oldest unsynced age, the store's name or its zone")
	}
	// The edge of s2 comes back and drains: green.
	b.mu.Lock()
	b.health[1] = store.Health{Location: "s2", LastContact: now}
	b.mu.Unlock()
	if got := rowState(c.get("/ui/stores").body, "s2"); got != "online" {
		t.Errorf("s2 after draining shown %q, want online", got)
	}
}

func TestInventoryShowsStockAndLedgerWithSourceEvents(t *testing.T) {
	b := setup(t, nil)
	ctx := context.Background()
	evs := []*event.Event{
		et.Receive("s1-rcv-1", "s1", et.Base, et.L("JKT-BLK-M", 10)),
		et.Receive("s2-rcv-1", "s2", et.Base, et.L("JKT-BLK-M", 3)),
		et.Sale("s1-sale-1", "s1", et.Base.Add(time.Minute), et.L("JKT-BLK-M", 2)),
	}
	if _, err := b.st.Append(ctx, evs, b.clock.now()); err != nil {
		t.Fatal(err)
	}
	c := b.loggedIn(t, viewerKey)
	r := c.get("/ui/inventory?sku=JKT-BLK-M")
	if r.status != http.StatusOK {
		t.Fatalf("inventory answered %d", r.status)
	}
	for _, want := range []string{
		// s1: 10 received − 2 sold = 8; web keeps a buffer of 1, market sells s1 only.
		"<td>s1</td><td class=\"n\">8</td>", "web: 7", "market: 8", "<td>s2</td><td class=\"n\">3</td>", "web: 2",
		`href="/ui/events/s1-sale-1"`, `href="/ui/events/s1-rcv-1"`, "-2", "sale", "receipt",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("inventory page lacks %q", want)
		}
	}
	if i, j := strings.Index(r.body, "/ui/events/s1-sale-1"), strings.Index(r.body, "/ui/events/s1-rcv-1"); i < 0 || j < 0 || i > j {
		t.Error("the ledger history is not newest first")
	}
	ev := c.get("/ui/events/s1-sale-1")
	if ev.status != http.StatusOK || !strings.Contains(ev.body, "JKT-BLK-M") || !strings.Contains(ev.body, "s1-sale-1") {
		t.Errorf("event page answered %d without the event", ev.status)
	}
	if r := c.get("/ui/events/nope"); r.status != http.StatusNotFound {
		t.Errorf("unknown event answered %d", r.status)
	}
	if r := c.get("/ui/inventory?sku=UNKNOWN"); !strings.Contains(r.body, "No stock of UNKNOWN") {
		t.Error("an unknown SKU does not say so")
	}
}

func TestInboxApproveSuggestionAndTrail(t *testing.T) {
	b := setup(t, nil)
	var got *inbox.Suggestion
	b.in.MustRegister("approve_mapping", inbox.HandlerFunc(func(_ context.Context, _ inbox.Exception, _ inbox.Action, s *inbox.Suggestion) (inbox.Result, error) {
		got = s
		return inbox.Result{State: inbox.Resolved, Note: "3 quarantined events replayed"}, nil
	}))
	x := b.raiseMapping(t, "JKTBLKM")
	c := b.loggedIn(t, operatorKey)
	list := c.get("/ui/inbox?kind=mapping_unknown_sku")
	if !strings.Contains(list.body, "Unknown SKU JKTBLKM") {
		t.Fatal("the inbox list lacks the exception")
	}
	if r := c.get("/ui/inbox?kind=nonsense"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "nonsense") {
		t.Errorf("a bad filter answered %d", r.status)
	}
	path := "/ui/inbox/" + strconv.FormatInt(x.ID, 10)
	page := c.get(path)
	for _, want := range []string{"93%", "Map JKTBLKM to JKT-BLK-M", "s1-sale-2", `value="approve_mapping"`, "raised"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("exception page lacks %q", want)
		}
	}
	r := c.post(path+"/act", url.Values{"action": {"approve_mapping"}, "suggestion": {"1"}, "back": {path}})
	if r.status != http.StatusSeeOther || r.location != path {
		t.Fatalf("approve answered %d → %q", r.status, r.location)
	}
	if got == nil || !strings.Contains(string(got.Payload), "JKT-BLK-M") || strings.Contains(string(got.Payload), "JKT-BLK-L") {
		t.Fatalf("the handler got suggestion %+v, want the first", got)
	}
	after := c.get(path)
	for _, want := range []string{`<dd id="state">resolved</dd>`, "3 quarantined events replayed", "otto", "approve_mapping done; now resolved"} {
		if !strings.Contains(after.body, want) {
			t.Errorf("after approving, the page lacks %q", want)
		}
	}
	// Resolving again is an illegal transition, said plainly.
	if r := c.post(path+"/act", url.Values{"action": {"resolve"}}); r.status != http.StatusConflict {
		t.Errorf("resolving a resolved exception answered %d, want 409", r.status)
	}
}

func TestReplayDeadLetterFromDestinationPage(t *testing.T) {
	b := setup(t, nil)
	b.parkDeadLetter(t, "eid:s1-sale-7")
	c := b.loggedIn(t, operatorKey)
	page := c.get("/ui/destinations/netsuite")
	if !strings.Contains(page.body, "Invalid Field Value SKU-404") || !strings.Contains(page.body, `value="eid:s1-sale-7"`) {
		t.Fatal("the destination page lacks the dead letter with its ERP error")
	}
	if r := c.post("/ui/destinations/netsuite/replay", url.Values{"id": {"eid:s1-sale-7"}}); r.status != http.StatusSeeOther {
		t.Fatalf("replay answered %d", r.status)
	}
	rows, _ := b.st.DeadLetters(t.Context(), "netsuite", store.DeadReplay, 10)
	if len(rows) != 1 || rows[0].ExternalID != "eid:s1-sale-7" {
		t.Errorf("after replay, waiting for replay: %+v", rows)
	}
	if r := c.post("/ui/destinations/netsuite/replay", url.Values{"id": {"eid:s1-sale-7"}}); r.status != http.StatusConflict {
		t.Errorf("replaying it again answered %d, want 409 (nothing parked)", r.status)
	}
	if r := c.post("/ui/destinations/nope/pause", nil); r.status != http.StatusNotFound {
		t.Errorf("pausing an unknown destination answered %d", r.status)
	}
}

func TestReconciliationPage(t *testing.T) {
	b := setup(t, func(o *Options) {
		o.Close = func(_ context.Context, storeID, date string) (*closing.Report, error) {
			return &closing.Report{Day: completeness.Day{Location: storeID, Zone: et.Zone, Date: date}, Complete: true,
				Sales: []closing.CurrencySales{{Currency: "EUR", Sales: 3, SalesValue: 4550, Net: 4550}},
				ERP: []completeness.Result{{Destination: "netsuite",
					Expected:  completeness.Totals{Count: 3, Value: map[string]event.Amount{"EUR": 4550}},
					Confirmed: completeness.Totals{Count: 2, Value: map[string]event.Amount{"EUR": 3100}},
					Missing:   []completeness.Doc{{EventID: "s2-sale-17", Kind: "sale", State: "missing"}}}},
				Cash: closing.CashSection{OutOfTolerance: 1, Variance: map[string]event.Amount{"EUR": -250}}}, nil
		}
	})
	c := b.loggedIn(t, viewerKey)
	r := c.get("/ui/reconcile?store=s2&date=2026-11-26")
	for _, want := range []string{"End-of-day close s2 2026-11-26", "45.50 EUR", "-2.50 EUR", "netsuite", "31.00 EUR", `href="/ui/events/s2-sale-17"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("reconciliation page lacks %q", want)
		}
	}
	if r := c.get("/ui/reconcile?store=s2&date=26.11.2026"); r.status != http.StatusBadRequest {
		t.Errorf("a bad date answered %d", r.status)
	}
	if r := c.get("/ui/reconcile?store=zz"); r.status != http.StatusNotFound {
		t.Errorf("an unknown store answered %d", r.status)
	}
}

func TestStoresNeedingALookComeFirst(t *testing.T) {
	b := setup(t, nil)
	now := b.clock.now()
	b.health = []store.Health{{Location: "s1", LastContact: now}, {Location: "s2", LastContact: now, Backlog: 3}}
	body := b.loggedIn(t, viewerKey).get("/ui/stores").body
	i3, i2, i1 := strings.Index(body, `id="store-s3"`), strings.Index(body, `id="store-s2"`), strings.Index(body, `id="store-s1"`)
	if i3 < 0 || i3 >= i2 || i2 >= i1 {
		t.Errorf("rows in order s3 %d, s2 %d, s1 %d; want offline s3, draining s2, online s1", i3, i2, i1)
	}
}
