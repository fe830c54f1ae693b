package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
)

const storeToken = "s1-token"

// unreachableHub is an address nothing listens on.
const unreachableHub = "http://127.0.0.1:1"

func edgeConfig(hubURL, data string) config.Edge {
	c := config.DefaultEdge()
	c.Location, c.Zone, c.Data = "s1", "Europe/Berlin", data
	c.Hub = config.EdgeHub{URL: hubURL, Token: storeToken, InsecurePlaintext: true}
	c.Uplink.BackoffMin, c.Uplink.BackoffMax = 5*time.Millisecond, 20*time.Millisecond
	c.Uplink.SnapshotInterval = 20 * time.Millisecond
	c.Uplink.Timeout = 5 * time.Second
	return c
}

// runningEdge is an edge serving on a random local port.
type runningEdge struct {
	*Edge
	url  string
	stop func()
}

func startEdge(t *testing.T, cfg config.Edge) *runningEdge {
	t.Helper()
	e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{})
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
		if err := e.Serve(ctx, ln); err != nil {
			t.Errorf("edge Serve: %v", err)
		}
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		if err := e.Close(); err != nil {
			t.Errorf("edge Close: %v", err)
		}
	}
	t.Cleanup(stop)
	return &runningEdge{Edge: e, url: "http://" + ln.Addr().String(), stop: stop}
}

// post sends events to a POS-facing intake and returns the answer.
func post(t *testing.T, url, token string, evs ...*event.Event) intake.Response {
	t.Helper()
	var raws []json.RawMessage
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, b)
	}
	body, _ := json.Marshal(intake.Batch{Events: raws})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/events: status %d", res.StatusCode)
	}
	var r intake.Response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func get[T any](t *testing.T, url string) T {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, res.StatusCode)
	}
	var v T
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
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

// fresh is a POS event as a till sends it: no location, zone or
// received_at (the edge fills them), happening just now.
func fresh(e *event.Event) *event.Event {
	e.Location, e.Zone, e.ReceivedAt = "", "", time.Time{}
	return e
}

func ago(d time.Duration) time.Time { return time.Now().Add(-d).UTC() }

func acceptedAll(t *testing.T, r intake.Response) {
	t.Helper()
	if r.Accepted != len(r.Results) {
		t.Fatalf("not all accepted: %+v", r.Results)
	}
}

func TestEdgeOfflineKeepsSellingFromTheLastSnapshot(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "edge.db")
	// Before this run the edge had synced one sale of 2 JKT (hub seq 5) and
	// taken a snapshot that reflects it.
	o := openTestOutbox(t, data)
	synced := et.Sale("sale-synced", "s1", ago(2*time.Hour), et.L("JKT", 2))
	if r := commit(t, o, synced); r[0].Status != intake.StatusAccepted {
		t.Fatal(r[0])
	}
	if err := o.markSynced(context.Background(), time.Now(), map[int64]int64{1: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if err := o.saveSnapshot(context.Background(), &inventory.Snapshot{Location: "s1", AsOfSeq: 5, Positions: []inventory.SnapshotPosition{
		{SKU: "JKT", Delta: event.Units(8)},
		{SKU: "HAT", Delta: event.Units(3), Reserved: event.Units(1)},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}

	e := startEdge(t, edgeConfig(unreachableHub, data))
	stock := func(sku string) LocalStock { return get[LocalStock](t, e.url+"/v1/stock/"+sku) }
	if s := stock("JKT"); s.OnHand != event.Units(8) || s.Available != event.Units(8) || s.SnapshotSeq != 5 || s.Location != "s1" {
		t.Errorf("JKT from the snapshot: %+v", s)
	}
	if s := stock("HAT"); s.OnHand != event.Units(3) || s.Reserved != event.Units(1) || s.Available != event.Units(2) {
		t.Errorf("HAT from the snapshot: %+v", s)
	}

	// The hub is unreachable; the store keeps selling.
	before := time.Now()
	sale1 := fresh(et.Sale("sale-1", "", ago(time.Minute), et.L("JKT", 1)))
	acceptedAll(t, post(t, e.url, "", sale1))
	acceptedAll(t, post(t, e.url, "", fresh(et.Sale("sale-2", "", ago(time.Minute), et.L("JKT", 3), et.L("HAT", 1)))))
	if s := stock("JKT"); s.OnHand != event.Units(4) {
		t.Errorf("JKT after two local sales: %s, want 8 − 1 − 3 = 4", s.OnHand)
	}
	// A void of the sale the snapshot already reflects puts its stock back;
	// so does a void of a local, unsynced one.
	acceptedAll(t, post(t, e.url, "", fresh(et.Void("void-synced", "", ago(30*time.Second), "sale-synced"))))
	if s := stock("JKT"); s.OnHand != event.Units(6) {
		t.Errorf("JKT after voiding the synced sale: %s, want 6", s.OnHand)
	}
	acceptedAll(t, post(t, e.url, "", fresh(et.Void("void-2", "", ago(20*time.Second), "sale-2"))))
	if s := stock("JKT"); s.OnHand != event.Units(9) {
		t.Errorf("JKT after voiding sale-2: %s, want 9", s.OnHand)
	}
	if s := stock("HAT"); s.OnHand != event.Units(3) {
		t.Errorf("HAT after voiding sale-2: %s, want 3", s.OnHand)
	}
	// A retried sale changes nothing.
	if r := post(t, e.url, "", sale1); r.Duplicates != 1 {
		t.Errorf("retry of sale-1: %+v", r)
	}
	if s := stock("JKT"); s.OnHand != event.Units(9) {
		t.Errorf("JKT after a duplicate: %s, want 9", s.OnHand)
	}

	waitFor(t, "the edge to notice the hub is unreachable", func() bool {
		h := get[Health](t, e.url+"/v1/health")
		return h.LastError != ""
	})
	h := get[Health](t, e.url+"/v1/health")
	if h.Backlog != 4 || h.HubReachable || h.Location != "s1" || h.EdgeID == "" || h.SnapshotSeq != 5 {
		t.Errorf("health %+v, want a backlog of 4, hub unreachable, snapshot 5", h)
	}
	if h.OldestUnsyncedAt.Before(before.Add(-time.Second)) || h.OldestUnsyncedAt.After(time.Now()) {
		t.Errorf("oldest unsynced at %v, want when sale-1 arrived (after %v)", h.OldestUnsyncedAt, before)
	}
	if h.OldestUnsyncedAgeSeconds <= 0 || h.OldestUnsyncedAgeSeconds > time.Since(before).Seconds()+1 {
		t.Errorf("oldest unsynced age %vs", h.OldestUnsyncedAgeSeconds)
	}
}

func TestEdgeViewSurvivesRestart(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "edge.db")
	e := startEdge(t, edgeConfig(unreachableHub, data))
	acceptedAll(t, post(t, e.url, "", fresh(et.Receive("rcv-1", "", ago(time.Hour), et.L("JKT", 5)))))
	acceptedAll(t, post(t, e.url, "", fresh(et.Sale("sale-1", "", ago(time.Minute), et.L("JKT", 2)))))
	id := get[Health](t, e.url+"/v1/health").EdgeID
	e.stop()

	e = startEdge(t, edgeConfig(unreachableHub, data))
	if s := get[LocalStock](t, e.url+"/v1/stock/JKT"); s.OnHand != event.Units(3) {
		t.Errorf("JKT after restart: %s, want 3 from the unsynced local events", s.OnHand)
	}
	h := get[Health](t, e.url+"/v1/health")
	if h.EdgeID != id || h.Backlog != 2 {
		t.Errorf("after restart: edge %q backlog %d, want %q and 2", h.EdgeID, h.Backlog, id)
	}
	r := post(t, e.url, "", fresh(et.Sale("sale-2", "", ago(time.Second), et.L("JKT", 1))))
	if r.Results[0].Seq != 3 {
		t.Errorf("store_seq after restart %d, want 3", r.Results[0].Seq)
	}
}

func TestEdgeTerminalToken(t *testing.T) {
	t.Parallel()
	cfg := edgeConfig(unreachableHub, filepath.Join(t.TempDir(), "edge.db"))
	cfg.TerminalTokenSHA256 = intake.HashToken("till-secret")
	e := startEdge(t, cfg)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.url+"/v1/events", bytes.NewReader([]byte(`{"events":[{}]}`)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the terminal token: %d, want 401", res.StatusCode)
	}
	acceptedAll(t, post(t, e.url, "till-secret", fresh(et.Sale("sale-1", "", ago(time.Minute), et.L("JKT", 1)))))
	// The token is the store's: another location is refused.
	r := post(t, e.url, "till-secret", et.Sale("sale-2", "s2", ago(time.Minute), et.L("JKT", 1)))
	if r.Rejected != 1 || r.Results[0].Error.Code != intake.CodeWrongLocation {
		t.Errorf("event for s2: %+v", r.Results[0])
	}
}

// startHub runs a real hub on a random port that knows store s1.
func startHub(t *testing.T) (url string, stop func()) {
	t.Helper()
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(storeToken)}}
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
			t.Errorf("hub Serve: %v", err)
		}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		_ = h.Close()
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func TestEdgeSyncsThenWorksOfflineFromTheHubSnapshot(t *testing.T) {
	t.Parallel()
	hubURL, stopHub := startHub(t)
	e := startEdge(t, edgeConfig(hubURL, filepath.Join(t.TempDir(), "edge.db")))

	acceptedAll(t, post(t, e.url, "", fresh(et.Receive("rcv-1", "", ago(time.Hour), et.L("JKT", 10)))))
	acceptedAll(t, post(t, e.url, "", fresh(et.Sale("sale-1", "", ago(time.Minute), et.L("JKT", 2)))))
	waitFor(t, "the backlog to sync and a snapshot that reflects it", func() bool {
		h := get[Health](t, e.url+"/v1/health")
		return h.Backlog == 0 && h.SnapshotSeq >= 2 && h.HubReachable && !h.LastSyncAt.IsZero()
	})
	if h := get[Health](t, e.url+"/v1/health"); h.OldestUnsyncedAgeSeconds != 0 || !h.OldestUnsyncedAt.IsZero() {
		t.Errorf("health while online and synced: %+v", h)
	}
	waitFor(t, "JKT at 8 from the hub snapshot", func() bool {
		s := get[LocalStock](t, e.url+"/v1/stock/JKT")
		return s.OnHand == event.Units(8) && s.SnapshotSeq >= 2
	})

	stopHub()
	// Offline: a void of the synced sale, and a new sale.
	acceptedAll(t, post(t, e.url, "", fresh(et.Void("void-1", "", ago(30*time.Second), "sale-1"))))
	acceptedAll(t, post(t, e.url, "", fresh(et.Sale("sale-2", "", ago(10*time.Second), et.L("JKT", 1)))))
	if s := get[LocalStock](t, e.url+"/v1/stock/JKT"); s.OnHand != event.Units(9) {
		t.Errorf("JKT offline after voiding a synced sale and selling one: %s, want 8 + 2 − 1 = 9", s.OnHand)
	}
	waitFor(t, "the edge to report the hub unreachable with a backlog of 2", func() bool {
		h := get[Health](t, e.url+"/v1/health")
		return !h.HubReachable && h.Backlog == 2 && h.OldestUnsyncedAgeSeconds > 0
	})
}

// A snapshot answered while a backlog larger than a batch waits (the
// request went out before an outage and came back after it) is not
// applied: rebuilding the view would decode the whole backlog in the
// middle of the drain. Once the backlog fits a batch it is.
func TestEdgeSnapshotWaitsForTheBacklogToDrain(t *testing.T) {
	t.Parallel()
	hubSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/edge/snapshot" {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(inventory.Snapshot{Location: "s1", AsOfSeq: 42,
			Positions: []inventory.SnapshotPosition{{SKU: "JKT", Delta: event.Units(9)}}})
	}))
	t.Cleanup(hubSrv.Close)
	cfg := edgeConfig(hubSrv.URL, filepath.Join(t.TempDir(), "edge.db"))
	cfg.Uplink.Batch = 5
	e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	ctx := context.Background()
	commitN(t, e.out, "e", 8)
	if err := e.refreshSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, asOf := e.view.position(inventory.Key{}); asOf != 0 {
		t.Fatalf("snapshot applied with 8 events waiting (batch 5): view as of hub seq %d", asOf)
	}
	if err := e.out.markSynced(ctx, time.Now(), map[int64]int64{1: 1, 2: 2, 3: 3, 4: 4}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.refreshSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, asOf := e.view.position(inventory.Key{}); asOf != 42 {
		t.Fatalf("snapshot not applied with 4 events waiting: view as of hub seq %d, want 42", asOf)
	}
}
