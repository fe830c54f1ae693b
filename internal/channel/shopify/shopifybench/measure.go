// Package shopifybench measures the Shopify channel destination against
// the simulated GraphQL Admin API (internal/sim/shopifyadmin) under a
// backlog: how much of the shop's restore rate it uses, how many requests
// Shopify throttles, and how long a sale at a till takes to reach
// Shopify's available quantity. It is for benchmarks (the oversell bench)
// and tests; it makes no timing assertions itself.
package shopifybench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/shopify"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
	"github.com/tillsync/tillsync/internal/store"
)

// Config shapes a measurement. Zero values take the defaults, which model
// a Standard shop (100 points/s, 2,000-point bucket) that tillsync knows
// 200 SKUs of, when 1,000 SKUs it has never pushed arrive at once (a new
// store, or a restart: each needs a read of about 3 points before its
// first write) while the tills sell 20 items a second for 20 seconds.
type Config struct {
	// Dir holds the SQLite database (required; e.g. t.TempDir()).
	Dir string
	// Plan is the shop's plan (default standard); RestoreRate and
	// BucketSize override it.
	Plan        shopifyadmin.Plan
	RestoreRate float64
	BucketSize  float64
	// KnownSKUs are pushed before the measurement (tillsync knows what
	// Shopify holds); sales happen on them.
	KnownSKUs int
	// BacklogSKUs arrive in one receipt when the measurement starts, new
	// to the destination (negative: none).
	BacklogSKUs int
	// BacklogChanges is how many known SKUs one adjustment changes when the
	// measurement starts: writes, cheap with large batches.
	BacklogChanges int
	// SaleRate is sales per second for Duration.
	SaleRate float64
	Duration time.Duration
	// Latency is the simulated round trip to Shopify (default 50 ms).
	Latency time.Duration
	// BatchSize and Mode configure the destination (defaults 250, cas).
	BatchSize int
	Mode      shopify.Mode
	// Seed makes the choice of SKUs repeatable.
	Seed uint64
	Log  *slog.Logger
}

// Report is what a measurement found.
type Report struct {
	Plan        string  `json:"plan"`
	RestoreRate float64 `json:"restore_rate"`
	BucketSize  float64 `json:"bucket_size"`
	// Requests and Throttled are GraphQL requests the shop received and
	// refused as THROTTLED; ThrottledShare is their ratio.
	Requests       int64   `json:"requests"`
	Throttled      int64   `json:"throttled"`
	ThrottledShare float64 `json:"throttled_share"`
	// Points is cost points spent over the whole run.
	Points float64 `json:"points"`
	// Backlog is how long the backlog took to reach Shopify, from its
	// commit. Utilisation is the share of the restore rate spent between
	// the backlog's first and last charges, net of what the bucket held
	// when it began: (points spent − bucket drawn down) / (restore rate ×
	// time).
	// It means something only when Saturated: the backlog needed more
	// points than the bucket held, so the governor had to pace it.
	Backlog     time.Duration `json:"backlog"`
	Utilisation float64       `json:"utilisation"`
	Saturated   bool          `json:"saturated"`
	// Sales were made at the tills; Delivered reached Shopify (their
	// value, or a later one that includes them) before the end.
	Sales     int `json:"sales"`
	Delivered int `json:"delivered"`
	// Sale-to-Shopify latency, from the sale's arrival at the hub to the
	// shop holding a value that includes it.
	P50 time.Duration `json:"p50"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
	// Stale is compare-and-set writes Shopify refused (there is no other
	// writer here, so 0 is expected).
	Stale int64 `json:"stale"`
}

func (r Report) String() string {
	util := "within the bucket: utilisation n/a"
	if r.Saturated {
		util = fmt.Sprintf("at %.1f%% of the restore rate", 100*r.Utilisation)
	}
	return fmt.Sprintf("%s plan (%.0f points/s, bucket %.0f): %d requests, %d throttled (%.2f%%), %.0f points; "+
		"backlog drained in %s %s; %d/%d sales reached Shopify, p50 %s p95 %s p99 %s max %s",
		r.Plan, r.RestoreRate, r.BucketSize, r.Requests, r.Throttled, 100*r.ThrottledShare, r.Points,
		r.Backlog.Round(time.Millisecond), util, r.Delivered, r.Sales,
		r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond))
}

func (c *Config) defaults() error {
	if c.Dir == "" {
		return errors.New("shopifybench: Dir is required")
	}
	if c.Plan == "" {
		c.Plan = shopifyadmin.Standard
	}
	if c.KnownSKUs <= 0 {
		c.KnownSKUs = 200
	}
	if c.BacklogSKUs < 0 {
		c.BacklogSKUs = 0
	} else if c.BacklogSKUs == 0 {
		c.BacklogSKUs = 1000
	}
	if c.SaleRate <= 0 {
		c.SaleRate = 20
	}
	if c.Duration <= 0 {
		c.Duration = 20 * time.Second
	}
	if c.Latency == 0 {
		c.Latency = 50 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

const (
	token = "shpat_bench"
	stock = 100_000 // units of each known SKU
)

// pending is a sale waiting to show in Shopify: the key's value after it.
type pending struct {
	at   time.Time
	want int64
}

// Measure runs one measurement. It starts its own store, simulated shop
// and destination, and stops them before returning.
func Measure(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.defaults(); err != nil {
		return Report{}, err
	}
	sim, err := shopifyadmin.New(shopifyadmin.Config{Token: token, Plan: cfg.Plan, RestoreRate: cfg.RestoreRate,
		BucketSize: cfg.BucketSize, Latency: cfg.Latency})
	if err != nil {
		return Report{}, err
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(cfg.Dir, "shopifybench.db"))
	if err != nil {
		return Report{}, err
	}
	defer func() { _ = st.Close() }()

	// The shop: known SKUs already hold the ledger's value; backlog SKUs
	// hold what the ledger will give them, so first contact is a read.
	loc := sim.AddLocation()
	items := map[string]string{}
	itemSKU := map[string]string{}
	add := func(sku string, qty int64) {
		item := sim.AddVariant(sku, loc)
		sim.SetAvailable(item, loc, qty)
		items[sku], itemSKU[item] = item, sku
	}
	known := make([]string, cfg.KnownSKUs)
	for i := range known {
		known[i] = fmt.Sprintf("K-%05d", i)
		add(known[i], stock)
	}
	backlog := make([]string, cfg.BacklogSKUs)
	for i := range backlog {
		backlog[i] = fmt.Sprintf("B-%05d", i)
		add(backlog[i], 10)
	}

	var mu sync.Mutex
	waiting := map[string][]pending{}
	var latencies []time.Duration
	sim.OnChange(func(c shopifyadmin.Change) {
		if c.By == "other" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sku := itemSKU[c.Item]
		q := waiting[sku]
		n := 0
		for n < len(q) && q[n].want >= c.Quantity {
			latencies = append(latencies, c.At.Sub(q[n].at))
			n++
		}
		waiting[sku] = q[n:]
	})

	reg := prometheus.NewRegistry()
	notify := destination.NewNotifier()
	d, err := shopify.New(shopify.Config{
		Name: "bench", Shop: "tillsync-bench.myshopify.com", AccessToken: token, Endpoint: srv.URL,
		Channel: availability.Channel{Name: "web"}, Locations: map[string]string{"s1": loc}, Items: items,
		Plan: string(cfg.Plan), RestoreRate: sim.Bucket().RestoreRate, BucketSize: sim.Bucket().MaximumAvailable,
		BatchSize: cfg.BatchSize, Mode: cfg.Mode,
	}, shopify.Deps{Store: st, Notifier: notify, Client: srv.Client(), Metrics: destination.NewMetrics(reg),
		Shopify: shopify.NewMetrics(reg), Log: cfg.Log})
	if err != nil {
		return Report{}, err
	}
	appendEvents := func(evs ...*event.Event) (int64, error) {
		out, err := st.Append(ctx, evs, time.Now())
		if err != nil {
			return 0, err
		}
		notify.Broadcast()
		return out.MaxSeq, nil
	}
	cursor := func() int64 {
		c, _ := st.Cursor(ctx, "shopify:bench")
		return c
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	var runErr error
	go func() {
		defer close(stopped)
		runErr = d.Run(runCtx)
	}()
	defer func() {
		stop()
		<-stopped
	}()
	waitCursor := func(seq int64, deadline time.Time) error {
		for cursor() < seq {
			select {
			case <-stopped:
				return fmt.Errorf("shopifybench: the destination stopped: %w", runErr)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("shopifybench: the destination did not reach seq %d in time", seq)
			}
			if !sleep(ctx, 5*time.Millisecond) {
				return ctx.Err()
			}
		}
		return nil
	}

	// Warm up: tillsync learns what Shopify holds of the known SKUs.
	seq, err := appendLines(appendEvents, "warm", known, stock)
	if err != nil {
		return Report{}, err
	}
	if err := waitCursor(seq, time.Now().Add(10*time.Minute)); err != nil {
		return Report{}, err
	}

	// The measurement: the backlog lands, the tills sell. The backlog's
	// window opens with the first request it causes (reading the log is
	// not the governor's business) and closes when the cursor passes it.
	start := sim.Stats()
	t0 := time.Now()
	backlogSeq, err := appendLines(appendEvents, "backlog", backlog, 10)
	if err != nil {
		return Report{}, err
	}
	left := map[string]int64{}
	for _, s := range known {
		left[s] = stock
	}
	if n := min(cfg.BacklogChanges, len(known)); n > 0 {
		lines := make([]event.Line, n)
		for i, s := range known[:n] {
			lines[i] = et.L(s, -1)
			left[s]--
		}
		if backlogSeq, err = appendEvents(et.Adjust("backlog-adjust", "s1", et.Base, lines...)); err != nil {
			return Report{}, err
		}
	}
	type mark struct {
		at     time.Time
		stats  shopifyadmin.Stats
		bucket shopifyadmin.ThrottleStatus
	}
	// window is the backlog's first and last charge (each mark taken just
	// after a request was charged), and when the cursor passed it.
	window := make(chan [3]mark, 1)
	go func() {
		var open, last mark
		for runCtx.Err() == nil {
			if open.stats, open.bucket = sim.Snapshot(); open.stats.PointsUsed > start.PointsUsed {
				open.at = time.Now()
				break
			}
			sleep(runCtx, time.Millisecond)
		}
		last = open
		for cursor() < backlogSeq && runCtx.Err() == nil {
			var m mark
			if m.stats, m.bucket = sim.Snapshot(); m.stats.PointsUsed > last.stats.PointsUsed {
				m.at = time.Now()
				last = m
			}
			sleep(runCtx, time.Millisecond)
		}
		window <- [3]mark{open, last, {at: time.Now()}}
	}()

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5ca1ab1e)) //nolint:gosec // choice of SKUs, not security
	interval := time.Duration(float64(time.Second) / cfg.SaleRate)
	sales := 0
	var lastSeq int64
	salesFrom := time.Now()
	for next := salesFrom; time.Since(salesFrom) < cfg.Duration; next = next.Add(interval) {
		if !sleep(ctx, time.Until(next)) {
			return Report{}, ctx.Err()
		}
		sku := known[rng.IntN(len(known))]
		left[sku]--
		mu.Lock()
		waiting[sku] = append(waiting[sku], pending{at: time.Now(), want: left[sku]})
		mu.Unlock()
		sales++
		if lastSeq, err = appendEvents(et.Sale(fmt.Sprintf("sale-%d", sales), "s1", et.Base.Add(time.Duration(sales)*time.Second), et.L(sku, 1))); err != nil {
			return Report{}, err
		}
	}
	if err := waitCursor(max(lastSeq, backlogSeq), time.Now().Add(10*time.Minute)); err != nil {
		return Report{}, err
	}
	w := <-window
	after, bucket := sim.Snapshot()

	r := Report{
		Plan: string(cfg.Plan), RestoreRate: bucket.RestoreRate, BucketSize: bucket.MaximumAvailable,
		Requests: after.Requests - start.Requests, Throttled: after.Throttled - start.Throttled,
		Points: after.PointsUsed - start.PointsUsed, Backlog: w[2].at.Sub(t0), Sales: sales, Stale: after.StaleCompares,
	}
	if r.Requests > 0 {
		r.ThrottledShare = float64(r.Throttled) / float64(r.Requests)
	}
	if secs := w[1].at.Sub(w[0].at).Seconds(); secs > 0 {
		spent := w[1].stats.PointsUsed - w[0].stats.PointsUsed
		drawn := w[0].bucket.CurrentlyAvailable - w[1].bucket.CurrentlyAvailable
		r.Utilisation = (spent - drawn) / (bucket.RestoreRate * secs)
		r.Saturated = spent > w[0].bucket.CurrentlyAvailable
	}
	mu.Lock()
	lat := slices.Clone(latencies)
	mu.Unlock()
	slices.Sort(lat)
	r.Delivered = len(lat)
	if n := len(lat); n > 0 {
		r.P50, r.P95, r.P99, r.Max = lat[(n-1)*50/100], lat[(n-1)*95/100], lat[(n-1)*99/100], lat[n-1]
	}
	return r, nil
}

// appendLines receives qty of every SKU, a thousand lines per event.
func appendLines(appendEvents func(...*event.Event) (int64, error), prefix string, skus []string, qty int64) (int64, error) {
	var seq int64
	for i, chunk := 0, 1000; i < len(skus); i += chunk {
		var lines []event.Line
		for _, s := range skus[i:min(i+chunk, len(skus))] {
			lines = append(lines, et.L(s, qty))
		}
		var err error
		if seq, err = appendEvents(et.Receive(fmt.Sprintf("%s-%d", prefix, i), "s1", et.Base, lines...)); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
