package hub_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
)

const (
	tokS1   = "token-s1"
	tokS2   = "token-s2"
	tokShop = "token-shop"
)

var hookSecret = []byte("hook-secret")

// hookReceiver collects verified webhook deliveries.
type hookReceiver struct {
	mu      sync.Mutex
	updates []availability.Update
	bad     int
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := webhook.Verify(hookSecret, req.Header, body, time.Now(), time.Minute); err != nil {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.updates = append(r.updates, p.Updates...)
}

func (r *hookReceiver) got() ([]availability.Update, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]availability.Update(nil), r.updates...), r.bad
}

type testHub struct {
	*hub.Hub
	url  string
	hook *hookReceiver
}

// startHub runs a hub on SQLite with stores s1 (Berlin) and s2, a web shop
// source writing for both, channels web (buffer 1, everywhere) and market
// (no buffer, s1 only), and a webhook for web.
func startHub(t *testing.T) *testHub {
	t.Helper()
	hook := &hookReceiver{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)

	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{
		{ID: "s1", Name: "Berlin", Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(tokS1)},
		{ID: "s2", Name: "Hamburg", Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(tokS2)},
	}
	cfg.Sources = []config.Source{{ID: "web-shop", TokenSHA256: intake.HashToken(tokShop), Locations: []string{"s1", "s2"}}}
	cfg.Channels = []config.Channel{
		{Name: "web", SafetyBuffer: event.Units(1)},
		{Name: "market", Locations: []string{"s1"}},
	}
	cfg.AllowPrivateDestinations = true // an httptest receiver on this machine
	cfg.Webhooks = []config.Webhook{{Name: "shop", URL: hookSrv.URL, Secret: string(hookSecret), Channels: []string{"web"}}}

	h, err := hub.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testHub{Hub: h, url: "http://" + ln.Addr().String(), hook: hook}
}

func at(minute int) time.Time { return et.Base.Add(time.Duration(minute) * time.Minute) }

// reply is a complete HTTP answer, its body read and closed.
type reply struct {
	method, path string
	status       int
	body         []byte
}

func (h *testHub) do(t *testing.T, method, path, token string, body any) reply {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{method: method, path: path, status: res.StatusCode, body: b}
}

func decode[T any](t *testing.T, res reply, status int) T {
	t.Helper()
	var v T
	if res.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", res.method, res.path, res.status, status, res.body)
	}
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("%s: %v", res.body, err)
	}
	return v
}

func (h *testHub) post(t *testing.T, token string, evs ...*event.Event) intake.Response {
	t.Helper()
	var raws []json.RawMessage
	for _, e := range evs {
		b, _ := json.Marshal(e)
		raws = append(raws, b)
	}
	return decode[intake.Response](t, h.do(t, http.MethodPost, "/v1/events", token, intake.Batch{Events: raws}), http.StatusOK)
}

func apiError(t *testing.T, res reply, status int, code string) {
	t.Helper()
	e := decode[struct {
		Error intake.Error `json:"error"`
	}](t, res, status)
	if e.Error.Code != code {
		t.Errorf("error %+v, want code %s", e.Error, code)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stockBody is the answer of GET /v1/stock/{sku}.
type stockBody struct {
	SKU       string               `json:"sku"`
	Locations []hub.LocationStock  `json:"locations"`
	Channels  map[string]event.Qty `json:"channels"`
}

func TestHubStockPerLocationAndChannel(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)), et.Sale("sale-1", "s1", at(1), et.L("JKT", 2)))
	h.post(t, tokS2, et.Receive("rcv-2", "s2", at(0), et.L("JKT", 4)))
	h.post(t, tokS1, et.Count("cnt-1", "s1", at(2), et.L("HAT", 1)))

	s := decode[stockBody](t, h.do(t, http.MethodGet, "/v1/stock/JKT", "", nil), http.StatusOK)
	if s.SKU != "JKT" || len(s.Locations) != 2 {
		t.Fatalf("stock %+v", s)
	}
	s1, s2 := s.Locations[0], s.Locations[1]
	if s1.Location != "s1" || s1.OnHand != event.Units(8) || s1.Available != event.Units(8) || s1.UpdatedSeq != 2 {
		t.Errorf("s1 %+v", s1)
	}
	// web holds back 1; market sells only from s1.
	if s1.Channels["web"] != event.Units(7) || s1.Channels["market"] != event.Units(8) || len(s1.Channels) != 2 {
		t.Errorf("s1 channels %v, want web 7 market 8", s1.Channels)
	}
	if s2.Location != "s2" || s2.OnHand != event.Units(4) || s2.Channels["web"] != event.Units(3) || len(s2.Channels) != 1 {
		t.Errorf("s2 %+v, want on hand 4, web 3 and no market", s2)
	}
	if s.Channels["web"] != event.Units(10) || s.Channels["market"] != event.Units(8) {
		t.Errorf("totals %v, want web 10 market 8", s.Channels)
	}

	hat := decode[stockBody](t, h.do(t, http.MethodGet, "/v1/stock/HAT", "", nil), http.StatusOK)
	if len(hat.Locations) != 1 || hat.Locations[0].LastCount == nil || !hat.Locations[0].LastCount.Equal(at(2)) {
		t.Errorf("HAT %+v, want its last count at %v", hat.Locations, at(2))
	}
	none := decode[stockBody](t, h.do(t, http.MethodGet, "/v1/stock/NOPE", "", nil), http.StatusOK)
	if len(none.Locations) != 0 || none.Locations == nil {
		t.Errorf("unknown SKU: %+v, want an empty list", none)
	}
}

func TestHubIntakeAuthorisation(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	r := h.post(t, tokShop,
		et.Order("ord-1", "s1", at(0), "o-1", "web", et.L("JKT", 1)),
		et.Order("ord-2", "s2", at(0), "o-2", "web", et.L("JKT", 1)),
		et.Order("ord-3", "s3", at(0), "o-3", "web", et.L("JKT", 1)),
	)
	if r.Accepted != 2 || r.Results[2].Status != intake.StatusRejected || r.Results[2].Error.Code != intake.CodeWrongLocation {
		t.Errorf("source writing s1, s2 and s3: %+v", r.Results)
	}
	r = h.post(t, tokS1, et.Sale("sale-1", "s2", at(0), et.L("JKT", 1)))
	if r.Rejected != 1 || r.Results[0].Error.Code != intake.CodeWrongLocation {
		t.Errorf("store s1 writing for s2: %+v", r.Results)
	}
	apiError(t, h.do(t, http.MethodPost, "/v1/events", "stolen", intake.Batch{}), http.StatusUnauthorized, intake.CodeUnauthorized)
}

func TestHubDuplicatesAndConflicts(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	sale := et.Sale("sale-1", "s1", at(0), et.L("JKT", 1))
	first := h.post(t, tokS1, sale)
	again := h.post(t, tokS1, sale, et.Sale("sale-1", "s1", at(0), et.L("HAT", 9)))
	if again.Results[0].Status != intake.StatusDuplicate || again.Results[0].Seq != first.Results[0].Seq {
		t.Errorf("a resent event: %+v, want duplicate of seq %d", again.Results[0], first.Results[0].Seq)
	}
	if r := again.Results[1]; r.Status != intake.StatusRejected || r.Error.Code != intake.CodeIDConflict {
		t.Errorf("an ID reused for different content: %+v", r)
	}
}

type storeList struct {
	Stores []hub.StoreStatus `json:"stores"`
}

func (l storeList) find(id string) (hub.StoreStatus, bool) {
	for _, s := range l.Stores {
		if s.Location == id {
			return s, true
		}
	}
	return hub.StoreStatus{}, false
}

func TestHubStores(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	list := decode[storeList](t, h.do(t, http.MethodGet, "/v1/stores", "", nil), http.StatusOK)
	for _, id := range []string{"s1", "s2"} {
		s, ok := list.find(id)
		if !ok || s.Online || !s.LastContact.IsZero() {
			t.Errorf("%s before any contact: %+v (found %v), want listed and offline", id, s, ok)
		}
	}
	if s, _ := list.find("s1"); s.Name != "Berlin" || s.Zone != "Europe/Berlin" {
		t.Errorf("s1 %+v, want its configured name and zone", s)
	}

	h.post(t, tokS1, et.Sale("sale-1", "s1", at(0), et.L("JKT", 1)), et.Sale("sale-2", "s1", at(1), et.L("JKT", 1)))
	h.post(t, tokShop, et.Order("ord-1", "s2", at(0), "o-1", "web", et.L("JKT", 1))) // a source is not s2's edge
	oldest := time.Now().Add(-30 * time.Second).UTC()
	res := h.do(t, http.MethodPost, "/v1/edge/status", tokS1, intake.EdgeReport{ID: "edge-s1-a", Backlog: 12, OldestUnsyncedAt: oldest})
	if res.status != http.StatusNoContent {
		t.Fatalf("POST /v1/edge/status: %d", res.status)
	}

	list = decode[storeList](t, h.do(t, http.MethodGet, "/v1/stores", "", nil), http.StatusOK)
	s1, _ := list.find("s1")
	if !s1.Online || s1.EdgeID != "edge-s1-a" || s1.Backlog != 12 || s1.EventsReceived != 2 {
		t.Errorf("s1 after contact: %+v, want online, edge-s1-a, backlog 12, 2 events received", s1)
	}
	if s1.OldestUnsyncedAgeSeconds < 29 || s1.OldestUnsyncedAgeSeconds > 60 {
		t.Errorf("s1 oldest unsynced age %vs, want about 30", s1.OldestUnsyncedAgeSeconds)
	}
	if s2, _ := list.find("s2"); s2.Online {
		t.Errorf("s2 %+v: a web shop's order for s2 is not contact from s2's edge", s2)
	}

	apiError(t, h.do(t, http.MethodPost, "/v1/edge/status", tokShop, intake.EdgeReport{}), http.StatusForbidden, intake.CodeForbidden)
	apiError(t, h.do(t, http.MethodPost, "/v1/edge/status", "", intake.EdgeReport{}), http.StatusUnauthorized, intake.CodeUnauthorized)
}

func TestHubStoreHealthSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(dir, "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", TokenSHA256: intake.HashToken(tokS1)}}
	run := func(f func(url string)) {
		h, err := hub.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Serve(ctx, ln) }()
		f("http://" + ln.Addr().String())
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	}
	run(func(url string) {
		th := &testHub{url: url}
		res := th.do(t, http.MethodPost, "/v1/edge/status", tokS1, intake.EdgeReport{ID: "edge-1", Backlog: 7})
		if res.status != http.StatusNoContent {
			t.Fatalf("status report: %d", res.status)
		}
	})
	run(func(url string) {
		th := &testHub{url: url}
		list := decode[storeList](t, th.do(t, http.MethodGet, "/v1/stores", "", nil), http.StatusOK)
		if s, _ := list.find("s1"); s.EdgeID != "edge-1" || s.Backlog != 7 || s.LastContact.IsZero() {
			t.Errorf("s1 after a restart: %+v, want the health saved at shutdown", s)
		}
	})
}

func TestHubEdgeSnapshot(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10), et.L("HAT", 2)))
	h.post(t, tokS2, et.Receive("rcv-2", "s2", at(0), et.L("JKT", 4), et.L("CAP", 1)))
	r := h.post(t, tokShop, et.Order("ord-1", "s1", at(1), "o-1", "web", et.L("JKT", 3)))

	snap := decode[inventory.Snapshot](t, h.do(t, http.MethodGet, "/v1/edge/snapshot", tokS1, nil), http.StatusOK)
	if snap.Location != "s1" || snap.AsOfSeq != r.Results[0].Seq {
		t.Errorf("snapshot of %s as of %d, want s1 as of the head %d", snap.Location, snap.AsOfSeq, r.Results[0].Seq)
	}
	got := map[string]inventory.Position{}
	for _, p := range snap.Positions {
		got[p.SKU] = p.Position()
	}
	if len(got) != 2 || got["JKT"].OnHand() != event.Units(10) || got["JKT"].Reserved != event.Units(3) || got["HAT"].OnHand() != event.Units(2) {
		t.Errorf("snapshot positions %+v, want s1's JKT (10, 3 reserved) and HAT only", snap.Positions)
	}
	apiError(t, h.do(t, http.MethodGet, "/v1/edge/snapshot", tokShop, nil), http.StatusForbidden, intake.CodeForbidden)
	apiError(t, h.do(t, http.MethodGet, "/v1/edge/snapshot", "", nil), http.StatusUnauthorized, intake.CodeUnauthorized)
}

func TestHubOversells(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	empty := decode[struct {
		Oversells []store.OversellRow `json:"oversells"`
	}](t, h.do(t, http.MethodGet, "/v1/oversells", "", nil), http.StatusOK)
	if empty.Oversells == nil || len(empty.Oversells) != 0 {
		t.Errorf("no oversells yet: %+v, want an empty list", empty.Oversells)
	}
	h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 2)))
	h.post(t, tokShop, et.Order("ord-1", "s1", at(1), "o-1", "web", et.L("JKT", 5)))

	got := decode[struct {
		Oversells []store.OversellRow `json:"oversells"`
	}](t, h.do(t, http.MethodGet, "/v1/oversells", "", nil), http.StatusOK)
	if len(got.Oversells) != 1 {
		t.Fatalf("oversells %+v, want one", got.Oversells)
	}
	o := got.Oversells[0]
	if o.Kind != inventory.OversellOrder || o.OrderID != "o-1" || o.SKU != "JKT" || o.Location != "s1" ||
		o.Requested != event.Units(5) || o.OnHand != event.Units(2) || o.EventID != "ord-1" {
		t.Errorf("oversell %+v", o)
	}
	for _, q := range []string{"0", "-1", "many"} {
		apiError(t, h.do(t, http.MethodGet, "/v1/oversells?limit="+q, "", nil), http.StatusBadRequest, "bad_parameter")
	}
}

func TestHubAvailabilityFansOut(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/v1/availability/stream?channel=web", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	r := h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)))
	var u availability.Update
	for u.SKU == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if d, ok := strings.CutPrefix(l, "data: "); ok {
				if err := json.Unmarshal([]byte(d), &u); err != nil {
					t.Fatal(err)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no availability update on the stream")
		}
	}
	if u.Channel != "web" || u.SKU != "JKT" || u.Available != event.Units(9) || u.Seq != r.Results[0].Seq {
		t.Errorf("streamed %+v, want web JKT 9", u)
	}
	if len(u.Events) != 1 || u.Events[0] != "rcv-1" {
		t.Errorf("causes %v, want rcv-1", u.Events)
	}

	waitFor(t, "the webhook delivery", func() bool { ups, _ := h.hook.got(); return len(ups) > 0 })
	ups, bad := h.hook.got()
	if bad != 0 {
		t.Errorf("%d deliveries failed verification", bad)
	}
	if ups[0].Channel != "web" || ups[0].SKU != "JKT" || ups[0].Available != event.Units(9) {
		t.Errorf("webhook got %+v", ups[0])
	}
}

func TestHubHealth(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 1)), et.Drawer("dc-1", "s1", at(1), 1000))
	got := decode[map[string]any](t, h.do(t, http.MethodGet, "/v1/health", "", nil), http.StatusOK)
	if got["status"] != "ok" || got["log_head"] != float64(2) {
		t.Errorf("health %v, want ok with log_head 2", got)
	}
}

func TestHubMetrics(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 3)))
	h.post(t, tokS1, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 3))) // duplicate
	h.do(t, http.MethodPost, "/v1/edge/status", tokS1, intake.EdgeReport{ID: "e", Backlog: 42})
	waitFor(t, "the webhook to deliver", func() bool { ups, _ := h.hook.got(); return len(ups) > 0 })

	want := []string{
		`tillsync_intake_events_total{status="accepted"} 1`,
		`tillsync_intake_events_total{status="duplicate"} 1`,
		`tillsync_commit_batch_events_count 2`,
		`tillsync_commit_batch_events_sum 2`,
		`tillsync_commit_fsync_seconds_count 2`,
		`tillsync_destination_deliveries_total{destination="shop",result="ok"} 1`,
		`tillsync_destination_lag_events{destination="shop"} 0`,
		`tillsync_store_backlog_events{location="s1"} 42`,
		`tillsync_log_head_seq 1`,
	}
	// The webhook's counters settle just after its receiver answers: poll.
	var m string
	missing := want
	deadline := time.Now().Add(10 * time.Second)
	for len(missing) > 0 && time.Now().Before(deadline) {
		m = string(h.do(t, http.MethodGet, "/metrics", "", nil).body)
		missing = nil
		for _, w := range want {
			if !strings.Contains(m, w+"\n") {
				missing = append(missing, w)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, w := range missing {
		t.Errorf("/metrics lacks %s", w)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grep(m, "tillsync_"))
	}
}

func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHubShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	h, err := hub.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, fmt.Sprintf("http://%s/v1/availability/stream", ln.Addr()), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return with a stream open")
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Logf("stream ended with %v", err)
	}
}
