package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/store"
)

// ERP delivery end to end: a hub on SQLite posting its log to a simulated
// NetSuite account over HTTP, wired as the demo wires it, through injected
// faults and a restart, bad configuration, and the operators' API.

const (
	nsDest     = "netsuite"
	nsAccount  = "ns"
	adminToken = "admin-token"
)

// nsAccountSim is a simulated NetSuite account on a random port.
type nsAccountSim struct {
	ns  *nssim.Server
	url string
}

func (s *nsAccountSim) stats() erpsim.Stats { return s.ns.Sim().Stats() }

func startNetSuite(t *testing.T, opt erpsim.Options) *nsAccountSim {
	t.Helper()
	ns := nssim.New(opt, nssim.DefaultCredentials())
	srv := httptest.NewServer(ns)
	t.Cleanup(srv.Close)
	return &nsAccountSim{ns: ns, url: srv.URL}
}

// nsHubConfig is a hub on db with stores s1 and s2, the web shop source
// writing for both, and one NetSuite account (logging in with creds) with
// one detail destination.
func nsHubConfig(db, url string, creds nssim.Credentials) config.Hub {
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + db
	cfg.Stores = []config.Store{
		{ID: "s1", Name: "Berlin", Zone: et.Zone, TokenSHA256: intake.HashToken(tokS1)},
		{ID: "s2", Name: "Hamburg", Zone: et.Zone, TokenSHA256: intake.HashToken(tokS2)},
	}
	cfg.Sources = []config.Source{{ID: "web-shop", TokenSHA256: intake.HashToken(tokShop), Locations: []string{"s1", "s2"}}}
	cfg.AllowPrivateDestinations = true // the simulated NetSuite runs on this machine
	cfg.ERPAccounts = []config.ERPAccount{{Name: nsAccount, Kind: "netsuite", Concurrency: 4, Settings: map[string]string{
		"account_id": creds.AccountID, "base_url": url, "consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret, "subsidiary": "1", "customer": "1", "adjustment_account": "1",
	}}}
	cfg.Destinations = []config.ERPDestination{{Name: nsDest, Account: nsAccount, Mode: "detail", Timeout: 2 * time.Second,
		Retry: config.Retry{Attempts: 5, BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}}}
	return cfg
}

// liveHub is a hub serving on a random port; stop shuts it down and
// closes its database (once; cleanup does it otherwise).
type liveHub struct {
	*testHub
	stop func()
}

func runHub(t *testing.T, cfg config.Hub) *liveHub {
	t.Helper()
	h, err := hub.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = h.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Cleanup(stop)
	return &liveHub{testHub: &testHub{Hub: h, url: "http://" + ln.Addr().String()}, stop: stop}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// destinationList is the answer of GET /v1/destinations.
type destinationList struct {
	Destinations []hub.DestinationInfo `json:"destinations"`
	LogHead      int64                 `json:"log_head"`
}

// status returns the NetSuite destination's entry of GET /v1/destinations.
func (h *liveHub) status(t *testing.T) hub.DestinationInfo {
	t.Helper()
	// The admin key where one is configured; without keys, reads from this
	// machine need none (and the unknown key is then ignored).
	l := decode[destinationList](t, h.do(t, http.MethodGet, "/v1/destinations", adminToken, nil), http.StatusOK)
	for _, d := range l.Destinations {
		if d.Name == nsDest {
			return d
		}
	}
	t.Fatalf("GET /v1/destinations lists %+v, not %s", l.Destinations, nsDest)
	return hub.DestinationInfo{}
}

// deadLetters lists the destination's dead letters in a state ("" for
// all) through the API, by external ID.
func (h *liveHub) deadLetters(t *testing.T, state string) map[string]store.DeadLetter {
	t.Helper()
	path := "/v1/destinations/" + nsDest + "/dead-letters"
	if state != "" {
		path += "?state=" + state
	}
	l := decode[struct {
		DeadLetters []store.DeadLetter `json:"dead_letters"`
	}](t, h.do(t, http.MethodGet, path, adminToken, nil), http.StatusOK)
	out := map[string]store.DeadLetter{}
	for _, d := range l.DeadLetters {
		out[d.ExternalID] = d
	}
	return out
}

// progress reads the destination's saved cursor and the log's head.
func (h *liveHub) progress(t *testing.T) (cursor, head int64) {
	t.Helper()
	ctx := context.Background()
	head, err := h.Store().Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cursor, err = h.Store().Cursor(ctx, nsDest)
	if err != nil {
		t.Fatal(err)
	}
	return cursor, head
}

// caughtUp waits until the destination's saved cursor is the log's head:
// every event delivered, skipped or parked, and that progress durable.
func (h *liveHub) caughtUp(t *testing.T, within time.Duration) {
	t.Helper()
	eventually(t, within, "the destination's cursor to reach the log's head", func() bool {
		cursor, head := h.progress(t)
		return head > 0 && cursor == head
	})
}

// saved opens a stopped hub's database and reads what it saved: the
// destination's cursor, the log's head, the documents delivered and the
// dead letters parked.
func saved(t *testing.T, db string) (cursor, head, docs, parked int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	if cursor, err = st.Cursor(ctx, nsDest); err != nil {
		t.Fatal(err)
	}
	if head, err = st.Head(ctx); err != nil {
		t.Fatal(err)
	}
	if docs, _, err = st.DeliveryCounts(ctx, nsDest); err != nil {
		t.Fatal(err)
	}
	if parked, err = st.CountDeadLetters(ctx, nsDest, store.DeadParked); err != nil {
		t.Fatal(err)
	}
	return cursor, head, docs, parked
}

func (h *liveHub) delivered(t *testing.T) (docs, events int64) {
	t.Helper()
	docs, events, err := h.Store().DeliveryCounts(context.Background(), nsDest)
	if err != nil {
		t.Fatal(err)
	}
	return docs, events
}

// admin sends an operator's action with a bearer token ("" for none).
func (h *liveHub) admin(t *testing.T, action, token string, body any) reply {
	t.Helper()
	return h.do(t, http.MethodPost, "/v1/destinations/"+nsDest+"/"+action, token, body)
}

// posting is one event and what it must become in NetSuite.
type posting struct {
	event *event.Event
	// records are the external IDs of the records its document creates:
	// the event ID (cash sale, refund, adjustment, sales order, item
	// fulfillment or receipt) and, for a shipped transfer, the transfer
	// ID (its transfer order). IDs here use only [A-Za-z0-9_-], which the
	// connector passes to NetSuite unchanged.
	records []string
	// closes is, for a cancellation, the sales order (by external ID) whose
	// lines it closes; it creates no record.
	closes string
}

func eventsOf(ps []posting) []*event.Event {
	out := make([]*event.Event, len(ps))
	for i, p := range ps {
		out[i] = p.event
	}
	return out
}

// tokenFor is who sends an event: the web shop its orders, fulfilments and
// cancellations, each store its own till and stock events.
func tokenFor(e *event.Event) string {
	switch e.Type {
	case event.TypeOnlineOrder, event.TypeFulfilment, event.TypeOrderCancel:
		return tokShop
	}
	if e.Location == "s2" {
		return tokS2
	}
	return tokS1
}

// postAll sends events in log order, in batches of one sender's
// consecutive events, and requires every one accepted.
func postAll(t *testing.T, h *liveHub, evs []*event.Event) {
	t.Helper()
	for len(evs) > 0 {
		tok := tokenFor(evs[0])
		n := 1
		for n < len(evs) && n < 25 && tokenFor(evs[n]) == tok {
			n++
		}
		r := h.post(t, tok, evs[:n]...)
		if r.Accepted != n {
			t.Fatalf("posted %d events, %d accepted: %+v", n, r.Accepted, r.Results)
		}
		evs = evs[n:]
	}
}

var skus = []string{"JKT-BLK-M", "JKT-BLK-L", "TEE-WHT-S", "TEE-WHT-M", "CAP-RED", "SCF-GRY", "BAG-TOTE", "SOCK-3PK"}

// retailDays makes at least n events of two stores and a web shop from a
// seed: opening deliveries, sales (some voided, some returned), stock
// adjustments, goods received, counts, transfers shipped and received a
// little later, and web orders fulfilled or cancelled a little later.
func retailDays(n int, seed uint64) []posting {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // test data
	stores := []string{"s1", "s2"}
	minute := 0
	at := func() time.Time { minute++; return et.Base.Add(time.Duration(minute) * time.Minute) }
	lines := func(maxLines, maxQty int) []event.Line {
		var ls []event.Line
		for _, i := range rng.Perm(len(skus))[:1+rng.IntN(maxLines)] {
			ls = append(ls, et.L(skus[i], int64(1+rng.IntN(maxQty))))
		}
		return ls
	}
	var out []posting
	add := func(e *event.Event, records ...string) { out = append(out, posting{event: e, records: records}) }
	for _, s := range stores {
		var open []event.Line
		for _, sku := range skus {
			open = append(open, et.L(sku, 60))
		}
		id := s + "-rcv-open"
		add(et.Receive(id, s, at(), open...), id)
	}
	type sold struct {
		id, loc string
		lines   []event.Line
	}
	var sales []sold // neither voided nor returned yet
	type later struct {
		due int
		p   posting
	}
	var pending []later
	for i := 0; len(out) < n || len(pending) > 0; i++ {
		var keep []later
		for _, l := range pending {
			if l.due > i && len(out) < n {
				keep = append(keep, l)
				continue
			}
			tm := at()
			l.p.event.OccurredAt, l.p.event.ReceivedAt = tm, tm
			out = append(out, l.p)
		}
		pending = keep
		if len(out) >= n {
			continue
		}
		s := stores[rng.IntN(len(stores))]
		other := stores[0]
		if s == other {
			other = stores[1]
		}
		id := func(kind string) string { return fmt.Sprintf("%s-%s-%04d", s, kind, i) }
		switch r := rng.IntN(100); {
		case r < 40:
			ls := lines(3, 2)
			add(et.Sale(id("sale"), s, at(), ls...), id("sale"))
			sales = append(sales, sold{id("sale"), s, ls})
		case r < 52 && len(sales) > 0:
			k := rng.IntN(len(sales))
			x := sales[k]
			sales = append(sales[:k], sales[k+1:]...)
			if r < 46 {
				vid := fmt.Sprintf("%s-void-%04d", x.loc, i)
				add(et.Void(vid, x.loc, at(), x.id), vid)
			} else {
				rid := fmt.Sprintf("%s-ret-%04d", x.loc, i)
				add(et.Return(rid, x.loc, at(), x.id, x.lines[0]), rid)
			}
		case r < 60:
			q := int64(1 + rng.IntN(3))
			if rng.IntN(2) == 0 {
				q = -q
			}
			add(et.Adjust(id("adj"), s, at(), et.L(skus[rng.IntN(len(skus))], q)), id("adj"))
		case r < 65:
			add(et.Receive(id("rcv"), s, at(), lines(4, 12)...), id("rcv"))
		case r < 68:
			add(et.Count(id("cnt"), s, at(), et.L(skus[rng.IntN(len(skus))], int64(5+rng.IntN(30)))), id("cnt"))
		case r < 80:
			tr := fmt.Sprintf("tr-%04d", i)
			ls := lines(3, 4)
			add(et.TransferOut(id("tout"), s, at(), tr, other, ls...), id("tout"), tr)
			in := fmt.Sprintf("%s-tin-%04d", other, i)
			pending = append(pending, later{due: i + 1 + rng.IntN(8),
				p: posting{event: et.TransferIn(in, other, at(), tr, s, ls...), records: []string{in}}})
		default:
			order, oid := fmt.Sprintf("o-%04d", i), fmt.Sprintf("web-ord-%04d", i)
			ls := lines(2, 2)
			add(et.Order(oid, s, at(), order, "web", ls...), oid)
			if rng.IntN(10) < 6 {
				fid := fmt.Sprintf("web-ful-%04d", i)
				pending = append(pending, later{due: i + 1 + rng.IntN(10),
					p: posting{event: et.Fulfil(fid, s, at(), order, ls...), records: []string{fid}}})
			} else {
				cid := fmt.Sprintf("web-cxl-%04d", i)
				pending = append(pending, later{due: i + 1 + rng.IntN(10),
					p: posting{event: et.Cancel(cid, s, at(), order), closes: oid}})
			}
		}
	}
	return out
}

// orderClosed reports whether every line of a sales order is closed.
func orderClosed(ns *nssim.Server, externalID string) bool {
	rec, ok := ns.Record("salesOrder", externalID)
	if !ok {
		return false
	}
	sub, _ := rec["item"].(map[string]any)
	items, _ := sub["items"].([]map[string]any)
	if len(items) == 0 {
		return false
	}
	for _, l := range items {
		if closed, _ := l["isClosed"].(bool); !closed {
			return false
		}
	}
	return true
}

// outcome is how a run ended for its documents.
type outcome struct {
	delivered, parked, records int
}

// checkExactlyOnce proves that every posting's document was either created
// in NetSuite exactly once (a cancellation: its order closed) or parked as
// a dead letter with an error; that nothing was created twice or created
// without a posting asking for it; and that the hub's own count of
// deliveries matches.
func checkExactlyOnce(t *testing.T, sim *nsAccountSim, h *liveHub, work []posting) outcome {
	t.Helper()
	st := sim.stats()
	dead := h.deadLetters(t, store.DeadParked)
	for id, dl := range dead {
		t.Logf("parked: %s (%s, %d attempts): %s", id, dl.Class, dl.Attempts, dl.Error)
	}
	var o outcome
	want := map[string]bool{}
	for _, p := range work {
		id := p.event.ID
		for _, r := range p.records {
			want[r] = true
			if n := st.Records[r]; n > 1 {
				t.Errorf("%s: record %s created %d times in NetSuite", id, r, n)
			}
		}
		if dl, ok := dead[id]; ok {
			o.parked++
			if dl.Error == "" || dl.State != store.DeadParked {
				t.Errorf("dead letter %s is %s with error %q, want parked with the reason", id, dl.State, dl.Error)
			}
			continue
		}
		o.delivered++
		for _, r := range p.records {
			if st.Records[r] == 0 {
				t.Errorf("lost: %s (%s) is neither in NetSuite as %s nor parked", id, p.event.Type, r)
			}
		}
		if p.closes != "" && !orderClosed(sim.ns, p.closes) {
			t.Errorf("lost: cancellation %s did not close sales order %s, nor is it parked", id, p.closes)
		}
	}
	for r := range st.Records {
		if !want[r] {
			t.Errorf("NetSuite has record %s, which no event asked for", r)
		}
		o.records++
	}
	for id := range dead {
		found := false
		for _, p := range work {
			found = found || p.event.ID == id
		}
		if !found {
			t.Errorf("dead letter %s is no event's document", id)
		}
	}
	if st.Duplicates != 0 || int(st.Created) != len(st.Records) {
		t.Errorf("NetSuite counts %d duplicates (%v), %d creations of %d records; want none and one each",
			st.Duplicates, st.DuplicateIDs(), st.Created, len(st.Records))
	}
	docs, events := h.delivered(t)
	if docs != int64(o.delivered) || events != docs {
		t.Errorf("the hub counts %d documents (%d events) delivered; %d postings are in NetSuite and not parked", docs, events, o.delivered)
	}
	return o
}

// 30 % of requests meet an injected fault — 20 % a 503, a stall past the
// client's patience or a reset, chosen at random, and 10 % of successful
// writes committed and then the connection dropped — against an account
// that serves at most 4 requests at once, while tillsync may use 6; the
// hub is stopped mid-delivery and a new one started on its database. Each
// document still ends in NetSuite exactly once or parked with its reason,
// and nothing is lost.
func TestERPFaultsAndRestartDeliverExactlyOnce(t *testing.T) {
	t.Parallel()
	sim := startNetSuite(t, erpsim.Options{Latency: 2 * time.Millisecond, Jitter: 3 * time.Millisecond, Concurrency: 4,
		FaultRate: 0.2, DropRate: 0.1, Stall: 600 * time.Millisecond, Seed: 11})
	db := filepath.Join(t.TempDir(), "hub.db")
	cfg := nsHubConfig(db, sim.url, nssim.DefaultCredentials())
	cfg.ERPAccounts[0].Concurrency = 6
	cfg.Destinations[0].Timeout = 400 * time.Millisecond
	cfg.Destinations[0].Retry = config.Retry{Attempts: 30, BackoffMin: 5 * time.Millisecond, BackoffMax: 80 * time.Millisecond}
	cfg.AdminTokenSHA256 = intake.HashToken(adminToken)

	work := retailDays(320, 2026)
	split := len(work) * 3 / 4
	first := runHub(t, cfg)
	// Paused while the first events come in, so that the stop below falls
	// mid-delivery however fast or slow intake is.
	if r := first.admin(t, "pause", adminToken, nil); r.status != http.StatusAccepted {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	eventually(t, 10*time.Second, "the destination to report it is paused", func() bool { return first.status(t).Paused })
	postAll(t, first, eventsOf(work[:split]))
	if r := first.admin(t, "resume", adminToken, nil); r.status != http.StatusAccepted {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	var inFlight int
	eventually(t, 40*time.Second, "a fifth of the documents delivered before the restart", func() bool {
		docs, _ := first.delivered(t)
		d := first.status(t)
		inFlight = d.Sending
		return docs >= int64(split/5)
	})
	first.stop()
	cursor, head, docs, parked := saved(t, db)
	t.Logf("stopped the hub with %d of %d documents delivered and %d parked (cursor %d of %d, %d requests in flight just before)",
		docs, split, parked, cursor, head, inFlight)
	if cursor >= head {
		t.Fatalf("the first hub delivered everything (cursor %d, head %d) before it was stopped: no restart mid-delivery", cursor, head)
	}

	second := runHub(t, cfg)
	postAll(t, second, eventsOf(work[split:]))
	second.caughtUp(t, 90*time.Second)

	o := checkExactlyOnce(t, sim, second, work)
	d := second.status(t)
	if d.Blocked != "" || d.DeadLetters != int64(o.parked) {
		t.Errorf("status %+v, want not blocked and %d dead letters", d, o.parked)
	}
	st := sim.stats()
	for _, r := range []string{"fault_5xx", "fault_timeout", "fault_reset"} {
		if st.Rejections[r] == 0 {
			t.Errorf("no %s injected: %v", r, st.Rejections)
		}
	}
	if st.Dropped == 0 {
		t.Error("no answer was dropped after a commit")
	}
	mix := map[event.Type]int{}
	for _, p := range work {
		mix[p.event.Type]++
	}
	t.Logf("events by type: %v", mix)
	t.Logf("%d events: %d documents delivered, %d parked, %d NetSuite records (%d duplicates); %d requests, %d answers dropped after commit, rejections %v, peak %d in flight",
		len(work), o.delivered, o.parked, o.records, st.Duplicates, st.Requests, st.Dropped, st.Rejections, st.PeakConcurrency)
}

// A hub whose ERP account cannot be built does not start, and says which
// field is wrong.
func TestERPConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*config.ERPAccount)
		want []string
	}{
		{"unknown kind", func(a *config.ERPAccount) { a.Kind = "netsweet" },
			[]string{"erp_accounts[0].kind", `unknown ERP kind "netsweet"`, "netsuite"}},
		{"no customer", func(a *config.ERPAccount) { delete(a.Settings, "customer") },
			[]string{"erp_accounts[0] (ns)", "[customer]", "required"}},
		{"secret from an unset variable", func(a *config.ERPAccount) {
			delete(a.Settings, "token_secret")
			a.Settings["token_secret_env"] = "TILLSYNC_TEST_NOT_SET_ANYWHERE"
		}, []string{"erp_accounts[0] (ns)", "token_secret_env", "environment variable"}},
		{"customer not an internal ID", func(a *config.ERPAccount) { a.Settings["customer"] = "walk-in" },
			[]string{"erp_accounts[0] (ns)", "setting customer", "internal ID"}},
		{"unknown setting", func(a *config.ERPAccount) { a.Settings["customer_id"] = "1" },
			[]string{"erp_accounts[0] (ns)", `unknown setting "customer_id"`, "known: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), "http://127.0.0.1:1", nssim.DefaultCredentials())
			tc.edit(&cfg.ERPAccounts[0])
			h, err := hub.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err == nil {
				_ = h.Close()
				t.Fatal("the hub started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Wrong credentials: the hub starts and takes events, the destination says
// it is blocked and why, and holds every document — nothing parked, the
// cursor not past them. With the credentials fixed (a restart), every
// document is delivered once.
func TestERPWrongCredentialsHoldUntilFixed(t *testing.T) {
	t.Parallel()
	sim := startNetSuite(t, erpsim.Options{})
	db := filepath.Join(t.TempDir(), "hub.db")
	wrong := nssim.DefaultCredentials()
	wrong.TokenSecret = strings.Repeat("0", len(wrong.TokenSecret))
	h := runHub(t, nsHubConfig(db, sim.url, wrong))
	work := retailDays(40, 7)
	postAll(t, h, eventsOf(work))

	var d hub.DestinationInfo
	eventually(t, 10*time.Second, "the destination to report it is blocked", func() bool {
		d = h.status(t)
		return d.Blocked != ""
	})
	for _, w := range []string{"HTTP 401 INVALID_LOGIN", "credentials are wrong", "token_secret", "configuration, not data"} {
		if !strings.Contains(d.Blocked, w) {
			t.Errorf("blocked %q does not say %q", d.Blocked, w)
		}
	}
	if d.DeadLetters != 0 || d.Cursor != 0 || d.LagEvents != int64(len(work)) {
		t.Errorf("status %+v, want every document held: no dead letters, cursor 0, lag %d", d, len(work))
	}
	h.stop()
	cursor, head, docs, parked := saved(t, db)
	if cursor != 0 || head != int64(len(work)) || docs != 0 || parked != 0 {
		t.Errorf("saved cursor %d of %d, %d delivered, %d parked; want the first document held and nothing parked", cursor, head, docs, parked)
	}
	if st := sim.stats(); st.Rejections["auth"] == 0 || st.Created != 0 {
		t.Errorf("NetSuite refused %d logins and created %d records; want refusals and nothing created", st.Rejections["auth"], st.Created)
	}

	fixed := runHub(t, nsHubConfig(db, sim.url, nssim.DefaultCredentials()))
	fixed.caughtUp(t, 30*time.Second)
	o := checkExactlyOnce(t, sim, fixed, work)
	if o.parked != 0 || o.delivered != len(work) {
		t.Errorf("%d delivered, %d parked; want all %d delivered", o.delivered, o.parked, len(work))
	}
	if d := fixed.status(t); d.Blocked != "" {
		t.Errorf("still blocked: %q", d.Blocked)
	}
}

// Wrong credentials show at start, from the account check, before any
// document has been posted (or failed).
func TestERPWrongCredentialsShowBeforeTheFirstDocument(t *testing.T) {
	t.Parallel()
	sim := startNetSuite(t, erpsim.Options{})
	wrong := nssim.DefaultCredentials()
	wrong.TokenSecret = strings.Repeat("0", len(wrong.TokenSecret))
	h := runHub(t, nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), sim.url, wrong))
	eventually(t, 10*time.Second, "the destination to report it is blocked with no document posted", func() bool {
		return strings.Contains(h.status(t).Blocked, "INVALID_LOGIN")
	})
	if d := h.status(t); d.LagEvents != 0 || d.DeadLetters != 0 {
		t.Errorf("status %+v, want an empty log and no dead letters", d)
	}
	// …and in the inbox, once, for a human to fix.
	type page struct {
		Exceptions []struct {
			Kind, State, Subject, Title string
		} `json:"exceptions"`
	}
	eventually(t, 10*time.Second, "a connector_error in the inbox", func() bool {
		p := decode[page](t, h.do(t, http.MethodGet, "/v1/inbox?kind=connector_error", adminToken, nil), http.StatusOK)
		if len(p.Exceptions) != 1 {
			return false
		}
		x := p.Exceptions[0]
		if x.State != "open" || x.Subject != nsDest || !strings.Contains(x.Title, "INVALID_LOGIN") {
			t.Errorf("inbox exception %+v: want an open one for %s naming INVALID_LOGIN", x, nsDest)
		}
		return true
	})
}

// An ERP that cannot be reached is an outage, not configuration: each
// document is retried within its budget and then parked with the
// connection error, in the API for an operator to replay.
func TestERPUnreachableParksWithTheConnectionError(t *testing.T) {
	t.Parallel()
	cfg := nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), "http://127.0.0.1:1", nssim.DefaultCredentials())
	cfg.Destinations[0].Retry = config.Retry{Attempts: 3, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond}
	h := runHub(t, cfg)
	postAll(t, h, []*event.Event{
		et.Sale("s1-sale-0001", "s1", at(1), et.L("JKT-BLK-M", 1)),
		et.Adjust("s1-adj-0002", "s1", at(2), et.L("CAP-RED", -1)),
		et.Void("s1-void-0003", "s1", at(3), "s1-sale-0001"),
	})
	h.caughtUp(t, 20*time.Second)

	dead := h.deadLetters(t, store.DeadParked)
	if len(dead) != 3 {
		t.Fatalf("parked %v, want the sale, the adjustment and the void", dead)
	}
	for _, id := range []string{"s1-sale-0001", "s1-adj-0002"} {
		dl := dead[id]
		if dl.Class != "retry" || dl.Attempts != 3 || !strings.Contains(dl.Error, "127.0.0.1:1") || !strings.Contains(dl.Error, "connection refused") {
			t.Errorf("%s parked as %s after %d attempts with %q; want retry, 3 attempts and the connection error", id, dl.Class, dl.Attempts, dl.Error)
		}
	}
	if dl := dead["s1-void-0003"]; !strings.Contains(dl.Error, "waiting behind dead letter s1-sale-0001") {
		t.Errorf("the void parked with %q, want it waiting behind its sale", dl.Error)
	}
	if d := h.status(t); d.DeadLetters != 3 || d.Blocked != "" || d.LagEvents != 0 {
		t.Errorf("status %+v, want 3 dead letters, not blocked, no lag", d)
	}
}

// A document NetSuite refuses (an item it does not have) is parked with
// NetSuite's own words; the rest of its thread waits behind it and every
// other document is delivered.
func TestERPRefusedDocumentParkedWithTheERPsError(t *testing.T) {
	t.Parallel()
	sim := startNetSuite(t, erpsim.Options{})
	h := runHub(t, nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), sim.url, nssim.DefaultCredentials()))
	postAll(t, h, []*event.Event{
		et.Sale("s1-sale-0001", "s1", at(1), et.L("JKT-BLK-M", 1)),
		et.Sale("s1-sale-0002", "s1", at(2), et.L("TEE-WHT-S", 1), et.L(nssim.InvalidSKU, 1)),
		et.Void("s1-void-0003", "s1", at(3), "s1-sale-0002"),
		et.Sale("s1-sale-0004", "s1", at(4), et.L("CAP-RED", 2)),
	})
	h.caughtUp(t, 20*time.Second)

	dead := h.deadLetters(t, "")
	bad := dead["s1-sale-0002"]
	for _, w := range []string{"HTTP 400 INVALID_CONTENT", "Invalid Field Value " + nssim.InvalidSKU + " for the following field: item", "item.items[1].item"} {
		if !strings.Contains(bad.Error, w) {
			t.Errorf("dead letter error %q does not say %q", bad.Error, w)
		}
	}
	if bad.Class != "permanent" || bad.Attempts != 1 || bad.State != store.DeadParked {
		t.Errorf("dead letter %+v, want permanent after one attempt, parked", bad)
	}
	if v := dead["s1-void-0003"]; !strings.Contains(v.Error, "waiting behind dead letter s1-sale-0002") {
		t.Errorf("the void: %+v, want it parked behind its sale", v)
	}
	st := sim.stats()
	if st.Records["s1-sale-0001"] != 1 || st.Records["s1-sale-0004"] != 1 || st.Records["s1-sale-0002"] != 0 || len(dead) != 2 {
		t.Errorf("records %v, dead letters %d; want the two good sales once, the bad one and its void parked", st.Records, len(dead))
	}
	if d := h.status(t); d.DeadLetters != 2 || d.Blocked != "" {
		t.Errorf("status %+v, want 2 dead letters and not blocked", d)
	}
}

// A record type the account does not have (a feature not enabled, a role
// not allowed) is configuration: the destination holds the document and
// says which record type, instead of parking every adjustment.
func TestERPUnknownRecordTypeBlocksAndSaysWhich(t *testing.T) {
	t.Parallel()
	ns := nssim.New(erpsim.Options{}, nssim.DefaultCredentials())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/record/v1/inventoryAdjustment/") {
			w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type=error")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"title": "Not Found", "status": 404, "o:errorDetails": []map[string]string{
				{"detail": "Record type 'inventoryAdjustment' does not exist.", "o:errorCode": "NONEXISTENT_ID"}}})
			return
		}
		ns.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	h := runHub(t, nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), srv.URL, nssim.DefaultCredentials()))
	postAll(t, h, []*event.Event{et.Adjust("s1-adj-0001", "s1", at(1), et.L("CAP-RED", -1))})

	var d hub.DestinationInfo
	eventually(t, 10*time.Second, "the destination to report it is blocked", func() bool {
		d = h.status(t)
		return d.Blocked != ""
	})
	for _, w := range []string{"misconfigured", "record type inventoryAdjustment", "Record type 'inventoryAdjustment' does not exist."} {
		if !strings.Contains(d.Blocked, w) {
			t.Errorf("blocked %q does not say %q", d.Blocked, w)
		}
	}
	if d.DeadLetters != 0 || d.Cursor != 0 || d.LagEvents != 1 {
		t.Errorf("status %+v, want the adjustment held: no dead letter, cursor 0, lag 1", d)
	}
}

// Operators pause, resume and replay through the API with the admin token;
// without it the actions are refused.
func TestERPPauseResumeReplayThroughTheAPI(t *testing.T) {
	t.Parallel()
	sim := startNetSuite(t, erpsim.Options{})
	cfg := nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), sim.url, nssim.DefaultCredentials())
	cfg.AdminTokenSHA256 = intake.HashToken(adminToken)
	h := runHub(t, cfg)
	// The account check at start is the first request: wait for it, so a
	// forced fault below meets the posting it is meant for.
	eventually(t, 10*time.Second, "the account check", func() bool { return sim.stats().Requests >= 1 })

	work := []posting{
		{event: et.Receive("s1-rcv-0001", "s1", at(1), et.L("JKT-BLK-M", 10), et.L("CAP-RED", 10)), records: []string{"s1-rcv-0001"}},
		{event: et.Sale("s1-sale-0002", "s1", at(2), et.L("JKT-BLK-M", 1)), records: []string{"s1-sale-0002"}},
		{event: et.TransferOut("s1-tout-0003", "s1", at(3), "tr-0003", "s2", et.L("CAP-RED", 2)), records: []string{"s1-tout-0003", "tr-0003"}},
		{event: et.TransferIn("s2-tin-0004", "s2", at(4), "tr-0003", "s1", et.L("CAP-RED", 2)), records: []string{"s2-tin-0004"}},
		{event: et.Order("web-ord-0005", "s1", at(5), "o-0005", "web", et.L("JKT-BLK-M", 1)), records: []string{"web-ord-0005"}},
		{event: et.Fulfil("web-ful-0006", "s1", at(6), "o-0005", et.L("JKT-BLK-M", 1)), records: []string{"web-ful-0006"}},
		{event: et.Order("web-ord-0007", "s2", at(7), "o-0007", "web", et.L("CAP-RED", 1)), records: []string{"web-ord-0007"}},
		{event: et.Cancel("web-cxl-0008", "s2", at(8), "o-0007"), closes: "web-ord-0007"},
	}
	postAll(t, h, eventsOf(work))
	h.caughtUp(t, 20*time.Second)

	for _, tok := range []string{"", "not-the-admin-token"} {
		apiError(t, h.admin(t, "pause", tok, nil), http.StatusUnauthorized, intake.CodeUnauthorized)
		apiError(t, h.admin(t, "replay", tok, map[string]any{"from_seq": 0}), http.StatusUnauthorized, intake.CodeUnauthorized)
	}
	if d := h.status(t); d.Paused {
		t.Fatal("paused without the admin token")
	}

	// Paused: events are taken, nothing is posted.
	if r := h.admin(t, "pause", adminToken, nil); r.status != http.StatusAccepted {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	eventually(t, 10*time.Second, "the destination to report it is paused", func() bool { return h.status(t).Paused })
	cursor, _ := h.progress(t)
	requests := sim.stats().Requests
	held := []posting{
		{event: et.Sale("s1-sale-0009", "s1", at(9), et.L("CAP-RED", 1)), records: []string{"s1-sale-0009"}},
		{event: et.Sale("s2-sale-0010", "s2", at(10), et.L("CAP-RED", 1)), records: []string{"s2-sale-0010"}},
	}
	postAll(t, h, eventsOf(held))
	time.Sleep(1500 * time.Millisecond) // a destination that ignored the pause would post by now
	if now, head := h.progress(t); now != cursor || sim.stats().Requests != requests {
		t.Errorf("while paused: cursor %d → %d (head %d), NetSuite requests %d → %d; want nothing posted", cursor, now, head, requests, sim.stats().Requests)
	}
	if d := h.status(t); !d.Paused || d.LagEvents != int64(len(held)) {
		t.Errorf("status %+v, want paused with %d events waiting", d, len(held))
	}
	if r := h.admin(t, "resume", adminToken, nil); r.status != http.StatusAccepted {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	h.caughtUp(t, 20*time.Second)
	work = append(work, held...)

	// Two dead letters: one refused once (a validation fault NetSuite no
	// longer raises), one that can never pass (an item NetSuite lacks).
	sim.ns.Sim().Force(erpsim.ForceInvalid)
	once := posting{event: et.Sale("s1-sale-0011", "s1", at(11), et.L("JKT-BLK-M", 1)), records: []string{"s1-sale-0011"}}
	never := et.Sale("s1-sale-0012", "s1", at(12), et.L(nssim.InvalidSKU, 1))
	postAll(t, h, []*event.Event{once.event})
	h.caughtUp(t, 20*time.Second)
	postAll(t, h, []*event.Event{never})
	h.caughtUp(t, 20*time.Second)
	dead := h.deadLetters(t, store.DeadParked)
	if dl := dead["s1-sale-0011"]; !strings.Contains(dl.Error, "refused as invalid") || dl.Class != "permanent" {
		t.Errorf("forced refusal parked as %+v, want permanent with NetSuite's error", dl)
	}
	if dl := dead["s1-sale-0012"]; !strings.Contains(dl.Error, "Invalid Field Value "+nssim.InvalidSKU) || dl.Class != "permanent" {
		t.Errorf("unknown item parked as %+v, want permanent with NetSuite's error", dl)
	}
	if d := h.status(t); d.DeadLetters != 2 {
		t.Errorf("status %+v, want 2 dead letters", d)
	}

	// Replay the dead letters: the first goes through, the second is
	// refused again for the same reason.
	r := decode[map[string]any](t, h.admin(t, "replay", adminToken, hub.ReplayRequest{DeadLetters: true}), http.StatusAccepted)
	if r["dead_letters"] != float64(2) {
		t.Errorf("replay answered %v, want 2 dead letters", r)
	}
	eventually(t, 10*time.Second, "the replay to resolve one and park the other again", func() bool {
		return len(h.deadLetters(t, store.DeadResolved)) == 1 && h.deadLetters(t, store.DeadParked)["s1-sale-0012"].Attempts == 2
	})
	if _, ok := h.deadLetters(t, store.DeadResolved)["s1-sale-0011"]; !ok {
		t.Error("s1-sale-0011 was not resolved by the replay")
	}
	if dl := h.deadLetters(t, store.DeadParked)["s1-sale-0012"]; !strings.Contains(dl.Error, "Invalid Field Value "+nssim.InvalidSKU) {
		t.Errorf("s1-sale-0012 parked again with %q, want the same error", dl.Error)
	}
	work = append(work, once)
	if st := sim.stats(); st.Records["s1-sale-0011"] != 1 || st.Records["s1-sale-0012"] != 0 {
		t.Errorf("records %v, want s1-sale-0011 once and s1-sale-0012 never", st.Records)
	}

	// Replay the whole log: every document posted again, nothing created
	// twice, the hopeless one left parked.
	before := sim.stats()
	docs, _ := h.delivered(t)
	r = decode[map[string]any](t, h.admin(t, "replay", adminToken, map[string]any{"from_seq": 0}), http.StatusAccepted)
	if r["from_seq"] != float64(0) {
		t.Errorf("replay answered %v", r)
	}
	eventually(t, 20*time.Second, "every document to be posted again", func() bool {
		cursor, head := h.progress(t)
		st, err := h.Store().GetDestinationState(context.Background(), nsDest)
		if err != nil {
			t.Fatal(err)
		}
		return st.ReplayFrom == -1 && cursor == head && sim.stats().Requests-before.Requests >= docs
	})
	if now, _ := h.delivered(t); now != docs {
		t.Errorf("%d documents delivered after the replay, %d before: a replay re-delivers the same documents", now, docs)
	}
	o := checkExactlyOnce(t, sim, h, append(work, posting{event: never}))
	if o.parked != 1 || o.delivered != len(work) {
		t.Errorf("%d delivered, %d parked after replaying the log; want %d and 1", o.delivered, o.parked, len(work))
	}
	t.Logf("replaying the log took %d requests for %d documents", sim.stats().Requests-before.Requests, docs)
}

// With no admin token configured, the API's actions are refused outright.
func TestERPActionsForbiddenWithoutAdminToken(t *testing.T) {
	t.Parallel()
	h := runHub(t, nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), "http://127.0.0.1:1", nssim.DefaultCredentials()))
	for _, action := range []string{"pause", "resume", "replay"} {
		apiError(t, h.admin(t, action, adminToken, map[string]any{"dead_letters": true}), http.StatusForbidden, intake.CodeForbidden)
	}
	if d := h.status(t); d.Paused {
		t.Error("paused by a refused request")
	}
}
