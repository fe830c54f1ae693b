// Package demo runs the whole tillsync story in one process: a hub on an
// embedded database, several store edges, POS registers selling, a web shop
// competing for the last units, a signed-webhook receiver, and one store
// whose link to the hub is cut for a while and restored. It then proves
// what matters: every acknowledged event is in the hub exactly once, the
// ledger equals a recomputation from the log, and availability reached the
// channels within milliseconds of the sale.
//
// It is wiring and measurement; the behaviour lives in hub, edge and sim.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/sim/link"
	"github.com/tillsync/tillsync/internal/sim/pos"
	"github.com/tillsync/tillsync/internal/sim/shop"
)

// Options configure a demo run.
type Options struct {
	Duration time.Duration
	// Stores is how many stores (edges) run; the second one has the outage.
	Stores int
	// Rate is POS events per second per store.
	Rate float64
	// OrderRate is web orders per second.
	OrderRate float64
	// SKUs is the catalog size.
	SKUs int
	// Progress receives a line every couple of seconds (nil: none).
	Progress io.Writer
	// Dir keeps the databases and the log there instead of a temp dir.
	Dir string
	// Seed makes the traffic repeatable.
	Seed uint64
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	if o.Stores <= 0 {
		o.Stores = 3
	}
	if o.Rate <= 0 {
		o.Rate = 60
	}
	if o.OrderRate <= 0 {
		o.OrderRate = 4
	}
	if o.SKUs <= 0 {
		o.SKUs = 240
	}
	if o.Seed == 0 {
		o.Seed = 2026
	}
}

// Summary is what the demo measured. The JSON field names are a contract.
type Summary struct {
	DurationS            float64 `json:"duration_s"`
	Stores               int     `json:"stores"`
	EventsAccepted       int64   `json:"events_accepted"`
	EventsInHub          int64   `json:"events_in_hub"`
	EventsLost           int64   `json:"events_lost"`
	Duplicates           int64   `json:"duplicates"`
	RetriesDeduplicated  int64   `json:"retries_deduplicated"`
	EventsRejected       int64   `json:"events_rejected"`
	Oversells            int64   `json:"oversells"`
	SaleToAvailP50MS     float64 `json:"sale_to_availability_p50_ms"`
	SaleToAvailP99MS     float64 `json:"sale_to_availability_p99_ms"`
	SaleToAvailSamples   int     `json:"sale_to_availability_samples"`
	SalesDuringOutage    int     `json:"sales_during_outage"`
	OutageStore          string  `json:"outage_store"`
	OutageS              float64 `json:"outage_s"`
	OutageBacklogMax     int64   `json:"outage_backlog_max"`
	BurstDrainEventsPerS float64 `json:"burst_drain_events_per_s"`
	DrainS               float64 `json:"drain_s"`
	LedgerDifferences    int     `json:"ledger_differences"`
	WebhookDeliveries    int64   `json:"webhook_deliveries"`
	WebhookBadSignatures int64   `json:"webhook_bad_signatures"`
	OrdersPlaced         int64   `json:"orders_placed"`
	// The simulated NetSuite: records posted, duplicates by the
	// simulator's own count, dead letters, refusals for load, and the
	// faults it injected on the way.
	ERPPosted      int64 `json:"erp_posted"`
	ERPDuplicates  int64 `json:"erp_duplicates"`
	ERPDeadLetters int64 `json:"erp_dead_letters"`
	ERP429s        int64 `json:"erp_429s"`
	ERPFaults      int64 `json:"erp_faults_injected"`
	// Card data: sales the tills sent with card numbers, tracks or CVVs in
	// them; what redaction removed at the first hop; and what a scan of
	// everything stored, logged or sent found afterwards (must be 0).
	SalesWithCardData int64 `json:"sales_with_card_data"`
	PANsSeenAtIntake  int64 `json:"pans_seen_at_intake"`
	PANsLeaked        int64 `json:"pans_leaked"`
	// Leaks locates each value found afterwards, masked.
	Leaks           []string `json:"leaks,omitempty"`
	ERPPeakInFlight int64    `json:"erp_peak_in_flight"`
}

// OK reports whether the run kept its promises.
func (s *Summary) OK() bool {
	return s.EventsLost == 0 && s.Duplicates == 0 && s.LedgerDifferences == 0 && s.WebhookBadSignatures == 0 &&
		s.ERPDuplicates == 0 && s.PANsLeaked == 0
}

var storeNames = []string{"store-berlin", "store-hamburg", "store-munich", "store-cologne", "store-leipzig", "store-dresden"}

type node struct {
	id    string
	token string
	proxy *link.Proxy
	edge  *edge.Edge
	url   string
}

// tracker records acknowledgements and when availability showed each sale.
type tracker struct {
	mu       sync.Mutex
	acked    map[string]bool // first-hop acknowledged (accepted or duplicate)
	dupes    int64
	rejected int64
	sales    map[string]*saleTiming
	orders   int64
	// offline reports whether a sale acknowledged at a time by a store was
	// cut off from the hub before it could be synced: its wait is the
	// outage, not the pipeline, and is reported as such.
	offline func(store string, ackAt time.Time) bool
}

type saleTiming struct {
	store       string
	ackAt, seen time.Time
}

func newTracker() *tracker {
	return &tracker{acked: map[string]bool{}, sales: map[string]*saleTiming{}}
}

func (t *tracker) sale(id string) *saleTiming {
	s := t.sales[id]
	if s == nil {
		s = &saleTiming{}
		t.sales[id] = s
	}
	return s
}

func (t *tracker) ack(e *event.Event, st intake.Status, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch st {
	case intake.StatusRejected:
		t.rejected++
		return
	case intake.StatusDuplicate:
		t.dupes++
	}
	t.acked[e.ID] = true
	if e.Type == event.TypeOnlineOrder && st == intake.StatusAccepted {
		t.orders++
	}
	if e.Type == event.TypeSale && st == intake.StatusAccepted {
		s := t.sale(e.ID)
		s.store, s.ackAt = e.Location, at
	}
}

// observed is called for every availability message; the SSE message may
// be read before the till has read its own acknowledgement.
func (t *tracker) observed(u availability.Update, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range u.Events {
		if s := t.sale(id); s.seen.IsZero() {
			s.seen = at
		}
	}
}

// latencies returns sale → availability times of sales made while their
// store was connected, and how many sales waited out the outage.
func (t *tracker) latencies() (online []time.Duration, offline int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, s := range t.sales {
		if s.ackAt.IsZero() || s.seen.IsZero() {
			if s.ackAt.IsZero() && !t.acked[id] {
				delete(t.sales, id) // not a sale of ours (an order, an opening delivery)
			}
			continue
		}
		if t.offline != nil && t.offline(s.store, s.ackAt) {
			offline++
			continue
		}
		online = append(online, max(s.seen.Sub(s.ackAt), 0))
	}
	return online, offline
}

func (t *tracker) percentile(p float64) (float64, int) {
	ls, _ := t.latencies()
	return percentile(ls, p), len(ls)
}

func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s)-1) + 0.5)
	return float64(s[i].Microseconds()) / 1000
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "tst_" + hex.EncodeToString(b[:])
}

// Run runs the demo and returns its summary.
func Run(ctx context.Context, opt Options) (*Summary, error) {
	opt.defaults()
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	dir := opt.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "tillsync-demo-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	logFile, err := os.Create(filepath.Join(dir, "demo.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the log is for reading after a failed run; a close error changes nothing
	log := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))

	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopAll()

	// The shop's webhook receiver checks every signature.
	secret := []byte(randomToken())
	var deliveries, badSigs atomic.Int64
	// Everything that reaches the ERP and the shop is kept, to be scanned
	// for card data at the end.
	var wire capture
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wire.add(body)
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			badSigs.Add(1)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		deliveries.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	// A simulated NetSuite account: a concurrency limit of 5 shared with
	// "other integrations" (tillsync is allowed 6, so the governor has to
	// learn the real limit from 429s), some latency, and faults — 5xx,
	// stalls, resets, and records committed whose answer is lost.
	creds := nssim.DefaultCredentials()
	ns := nssim.New(erpsim.Options{Latency: 15 * time.Millisecond, Jitter: 10 * time.Millisecond, Concurrency: 5,
		FaultRate: 0.03, DropRate: 0.02, Stall: 1500 * time.Millisecond, Seed: opt.Seed}, creds)
	nsServer := httptest.NewServer(wire.tap(ns))
	defer nsServer.Close()

	// Hub.
	n := min(opt.Stores, len(storeNames))
	nodes := make([]*node, n)
	hcfg := config.DefaultHub()
	hcfg.Database = "sqlite:" + filepath.Join(dir, "hub.db")
	shopToken := randomToken()
	var locs []string
	for i := range nodes {
		nodes[i] = &node{id: storeNames[i], token: randomToken()}
		locs = append(locs, nodes[i].id)
		hcfg.Stores = append(hcfg.Stores, config.Store{ID: nodes[i].id, Name: nodes[i].id, Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(nodes[i].token)})
	}
	hcfg.Sources = []config.Source{{ID: "webshop", TokenSHA256: intake.HashToken(shopToken), Locations: locs}}
	hcfg.Channels = []config.Channel{{Name: "web", SafetyBuffer: event.Units(1)}, {Name: "store-pickup"}}
	hcfg.AllowPrivateDestinations = true // the receiver and the ERP are simulators on this machine
	hcfg.Webhooks = []config.Webhook{{Name: "shop-availability", URL: receiver.URL, Secret: string(secret), Channels: []string{"web"}}}
	hcfg.ERPAccounts = []config.ERPAccount{{Name: "netsuite", Kind: "netsuite", Concurrency: 6, Settings: map[string]string{
		"account_id": creds.AccountID, "base_url": nsServer.URL, "consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret, "subsidiary": "1", "customer": "1", "adjustment_account": "1",
	}}}
	hcfg.Destinations = []config.ERPDestination{{Name: "netsuite-detail", Account: "netsuite", Mode: "detail", Timeout: time.Second,
		Retry: config.Retry{Attempts: 10, BackoffMin: 50 * time.Millisecond, BackoffMax: time.Second}}}
	h, err := hub.New(runCtx, hcfg, log.With("process", "hub"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = h.Close() }() // the demo's database is temporary
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hubURL := "http://" + hln.Addr().String()
	wg.Go(func() { _ = h.Serve(runCtx, hln) })

	// Edges, each behind its own link to the hub.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, nd := range nodes {
		if nd.proxy, err = link.New(hln.Addr().String()); err != nil {
			return nil, err
		}
		defer func() { _ = nd.proxy.Close() }()
		ecfg := config.DefaultEdge()
		ecfg.Location, ecfg.Zone = nd.id, "Europe/Berlin"
		ecfg.Data = filepath.Join(dir, nd.id+".db")
		ecfg.Hub = config.EdgeHub{URL: "http://" + nd.proxy.Addr(), Token: nd.token, InsecurePlaintext: true} // all on this machine
		ecfg.Uplink.BackoffMin, ecfg.Uplink.BackoffMax = 50*time.Millisecond, 250*time.Millisecond
		ecfg.Uplink.SnapshotInterval = 2 * time.Second
		ecfg.Uplink.Timeout = 5 * time.Second
		if nd.edge, err = edge.New(runCtx, ecfg, log.With("process", "edge"), edge.Options{}); err != nil {
			return nil, err
		}
		defer func() { _ = nd.edge.Close() }()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		nd.url = "http://" + ln.Addr().String()
		e := nd.edge
		wg.Go(func() { _ = e.Serve(runCtx, ln) })
	}

	tr := newTracker()
	// Follow availability as a channel would, to time sale → availability.
	wg.Go(func() {
		for runCtx.Err() == nil {
			_ = shop.Stream(runCtx, client, hubURL+"/v1/availability/stream", "", func(_ string, u availability.Update) {
				tr.observed(u, time.Now())
			})
		}
	})

	catalog := pos.NewCatalog(opt.SKUs, newRand(opt.Seed))
	fmt.Fprintf(progress, "tillsync demo: hub %s, %d stores, %d SKUs, %.0f POS events/s per store, %.0f web orders/s, %s\n",
		hubURL, n, len(catalog.Items), opt.Rate, opt.OrderRate, opt.Duration)

	// Opening stock: a delivery to every store.
	for i, nd := range nodes {
		r := pos.NewRegister(nd.id, "backoffice", "Europe/Berlin", nd.url, client, catalog, 1, opt.Seed+uint64(i)*101)
		r.OnAck = func(a pos.Ack) { tr.ack(a.Event, a.Status, a.At) }
		rng := newRand(opt.Seed + uint64(i))
		rc := &event.Receipt{Supplier: "central-dc", PurchaseOrder: "OPENING-" + nd.id}
		for _, it := range catalog.Items {
			rc.Lines = append(rc.Lines, event.Line{SKU: it.SKU, Quantity: catalog.InitialStock(it, rng)})
		}
		opening := &event.Event{ID: "opening-" + nd.id, Type: event.TypeReceipt, Location: nd.id, Source: "pos",
			OccurredAt: time.Now().Add(-time.Hour).UTC(), Zone: "Europe/Berlin", Body: rc}
		r.Post(runCtx, []*event.Event{opening})
	}

	// Traffic.
	trafficCtx, stopTraffic := context.WithTimeout(runCtx, opt.Duration)
	defer stopTraffic()
	var traffic sync.WaitGroup
	transfers := make([]chan *event.Event, n)
	for i := range transfers {
		transfers[i] = make(chan *event.Event, 64)
	}
	const perStore = 3
	var registers []*pos.Register
	for i, nd := range nodes {
		var peers []string
		for _, o := range nodes {
			if o != nd {
				peers = append(peers, o.id)
			}
		}
		for k := 0; k < perStore; k++ {
			r := pos.NewRegister(nd.id, fmt.Sprintf("r%d", k+1), "Europe/Berlin", nd.url, client, catalog, opt.Rate/perStore, opt.Seed*1000+uint64(i*10+k))
			r.OnAck = func(a pos.Ack) { tr.ack(a.Event, a.Status, a.At) }
			r.Peers = peers
			r.LeakRate = 0.03 // card data typed where it must not be: redaction proves itself
			registers = append(registers, r)
			r.Transfers = transfersTo(nodes, transfers, nd.id)
			traffic.Go(func() { r.Run(trafficCtx) })
		}
		// The receiving side books transfers in a little later.
		recv := pos.NewRegister(nd.id, "goods-in", "Europe/Berlin", nd.url, client, catalog, 1, opt.Seed+uint64(i)*7)
		recv.OnAck = func(a pos.Ack) { tr.ack(a.Event, a.Status, a.At) }
		in := transfers[i]
		traffic.Go(func() {
			for {
				select {
				case <-trafficCtx.Done():
					return
				case e := <-in:
					time.Sleep(500 * time.Millisecond)
					e.OccurredAt = time.Now().UTC()
					recv.Post(trafficCtx, []*event.Event{e})
				}
			}
		})
	}
	webshop := shop.New(hubURL, shopToken, "web", "Europe/Berlin", client, opt.OrderRate, opt.Seed)
	webshop.OnAck = tr.ack
	traffic.Go(func() { webshop.Run(trafficCtx) })

	// The outage: the second store's link to the hub is cut for the middle
	// third of the run, then restored.
	out := &outage{}
	tr.offline = out.affects
	if n >= 2 {
		victim := nodes[1]
		out.store = victim.id
		traffic.Go(func() { out.run(trafficCtx, victim, opt.Duration, progress) })
	}

	start := time.Now()
	ticker := time.NewTicker(2 * time.Second)
	func() {
		defer ticker.Stop()
		for {
			select {
			case <-trafficCtx.Done():
				return
			case <-ticker.C:
				head, _ := h.Store().Head(runCtx)
				tr.mu.Lock()
				acked := len(tr.acked)
				tr.mu.Unlock()
				p99, samples := tr.percentile(0.99)
				fmt.Fprintf(progress, "  %5.1fs  acked %6d  in hub %6d  %s  sale→availability p99 %5.1f ms (%d sales)\n",
					time.Since(start).Seconds(), acked, head, out.status(), p99, samples)
			}
		}
	}()
	traffic.Wait()
	fmt.Fprintf(progress, "traffic stopped after %s; waiting for every store to sync…\n", time.Since(start).Round(100*time.Millisecond))

	// Settle: every edge drained, the webhook caught up.
	deadline := time.Now().Add(60 * time.Second)
	for _, nd := range nodes {
		for {
			st, err := nd.edge.Status(runCtx)
			if err == nil && st.Backlog == 0 {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("demo: %s did not drain its backlog (%d left)", nd.id, st.Backlog)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The ERP catches up: its destination's cursor reaches the log's head.
	for {
		head, err := h.Store().Head(runCtx)
		if err != nil {
			return nil, err
		}
		cur, err := h.Store().Cursor(runCtx, "netsuite-detail")
		if err != nil {
			return nil, err
		}
		if cur >= head {
			break
		}
		if time.Now().After(deadline.Add(60 * time.Second)) {
			return nil, fmt.Errorf("demo: the ERP destination did not catch up (cursor %d of %d)", cur, head)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let the last SSE and webhook deliveries land

	s, err := summarize(runCtx, h, tr, out, n, time.Since(start), &deliveries, &badSigs)
	if err != nil {
		return nil, err
	}
	// The leak test: card data the tills sent was removed at the first
	// hop, and none of it is anywhere — the hub's and edges' databases,
	// the log, what the ERP and the shop received.
	for _, r := range registers {
		s.SalesWithCardData += int64(r.Leaked)
	}
	seen := h.Redacted().PCI()
	for _, nd := range nodes {
		seen += nd.edge.Redacted().PCI()
	}
	s.PANsSeenAtIntake = int64(seen)
	if s.Leaks, err = scanForCardData(runCtx, dir, wire.bytes()); err != nil {
		return nil, err
	}
	s.PANsLeaked = int64(len(s.Leaks))
	st := ns.Sim().Stats()
	docs, _, err := h.Store().DeliveryCounts(runCtx, "netsuite-detail")
	if err != nil {
		return nil, err
	}
	s.ERPPosted, s.ERPDuplicates, s.ERPPeakInFlight = docs, st.Duplicates, st.PeakConcurrency
	s.ERP429s = st.Rejections["concurrency"] + st.Rejections["rate"]
	s.ERPFaults = st.Rejections["fault_5xx"] + st.Rejections["fault_timeout"] + st.Rejections["fault_reset"] + st.Dropped
	if s.ERPDeadLetters, err = h.Store().CountDeadLetters(runCtx, "netsuite-detail", "parked"); err != nil {
		return nil, err
	}
	return s, nil
}

func transfersTo(nodes []*node, chans []chan *event.Event, from string) chan<- *event.Event {
	// Registers send TransferIn events for any peer; route them through one
	// fan-out channel per sending store.
	fan := make(chan *event.Event, 64)
	go func() {
		for e := range fan {
			for i, nd := range nodes {
				if nd.id == e.Location && nd.id != from {
					select {
					case chans[i] <- e:
					default:
					}
				}
			}
		}
	}()
	return fan
}

func summarize(ctx context.Context, h *hub.Hub, tr *tracker, out *outage, stores int, took time.Duration, deliveries, badSigs *atomic.Int64) (*Summary, error) {
	st := h.Store()
	inHub, err := st.CountEvents(ctx)
	if err != nil {
		return nil, err
	}
	lat, offline := tr.latencies()
	tr.mu.Lock()
	ids := make([]string, 0, len(tr.acked))
	for id := range tr.acked {
		ids = append(ids, id)
	}
	s := &Summary{
		DurationS: took.Seconds(), Stores: stores, EventsAccepted: int64(len(tr.acked)), EventsInHub: inHub,
		RetriesDeduplicated: tr.dupes, EventsRejected: tr.rejected, OrdersPlaced: tr.orders,
		SaleToAvailSamples: len(lat), SalesDuringOutage: offline,
		SaleToAvailP50MS: percentile(lat, 0.50), SaleToAvailP99MS: percentile(lat, 0.99),
	}
	tr.mu.Unlock()
	found, err := st.EventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	s.EventsLost = int64(len(ids) - len(found))
	if s.Duplicates, err = st.CountDuplicates(ctx); err != nil {
		return nil, err
	}
	if s.Oversells, err = st.CountOversells(ctx); err != nil {
		return nil, err
	}
	diffs, err := st.CheckLedger(ctx)
	if err != nil {
		return nil, err
	}
	s.LedgerDifferences = len(diffs)
	s.OutageStore, s.OutageS, s.OutageBacklogMax, s.BurstDrainEventsPerS, s.DrainS = out.results()
	s.WebhookDeliveries, s.WebhookBadSignatures = deliveries.Load(), badSigs.Load()
	return s, nil
}
