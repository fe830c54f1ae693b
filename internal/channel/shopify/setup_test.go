package shopify_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/shopify"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

const token = "shpat_tillsync_test"

// bundle is a store, a simulated shop and what a destination needs.
type bundle struct {
	st     *store.Store
	notify *destination.Notifier
	reg    *prometheus.Registry
	dm     *destination.Metrics
	sm     *shopify.Metrics
	sim    *shopifyadmin.Server
	srv    *httptest.Server
	loc    string            // Shopify location of tillsync location s1
	items  map[string]string // SKU → inventory item
	logs   *syncBuffer

	mu      sync.Mutex
	changes []shopifyadmin.Change
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setup(t *testing.T, simCfg shopifyadmin.Config) *bundle {
	t.Helper()
	simCfg.Token = token
	sim, err := shopifyadmin.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	b := &bundle{
		st: storetest.Open(t, storetest.Engine{Name: "sqlite", DSN: storetest.SQLiteDSN}), notify: destination.NewNotifier(),
		reg: reg, dm: destination.NewMetrics(reg), sm: shopify.NewMetrics(reg), sim: sim, srv: srv,
		loc: sim.AddLocation(), items: map[string]string{}, logs: &syncBuffer{},
	}
	sim.OnChange(func(c shopifyadmin.Change) {
		b.mu.Lock()
		b.changes = append(b.changes, c)
		b.mu.Unlock()
	})
	return b
}

// variant creates SKUs in the shop, stocked at s1 with qty available.
func (b *bundle) variant(qty int64, skus ...string) {
	for _, sku := range skus {
		item := b.sim.AddVariant(sku, b.loc)
		b.sim.SetAvailable(item, b.loc, qty)
		b.items[sku] = item
	}
}

func (b *bundle) available(t *testing.T, sku string) int64 {
	t.Helper()
	q, ok := b.sim.Available(b.items[sku], b.loc)
	if !ok {
		t.Fatalf("%s is not stocked at s1", sku)
	}
	return q
}

// sets returns the quantities tillsync wrote for a SKU, in order.
func (b *bundle) sets(sku string) []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int64
	for _, c := range b.changes {
		if c.Item == b.items[sku] && c.By != "other" {
			out = append(out, c.Quantity)
		}
	}
	return out
}

// config returns a destination config for the simulated shop.
func (b *bundle) config() shopify.Config {
	return shopify.Config{
		Name: "shop", Shop: "tillsync-test.myshopify.com", AccessToken: token, Endpoint: b.srv.URL,
		Channel: availability.Channel{Name: "web"}, Locations: map[string]string{"s1": b.loc}, Items: b.items,
		SettleAfter: time.Hour, Backoff: destination.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond},
	}
}

func (b *bundle) deps(now func() time.Time) shopify.Deps {
	return shopify.Deps{Store: b.st, Notifier: b.notify, Client: b.srv.Client(), Metrics: b.dm, Shopify: b.sm,
		Log: slog.New(slog.NewTextHandler(b.logs, nil)), Now: now}
}

// run is a running destination's outcome.
type run struct {
	done chan struct{}
	err  error
}

// start runs a destination until the test ends.
func (b *bundle) start(t *testing.T, cfg shopify.Config, now func() time.Time) (*shopify.Destination, *run) {
	t.Helper()
	d, err := shopify.New(cfg, b.deps(now))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not stop")
		}
	})
	return d, r
}

func (b *bundle) appendEvents(t *testing.T, evs ...*event.Event) int64 {
	t.Helper()
	out, err := b.st.Append(context.Background(), evs, time.Now())
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	b.notify.Broadcast()
	return out.MaxSeq
}

func (b *bundle) cursor(t *testing.T) int64 {
	t.Helper()
	c, err := b.st.Cursor(context.Background(), "shopify:shop")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *bundle) waitCursor(t *testing.T, head int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("the cursor to reach %d", head), func() bool { return b.cursor(t) == head })
}

func (b *bundle) gauge(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var clock = et.Base

func at(minute int) time.Time { return clock.Add(time.Duration(minute) * time.Minute) }

// fakeClock is a settable clock for the destination.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
