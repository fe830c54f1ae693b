package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/web"
)

// The browser tests drive the dashboard in real headless Chromium against
// a real hub (SQLite), a real store edge and a simulated NetSuite account,
// and save a screenshot of every page under $TILLSYNC_ARTIFACTS/screenshots
// (default: artifacts/screenshots at the repository root).

const (
	operatorKey = "operator-key-for-the-browser"
	storeToken  = "s1-token"
	shopToken   = "shop-token"
	// onlineWithin is shorter than the hub's default so that a stopped
	// edge shows offline quickly; edges report every 5 s.
	onlineWithin = 7 * time.Second
)

// base is an hour ago: the hub refuses events from the future.
var base = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("TILLSYNC_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (chromium, chromium-browser, google-chrome or $TILLSYNC_CHROMIUM): the dashboard's browser tests need it (.ci/run installs Debian's chromium)"
	if os.Getenv("TILLSYNC_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + ", and TILLSYNC_REQUIRE_SERVICES=1")
	}
	t.Skip(msg)
	return ""
}

func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TILLSYNC_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o750); err != nil { //nolint:gosec // G703: the tester names the artifacts folder
		t.Fatal(err)
	}
	return dir
}

// world is the hub, its dashboard, the store's edge and the ERP.
type world struct {
	hub     *hub.Hub
	apiURL  string
	uiURL   string
	dbDir   string
	ns      *nssim.Server
	edgeMu  sync.Mutex
	stop    func()
	edgeURL string
}

func startWorld(t *testing.T) *world {
	t.Helper()
	w := &world{dbDir: t.TempDir()}
	w.ns = nssim.New(erpsim.Options{}, nssim.DefaultCredentials())
	nsSrv := httptest.NewServer(w.ns)
	t.Cleanup(nsSrv.Close)
	creds := nssim.DefaultCredentials()

	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(w.dbDir, "hub.db")
	cfg.Stores = []config.Store{
		{ID: "s1", Name: "Berlin Mitte", Zone: et.Zone, TokenSHA256: intake.HashToken(storeToken)},
		{ID: "s2", Name: "Hamburg", Zone: et.Zone, TokenSHA256: intake.HashToken("s2-token")},
	}
	cfg.Sources = []config.Source{{ID: "web-shop", TokenSHA256: intake.HashToken(shopToken), Locations: []string{"s1", "s2"}}}
	cfg.Channels = []config.Channel{{Name: "web", SafetyBuffer: event.Units(1)}, {Name: "market", Locations: []string{"s1"}}}
	cfg.APIKeys = []config.APIKey{{Name: "otto", Role: "operator", KeySHA256: intake.HashToken(operatorKey)}}
	cfg.AllowPrivateDestinations = true
	catalog := filepath.Join(w.dbDir, "items.csv")
	if err := os.WriteFile(catalog, []byte("sku,gtin,description\nJKT-BLK-M,4006381333931,Jacket black M\n"+
		"JKT-BLK-L,4006381333948,Jacket black L\nTEE-WHT-S,,Tee white S\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Catalog = config.Catalog{File: catalog, Rules: filepath.Join(w.dbDir, "rules.jsonl")}
	cfg.ERPAccounts = []config.ERPAccount{{Name: "ns", Kind: "netsuite", Concurrency: 4, Settings: map[string]string{
		"account_id": creds.AccountID, "base_url": nsSrv.URL, "consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret, "subsidiary": "1", "customer": "1", "adjustment_account": "1",
	}}}
	cfg.Destinations = []config.ERPDestination{{Name: "netsuite", Account: "ns", Mode: "detail", Timeout: 2 * time.Second,
		Retry: config.Retry{Attempts: 2, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}}}
	h, err := hub.New(context.Background(), cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	w.hub = h
	w.apiURL = serve(t, "hub", h.Serve, h.Close)
	ui, err := h.UI(web.Options{OnlineWithin: onlineWithin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ui.Close)
	uiSrv := httptest.NewServer(ui)
	t.Cleanup(uiSrv.Close)
	w.uiURL = uiSrv.URL
	return w
}

// startEdge runs the store's edge (again, on the same local log).
func (w *world) startEdge(t *testing.T) {
	t.Helper()
	ec := config.DefaultEdge()
	ec.Location, ec.Zone, ec.Listen = "s1", et.Zone, "127.0.0.1:0"
	ec.Data = filepath.Join(w.dbDir, "edge.db")
	ec.Hub = config.EdgeHub{URL: w.apiURL, Token: storeToken, InsecurePlaintext: true}
	ec.Uplink.BackoffMin, ec.Uplink.BackoffMax = 20*time.Millisecond, 200*time.Millisecond
	e, err := edge.New(context.Background(), ec, testLog(t), edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	w.edgeMu.Lock()
	w.edgeURL = "http://" + ln.Addr().String()
	w.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("edge: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close edge: %v", err)
		}
	})
	w.edgeMu.Unlock()
	t.Cleanup(w.stopEdge)
}

func (w *world) stopEdge() {
	w.edgeMu.Lock()
	stop := w.stop
	w.edgeMu.Unlock()
	if stop != nil {
		stop()
	}
}

// post sends events to a URL's POST /v1/events, as a till does (the
// first hop stamps when it received them), and wants them all accepted.
func post(t *testing.T, url, token string, evs ...*event.Event) (quarantined int) {
	t.Helper()
	var raws []json.RawMessage
	for _, e := range evs {
		e.ReceivedAt = time.Time{}
		b, _ := json.Marshal(e)
		raws = append(raws, b)
	}
	body, _ := json.Marshal(intake.Batch{Events: raws})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r intake.Response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Accepted != len(evs) {
		t.Fatalf("posting %d events: status %d, %+v, %v", len(evs), resp.StatusCode, r, err)
	}
	return r.Quarantined
}

func serve(t *testing.T, name string, run func(context.Context, net.Listener) error, closeFn func() error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := closeFn(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	return "http://" + ln.Addr().String()
}

// patience bounds every wait: generous, for loaded CI machines.
const patience = 30 * time.Second

func eventually(t *testing.T, what string, cond func() bool) {
	within := patience
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browser is one headless Chromium tab shared by the steps.
type browser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	base string
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, patience)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("FAILED-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, patience)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shot saves a full-page PNG of what the browser shows.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, patience)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Error(err)
	}
}

func (b *browser) open(path, waitFor string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

func TestBrowser(t *testing.T) {
	exe := chromium(t)
	dir := screenshotDir(t)
	w := startWorld(t)
	w.startEdge(t)

	// No sandbox: CI containers often lack the user namespaces it needs
	// (and root cannot use it), and the browser loads only this test's pages.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1280, 900), chromedp.NoSandbox)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// Start the browser on the shared context itself: the first run's
	// context owns the browser, and the steps use shorter-lived children.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	b := &browser{t: t, ctx: bctx, dir: dir, base: w.uiURL}

	// Stock for the inventory page, through the edge as a till sends it.
	post(t, w.edgeURLNow(), "", et.Receive("s1-rcv-1", "s1", base, et.L("JKT-BLK-M", 12), et.L("TEE-WHT-S", 5)),
		et.Sale("s1-sale-1", "s1", base.Add(time.Minute), et.L("JKT-BLK-M", 2)))

	t.Run("log in", func(t *testing.T) {
		b.t = t
		b.open("/ui/stores", "#key") // not logged in: sent to the login page
		b.shot("01-login")
		b.do("log in", chromedp.SetValue(chromedp.CSS("#key"), operatorKey), chromedp.Click(chromedp.CSS("#login button")),
			chromedp.WaitVisible(chromedp.CSS("table.stores")))
		if who := b.text("header .who span"); !strings.Contains(who, "otto") || !strings.Contains(who, "operator") {
			t.Errorf("logged in as %q, want otto (operator)", who)
		}
	})

	t.Run("store goes offline and recovers", func(t *testing.T) {
		b.t = t
		b.do("s1 online", chromedp.WaitVisible(chromedp.CSS(`tr#store-s1.online`)))
		b.shot("02-stores-online")
		w.stopEdge()
		// No reload: the row turns red through the live stream.
		b.do("s1 offline", chromedp.WaitVisible(chromedp.CSS(`tr#store-s1.offline`)))
		b.shot("03-stores-s1-offline")
		w.startEdge(t)
		post(t, w.edgeURLNow(), "", et.Sale("s1-sale-2", "s1", base.Add(2*time.Minute), et.L("TEE-WHT-S", 1)))
		b.do("s1 back online", chromedp.WaitVisible(chromedp.CSS(`tr#store-s1.online`)))
		b.shot("04-stores-s1-recovered")
		b.do("tablet width", chromedp.EmulateViewport(820, 1180), chromedp.WaitVisible(chromedp.CSS("table.stores")))
		b.shot("05-stores-tablet")
		b.do("desktop width", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("SKU ledger history", func(t *testing.T) {
		b.t = t
		eventually(t, "the edge's events to reach the hub", func() bool {
			evs, err := w.hub.Store().EventsByID(t.Context(), []string{"s1-sale-1", "s1-sale-2"})
			return err == nil && len(evs) == 2
		})
		b.open("/ui/inventory", "#sku")
		b.do("search", chromedp.SetValue(chromedp.CSS("#sku"), "JKT-BLK-M"), chromedp.Click(chromedp.CSS("form.search button")),
			chromedp.WaitVisible(chromedp.CSS("table#ledger")))
		if stock := b.text("table#stock tbody"); !strings.Contains(stock, "10") {
			t.Errorf("stock of JKT-BLK-M shows %q, want 10 on hand at s1", stock)
		}
		b.shot("06-inventory-ledger")
		b.do("open the source event", chromedp.Click(chromedp.CSS(`table#ledger a[href="/ui/events/s1-sale-1"]`)),
			chromedp.WaitVisible(chromedp.CSS("#event-body")))
		if body := b.text("#event-body"); !strings.Contains(body, "s1-sale-1") || !strings.Contains(body, "JKT-BLK-M") {
			t.Errorf("the source event page shows %q", body)
		}
		b.shot("07-event")
	})

	t.Run("approve a mapping suggestion", func(t *testing.T) {
		b.t = t
		// A till sells a code the catalog lacks: the hub acks and holds
		// both sales in the SKU quarantine (internal/mapping/quarantine)
		// and raises one mapping_unknown_sku exception with ranked
		// suggestions; approving one releases the held sales into the log.
		held := []*event.Event{
			et.Sale("s2-sale-q1", "s2", base.Add(3*time.Minute), et.L("JKT-BLK-XL", 1)),
			et.Sale("s2-sale-q2", "s2", base.Add(4*time.Minute), et.L("JKT-BLK-XL", 2)),
		}
		if q := post(t, w.apiURL, "s2-token", held...); q != 2 {
			t.Fatalf("%d of the sales with an unknown code were held, want 2", q)
		}
		var x inbox.Exception
		eventually(t, "the mapping_unknown_sku exception", func() bool {
			p, err := w.hub.Inbox().List(t.Context(), inbox.Filter{Kind: string(inbox.MappingUnknownSKU)})
			if err != nil || len(p.Exceptions) != 1 {
				return false
			}
			x = p.Exceptions[0]
			return len(x.Suggestions) > 0
		})
		if evs, _ := w.hub.Store().EventsByID(t.Context(), []string{"s2-sale-q1"}); len(evs) != 0 {
			t.Fatal("a held sale is in the log before approval")
		}
		b.open("/ui/inbox", "table#exceptions")
		b.shot("08-inbox")
		b.do("open the exception", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-id="%d"] td a`, x.ID))),
			chromedp.WaitVisible(chromedp.CSS("ol.suggestions")))
		b.shot("09-exception")
		b.do("approve", chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-suggestion="%s"] button.approve`, x.Suggestions[0].ID))),
			chromedp.WaitVisible(chromedp.CSS("#flash")))
		if st := b.text("#state"); st != "resolved" {
			t.Errorf("after approving, the state shows %q", st)
		}
		if trail := b.text("table#trail"); !strings.Contains(trail, "otto") || !strings.Contains(trail, "approve") {
			t.Errorf("the trail shows %q", trail)
		}
		b.shot("10-exception-approved")
		evs, err := w.hub.Store().EventsByID(t.Context(), []string{"s2-sale-q1", "s2-sale-q2"})
		if err != nil || len(evs) != 2 {
			t.Fatalf("after approval %d of the 2 held sales are in the log (%v)", len(evs), err)
		}
		if sku := evs["s2-sale-q1"].Event.Body.(*event.Sale).Lines[0].SKU; sku == "JKT-BLK-XL" {
			t.Errorf("the released sale still names the unknown code %s", sku)
		}
		// The released sales show in the ledger history of the mapped SKU.
		var m struct{ SKU string }
		_ = json.Unmarshal(x.Suggestions[0].Payload, &m)
		b.open("/ui/inventory?sku="+m.SKU, "table#ledger")
		if ledger := b.text("table#ledger"); !strings.Contains(ledger, "s2-sale-q1") || !strings.Contains(ledger, "s2-sale-q2") {
			t.Errorf("the ledger of %s lacks the released sales: %q", m.SKU, ledger)
		}
		b.shot("11-released-in-ledger")
	})

	t.Run("replay a dead letter", func(t *testing.T) {
		b.t = t
		eventually(t, "the destination to catch up", func() bool {
			n, err := w.hub.Store().CountDeadLetters(t.Context(), "netsuite", store.DeadParked)
			cur, _ := w.hub.Store().Cursor(t.Context(), "netsuite")
			head, _ := w.hub.Store().Head(t.Context())
			return err == nil && n == 0 && cur == head
		})
		w.ns.Sim().Force(erpsim.ForceInvalid)
		post(t, w.apiURL, storeToken, et.Sale("s1-sale-9", "s1", base.Add(9*time.Minute), et.L("JKT-BLK-M", 1)))
		eventually(t, "the refused sale to be parked", func() bool {
			n, _ := w.hub.Store().CountDeadLetters(t.Context(), "netsuite", store.DeadParked)
			return n == 1
		})
		b.open("/ui/destinations", "table.dests")
		b.shot("12-destinations")
		b.open("/ui/destinations/netsuite", "table#dead-letters button.replay")
		if row := b.text("table#dead-letters tbody"); !strings.Contains(row, "invalid") {
			t.Errorf("the dead letter shows %q, want the ERP's error", row)
		}
		b.shot("13-dead-letter")
		b.do("replay", chromedp.Click(chromedp.CSS("table#dead-letters button.replay")), chromedp.WaitVisible(chromedp.CSS("#flash")))
		eventually(t, "the replayed document to be delivered", func() bool {
			rows, _ := w.hub.Store().DeadLetters(t.Context(), "netsuite", store.DeadResolved, 10)
			return len(rows) == 1
		})
		b.open("/ui/destinations/netsuite?state=resolved", "table#dead-letters")
		if row := b.text("table#dead-letters tbody"); !strings.Contains(row, "resolved") {
			t.Errorf("after replay the resolved list shows %q", row)
		}
		b.shot("14-dead-letter-resolved")
	})

	t.Run("other pages", func(t *testing.T) {
		b.t = t
		b.open("/ui/", "div.charts svg")
		b.shot("15-overview")
		b.open("/ui/reconcile?store=s1", "table#recon-exceptions")
		b.shot("16-reconciliation")
		// An operator is not an admin: the audit log is refused.
		b.open("/ui/audit", "p.error")
		b.shot("17-audit-refused")
	})
}

func (w *world) edgeURLNow() string {
	w.edgeMu.Lock()
	defer w.edgeMu.Unlock()
	return w.edgeURL
}

// testLog discards logs unless TILLSYNC_TEST_LOG=1.
func testLog(t *testing.T) *slog.Logger {
	if os.Getenv("TILLSYNC_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	return slog.New(slog.DiscardHandler)
}
