package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/sim/link"
)

const (
	location   = "store-e2e"
	zone       = "Europe/Berlin"
	storeToken = "e2e-store-token"
)

// patience bounds every wait: far beyond what a healthy run needs (even on
// a machine busy with other work), so that only a stuck system runs into it.
const patience = slowdown * 2 * time.Minute

// stack is a hub and one store's edge in this process, the edge reaching the
// hub through a link proxy.
type stack struct {
	hub     *hub.Hub
	hubURL  string
	edge    *edge.Edge
	edgeURL string
	link    *link.Proxy
}

// setup starts a hub, a link proxy in front of it and an edge behind the
// proxy, with quick retries and snapshots; tune adjusts the edge's config.
// Everything stops when the test ends.
func setup(t *testing.T, tune func(*config.Edge)) *stack {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()

	hc := config.DefaultHub()
	hc.Listen = "127.0.0.1:0" // unused: the test serves on its own listener
	hc.Database = "sqlite:" + filepath.Join(dir, "hub.db")
	hc.Stores = []config.Store{{ID: location, Name: "E2E store", Zone: zone, TokenSHA256: intake.HashToken(storeToken)}}
	h, err := hub.New(ctx, hc, slog.New(slog.NewTextHandler(newLogSink(t, "hub"), nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{hub: h}
	s.hubURL = serve(t, "hub", h.Serve, h.Close)

	if s.link, err = link.New(strings.TrimPrefix(s.hubURL, "http://")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.link.Close() })

	ec := config.DefaultEdge()
	ec.Location, ec.Zone, ec.Listen = location, zone, "127.0.0.1:0"
	ec.Data = filepath.Join(dir, "edge.db")
	ec.Hub = config.EdgeHub{URL: "http://" + s.link.Addr(), Token: storeToken, InsecurePlaintext: true}
	ec.Uplink.BackoffMin, ec.Uplink.BackoffMax = 20*time.Millisecond, 500*time.Millisecond
	ec.Uplink.SnapshotInterval = 500 * time.Millisecond
	ec.Uplink.Timeout = 20 * time.Second
	if tune != nil {
		tune(&ec)
	}
	e, err := edge.New(ctx, ec, slog.New(slog.NewTextHandler(newLogSink(t, "edge"), nil)), edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.edge = e
	s.edgeURL = serve(t, "edge", e.Serve, e.Close)
	return s
}

// serve runs a component on a fresh local port until the test ends, then
// stops it gracefully and closes it.
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
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s stopped with %v", name, err)
			}
		case <-time.After(patience):
			t.Errorf("%s did not stop within %s", name, patience)
		}
		if err := closeFn(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	return "http://" + ln.Addr().String()
}

// testContext ends when the test does, or after patience×2.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*patience)
	t.Cleanup(cancel)
	return ctx
}

// edgeHealth reads the edge's GET /v1/health.
func edgeHealth(t *testing.T, edgeURL string) edge.Health {
	t.Helper()
	var h edge.Health
	if err := getJSON(context.Background(), edgeURL+"/v1/health", &h); err != nil {
		t.Fatalf("edge health: %v", err)
	}
	return h
}

// hubStore reads this store's entry of the hub's GET /v1/stores.
func hubStore(ctx context.Context, hubURL string) (hub.StoreStatus, error) {
	var body struct {
		Stores []hub.StoreStatus `json:"stores"`
	}
	if err := getJSON(ctx, hubURL+"/v1/stores", &body); err != nil {
		return hub.StoreStatus{}, err
	}
	for _, s := range body.Stores {
		if s.Location == location {
			return s, nil
		}
	}
	return hub.StoreStatus{}, fmt.Errorf("GET /v1/stores does not list %s: %+v", location, body.Stores)
}

// waitDrained waits until the edge reports an empty backlog and returns its
// health then.
func waitDrained(t *testing.T, edgeURL string) edge.Health {
	t.Helper()
	var h edge.Health
	waitFor(t, "the edge's backlog to drain", func() (bool, string) {
		h = edgeHealth(t, edgeURL)
		return h.Backlog == 0, fmt.Sprintf("%+v", h)
	})
	if h.Rejected != 0 {
		t.Errorf("the hub rejected %d of the edge's events: %+v", h.Rejected, h)
	}
	return h
}

// waitHubQuiet waits until the hub's GET /v1/stores shows the store with an
// empty backlog (the edge's idle heartbeat reports it) and checks the rest
// of the entry against the edge.
func waitHubQuiet(t *testing.T, hubURL string, eh edge.Health) {
	t.Helper()
	var st hub.StoreStatus
	waitFor(t, "the hub to show the store's backlog at 0", func() (bool, string) {
		var err error
		st, err = hubStore(context.Background(), hubURL)
		return err == nil && st.Backlog == 0, fmt.Sprintf("%+v %v", st, err)
	})
	if st.EdgeID != eh.EdgeID || !st.Online {
		t.Errorf("hub shows the store as %+v; want edge %s online", st, eh.EdgeID)
	}
}

// backlogWatch samples the backlog the hub's GET /v1/stores shows for the
// store, until Max, and keeps the largest it saw.
type backlogWatch struct {
	stop func()
	done chan struct{}
	mu   sync.Mutex
	max  int64
	n    int
}

func watchHubBacklog(t *testing.T, hubURL string) *backlogWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &backlogWatch{stop: cancel, done: make(chan struct{})}
	t.Cleanup(func() { _, _ = w.Max() })
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			if st, err := hubStore(ctx, hubURL); err == nil {
				w.mu.Lock()
				w.max, w.n = max(w.max, st.Backlog), w.n+1
				w.mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

// Max stops the watch and returns the largest backlog seen and how many
// samples it took.
func (w *backlogWatch) Max() (int64, int) {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.max, w.n
}

// waitHubEvents waits until the hub's log holds at least n events.
func waitHubEvents(t *testing.T, s *stack, n int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d events in the hub's log", n), func() (bool, string) {
		got, err := s.hub.Store().CountEvents(context.Background())
		return err == nil && got >= n, fmt.Sprintf("%d (%v)", got, err)
	})
}

// TestLinkCut cuts the store's link to the hub under load, keeps selling
// through the outage, restores it and checks that everything the edge
// acknowledged arrives once, in store order.
func TestLinkCut(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	ctx := testContext(t)
	regs := newRegisters(t, s.edgeURL, "cut")
	regs.Pace = time.Millisecond
	t.Cleanup(regs.Stop)
	regs.Start(ctx, 6)
	waitHubEvents(t, s, 300) // the link carries events

	s.link.Cut()
	watch := watchHubBacklog(t, s.hubURL)
	cutAt := regs.Acked()
	regs.waitAcked(t, cutAt+1000) // the store keeps selling offline
	waitFor(t, "the edge to see the hub unreachable, with a backlog", func() (bool, string) {
		h := edgeHealth(t, s.edgeURL)
		return !h.HubReachable && h.Backlog > 0, fmt.Sprintf("%+v", h)
	})
	eh := edgeHealth(t, s.edgeURL)
	if st, err := hubStore(ctx, s.hubURL); err != nil || st.EdgeID != eh.EdgeID {
		t.Errorf("during the outage the hub shows %+v (%v); want the store with edge %s", st, err, eh.EdgeID)
	}

	s.link.Restore()
	regs.waitAcked(t, regs.Acked()+300)
	regs.Stop()
	eh = waitDrained(t, s.edgeURL)
	maxBacklog, samples := watch.Max()
	acks := regs.Acks()
	verifyLog(t, s.hub.Store(), acks)
	if maxBacklog <= 0 {
		t.Errorf("the hub never showed a backlog for the store from the cut to the drain (%d samples)", samples)
	}
	waitHubQuiet(t, s.hubURL, eh)
	t.Logf("%d events, %d acknowledged during the outage; hub saw a backlog of up to %d; link %+v",
		len(acks), len(acks)-int(cutAt), maxBacklog, s.link.Stats())
}

// TestLinkFlap flaps the link — up and down every 150 ms — under load.
// Batches die mid-request in both directions: some reach the hub and lose
// only their answer, and come back as duplicates.
func TestLinkFlap(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	ctx := testContext(t)
	regs := newRegisters(t, s.edgeURL, "flap")
	regs.Pace = time.Millisecond
	t.Cleanup(regs.Stop)
	regs.Start(ctx, 6)
	waitHubEvents(t, s, 200)

	watch := watchHubBacklog(t, s.hubURL)
	flapCtx, stopFlap := context.WithCancel(ctx)
	flapped := make(chan int, 1)
	go func() { flapped <- s.link.Flap(flapCtx, 150*time.Millisecond) }()
	start := regs.Acked()
	waitFor(t, "8 cuts and 1500 events through the flapping link", func() (bool, string) {
		st := s.link.Stats()
		return st.Cuts >= 8 && regs.Acked() >= start+1500, fmt.Sprintf("%d cuts, %d events", st.Cuts, regs.Acked()-start)
	})
	stopFlap()
	cuts := <-flapped
	regs.Stop()
	eh := waitDrained(t, s.edgeURL)
	maxBacklog, _ := watch.Max()
	acks := regs.Acks()
	verifyLog(t, s.hub.Store(), acks)
	st := s.link.Stats()
	if st.Dropped+st.Refused == 0 {
		t.Errorf("%d cuts broke no connection: %+v", cuts, st)
	}
	if maxBacklog <= 0 {
		t.Error("the hub never showed a backlog for the store while the link flapped")
	}
	waitHubQuiet(t, s.hubURL, eh)
	t.Logf("%d events, %d cuts; link %+v", len(acks), cuts, st)
}

// TestLongOutage buffers tens of thousands of events at the edge while the
// link is down, checks the store's offline stock view against them, then
// restores the link and lets the backlog drain while new sales arrive.
func TestLongOutage(t *testing.T) {
	t.Parallel()
	const registers = 10
	n := 30_000
	if testing.Short() || raceEnabled {
		n = 6_000
	}
	s := setup(t, func(c *config.Edge) {
		c.Uplink.Batch = 1000
		// Each refresh during the drain rebuilds the view from every
		// unsynced event: keep them few.
		c.Uplink.SnapshotInterval = 2 * time.Second
	})
	ctx := testContext(t)
	mark := clock(t)
	waitFor(t, "the edge's first report to the hub", func() (bool, string) {
		st, err := hubStore(ctx, s.hubURL)
		return err == nil && st.EdgeID != "", fmt.Sprintf("%+v %v", st, err)
	})

	s.link.Cut()
	regs := newRegisters(t, s.edgeURL, "outage")
	regs.PerRequest, regs.Limit = 50, n/registers
	t.Cleanup(regs.Stop)
	regs.Start(ctx, registers)
	regs.Wait()
	mark("buffered")
	acks := regs.Acks()
	if len(acks) != n {
		t.Fatalf("%d events acknowledged, want %d", len(acks), n)
	}
	waitFor(t, "the edge to see the hub unreachable", func() (bool, string) {
		h := edgeHealth(t, s.edgeURL)
		return !h.HubReachable, fmt.Sprintf("%+v", h)
	})
	eh := edgeHealth(t, s.edgeURL)
	if eh.Backlog != int64(n) || eh.OldestUnsyncedAt.IsZero() {
		t.Errorf("edge health during the outage: %+v; want a backlog of %d", eh, n)
	}
	if got, _ := s.hub.Store().CountEvents(ctx); got != 0 {
		t.Errorf("the hub's log holds %d events while the link is down", got)
	}
	if st, err := hubStore(ctx, s.hubURL); err != nil || st.EdgeID != eh.EdgeID {
		t.Errorf("during the outage the hub shows %+v (%v); want the store", st, err)
	}
	// The store's own stock view is its sales so far, though the hub has
	// none of them.
	checkEdgeStock(t, s.edgeURL, regs.Ledger(t))

	mark("checked the outage")
	watch := watchHubBacklog(t, s.hubURL)
	s.link.Restore()
	waitHubEvents(t, s, 1)
	live := newRegisters(t, s.edgeURL, "live")
	live.PerRequest, live.Limit = 1, 25
	t.Cleanup(live.Stop)
	live.Start(ctx, 2)
	live.Wait()
	mark("live sales sent")
	eh = waitDrained(t, s.edgeURL)
	mark("drained")
	maxBacklog, samples := watch.Max()
	all := regs.Acks()
	maps.Copy(all, live.Acks())
	verifyLog(t, s.hub.Store(), all)
	if maxBacklog <= 0 {
		t.Errorf("the hub never showed a backlog for the store during the drain (%d samples)", samples)
	}

	// Draining keeps room for the newest events: the last sale of the
	// outage reached the hub before the middle of the backlog did.
	byStoreSeq := map[int64]string{}
	for id, seq := range acks {
		byStoreSeq[seq] = id
	}
	newest, middle := byStoreSeq[int64(n)], byStoreSeq[int64(n/2)]
	stored, err := s.hub.Store().EventsByID(ctx, []string{newest, middle})
	if err != nil || stored[newest] == nil || stored[middle] == nil {
		t.Fatalf("look up %s and %s in the hub: %v", newest, middle, err)
	}
	if stored[newest].Seq > stored[middle].Seq {
		t.Errorf("the newest event (store_seq %d) got hub seq %d, after the backlog's middle (store_seq %d, hub seq %d): new sales waited behind the backlog",
			n, stored[newest].Seq, n/2, stored[middle].Seq)
	}
	mark("verified")
	waitHubQuiet(t, s.hubURL, eh)
	mark("hub quiet")

	// Once the hub has everything, the store's view converges on its stock.
	waitFor(t, "the edge's stock view to match the hub's", func() (bool, string) {
		diff := stockDiff(t, s.edgeURL, s.hubURL)
		return diff == "", diff
	})
	t.Logf("%d events buffered and drained (+%d live, the slowest answered in %s); hub saw a backlog of up to %d",
		n, len(all)-n, live.Slowest(), maxBacklog)
}

// checkEdgeStock compares the edge's GET /v1/stock/{sku} with a ledger.
func checkEdgeStock(t *testing.T, edgeURL string, want *inventory.Ledger) {
	t.Helper()
	for _, sku := range skus {
		var got edge.LocalStock
		if err := getJSON(context.Background(), edgeURL+"/v1/stock/"+sku, &got); err != nil {
			t.Fatal(err)
		}
		w := want.Position(inventory.Key{SKU: sku, Location: location})
		if got.OnHand != w.OnHand() || got.Available != w.Available() {
			t.Errorf("edge shows %s on hand %s, available %s; its events make %s, %s", sku, got.OnHand, got.Available, w.OnHand(), w.Available())
		}
	}
}

// stockDiff describes how the edge's stock view differs from the hub's
// stock at the store ("" when it does not).
func stockDiff(t *testing.T, edgeURL, hubURL string) string {
	t.Helper()
	var diffs []string
	for _, sku := range skus {
		var e edge.LocalStock
		var h struct {
			Locations []hub.LocationStock `json:"locations"`
		}
		if err := getJSON(context.Background(), edgeURL+"/v1/stock/"+sku, &e); err != nil {
			t.Fatal(err)
		}
		if err := getJSON(context.Background(), hubURL+"/v1/stock/"+sku, &h); err != nil {
			t.Fatal(err)
		}
		var hs hub.LocationStock
		for _, l := range h.Locations {
			if l.Location == location {
				hs = l
			}
		}
		if e.OnHand != hs.OnHand || e.Reserved != hs.Reserved {
			diffs = append(diffs, fmt.Sprintf("%s: edge %s/%s, hub %s/%s on hand/reserved", sku, e.OnHand, e.Reserved, hs.OnHand, hs.Reserved))
		}
	}
	return strings.Join(diffs, "; ")
}
