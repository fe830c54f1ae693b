package oversell

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// oneSecond is a propagation latency of exactly one second.
func oneSecond() Propagation {
	d := time.Second
	return Propagation{P50: d, P95: d, P99: d, Max: d, Source: "given"}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestTinyDay runs a small day through every strategy: tillsync oversells
// nothing, its ledger ends equal to the stores, its shop shows no more than
// the ledger's ATP (run checks both), and the same seed gives the same
// report.
func TestTinyDay(t *testing.T) {
	t.Parallel()
	opt := Options{SkipShopify: true, Day: Config{Stores: 10, SKUs: 100, StoresPerSKU: 2, Hours: 3, StoreRate: 10, OnlineRate: 60, Seed: 1,
		Propagation: Propagation{P50: 300 * time.Millisecond, P95: 1500 * time.Millisecond, P99: 2 * time.Second, Max: 3 * time.Second}}}
	rep, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Strategies) != 3 {
		t.Fatalf("%d strategies, want 3", len(rep.Strategies))
	}
	till := rep.Strategies[2]
	if till.Strategy != "tillsync" || till.OversoldUnits != 0 || till.CancelledOrders != 0 || till.LedgerOversells != 0 {
		t.Errorf("tillsync: %+v, want no oversold units, cancellations or ledger oversells", till)
	}
	if till.LedgerEvents == 0 || till.OnlineOrders == 0 || till.StoreUnitsSold == 0 {
		t.Errorf("tillsync did nothing: %+v", till)
	}
	if !rep.OversoldPass {
		t.Errorf("oversold target not met: %+v", rep)
	}
	batch := rep.Strategies[0]
	if batch.Name != "batch every 15 min" || batch.PhantomSKUSeconds <= till.PhantomSKUSeconds {
		t.Errorf("15-minute batch %q phantom %.1f, tillsync %.1f: want more for the batch", batch.Name, batch.PhantomSKUSeconds, till.PhantomSKUSeconds)
	}
	again, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Strategies {
		if !reflect.DeepEqual(rep.Strategies[i], again.Strategies[i]) {
			t.Errorf("same seed, different result:\n%+v\n%+v", rep.Strategies[i], again.Strategies[i])
		}
	}
}

// lastUnit is one store with the last unit of one SKU: a till sells it
// 90 s into the day and an online customer wants it at 5 minutes.
func lastUnit() (*Config, *day) {
	cfg := &Config{Stores: 1, SKUs: 1, StoresPerSKU: 1, Hours: 1, Propagation: oneSecond()}
	cfg.defaults()
	d := &day{stock: []int64{1}, demands: []demand{
		{at: 90 * time.Second, sku: 0, qty: 1},
		{at: 5 * time.Minute, online: true, sku: 0, qty: 1, webhook: 2 * time.Second, pick: 30 * time.Minute},
	}}
	return cfg, d
}

// TestBatchOversellsTheLastUnit: the 15-minute batch still shows the unit
// the till sold, takes the online order and must cancel it; the phantom
// lasts from the sale (90 s) to the order taking the shop's unit (300 s).
// tillsync's push lands 200 ms (till to hub) + 1 s after the sale, so the
// shop shows the unit for 1.2 s and turns the customer away.
func TestBatchOversellsTheLastUnit(t *testing.T) {
	t.Parallel()
	cfg, d := lastUnit()
	b, err := run(cfg, d, "batch", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if b.OversoldUnits != 1 || b.CancelledOrders != 1 || b.OnlineOrders != 1 {
		t.Errorf("batch: %d oversold, %d cancelled of %d orders; want 1, 1, 1", b.OversoldUnits, b.CancelledOrders, b.OnlineOrders)
	}
	if !near(b.PhantomSKUSeconds, 210) || !near(b.PhantomLevelSeconds, 210) {
		t.Errorf("batch phantom %.3f SKU-s (%.3f level-s), want 210", b.PhantomSKUSeconds, b.PhantomLevelSeconds)
	}
	ts, err := run(cfg, d, "tillsync", 0)
	if err != nil {
		t.Fatal(err)
	}
	if ts.OversoldUnits != 0 || ts.OnlineOrders != 0 || ts.OnlineTurnedAway != 1 {
		t.Errorf("tillsync: %d oversold, %d orders, %d turned away; want 0, 0, 1", ts.OversoldUnits, ts.OnlineOrders, ts.OnlineTurnedAway)
	}
	if !near(ts.PhantomSKUSeconds, 1.2) {
		t.Errorf("tillsync phantom %.6f SKU-s, want 1.2", ts.PhantomSKUSeconds)
	}
	// A 60-second batch syncs at 2 min: phantom 30 s, no oversell.
	m, err := run(cfg, d, "batch", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if m.OversoldUnits != 0 || !near(m.PhantomSKUSeconds, 30) {
		t.Errorf("60 s batch: %d oversold, phantom %.3f; want 0 and 30", m.OversoldUnits, m.PhantomSKUSeconds)
	}
}

// TestRaceInsidePropagation: the till sells the last unit and an online
// customer checks out 0.5 s later, before tillsync's push lands. The shop
// takes the order, the store has nothing, the ledger itself detects the
// oversell and the order is cancelled: the bench counts what happens, it
// does not assume tillsync wins.
func TestRaceInsidePropagation(t *testing.T) {
	t.Parallel()
	cfg, d := lastUnit()
	d.demands[1].at = 90*time.Second + 500*time.Millisecond
	r, err := run(cfg, d, "tillsync", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.OversoldUnits != 1 || r.CancelledOrders != 1 || r.LedgerOversells != 1 {
		t.Errorf("%d oversold, %d cancelled, %d ledger oversells; want 1 each", r.OversoldUnits, r.CancelledOrders, r.LedgerOversells)
	}
	// The shop showed the unit from the sale to the order's checkout.
	if !near(r.PhantomSKUSeconds, 0.5) {
		t.Errorf("phantom %.6f SKU-s, want 0.5", r.PhantomSKUSeconds)
	}
}

// TestCompareAndSetKeepsShopifysDecrease: two units; an online order takes
// one in Shopify, and the reservation reaches the ledger 2 s later. The
// destination's write then fails its compare (Shopify moved), re-reads,
// and keeps Shopify's decrease as an offset until it settles; the shop
// never shows more than the ledger's ATP and ends equal to it.
func TestCompareAndSetKeepsShopifysDecrease(t *testing.T) {
	t.Parallel()
	cfg := &Config{Stores: 1, SKUs: 1, StoresPerSKU: 1, Hours: 1, Propagation: oneSecond()}
	cfg.defaults()
	d := &day{stock: []int64{2}, demands: []demand{
		{at: time.Minute, online: true, sku: 0, qty: 1, webhook: 2 * time.Second, pick: 10 * time.Minute},
	}}
	s, err := simulate(cfg, d, "tillsync", 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.res.StaleCompares != 1 {
		t.Errorf("%d stale compares, want 1", s.res.StaleCompares)
	}
	if s.res.OversoldUnits != 0 || s.res.PhantomSKUSeconds != 0 {
		t.Errorf("%d oversold, %.3f phantom; want none", s.res.OversoldUnits, s.res.PhantomSKUSeconds)
	}
	if s.shown[0] != 1 || s.atp(0) != 1 || s.dest[0].offset != 0 {
		t.Errorf("end: shop shows %d, ATP %d, offset %d; want 1, 1, 0", s.shown[0], s.atp(0), s.dest[0].offset)
	}
}

// TestRerouteBeforeCancelling: the shop routes an order to a store whose
// unit the till just sold; another store has the SKU, so the order moves
// there instead of being cancelled.
func TestRerouteBeforeCancelling(t *testing.T) {
	t.Parallel()
	cfg := &Config{Stores: 2, SKUs: 1, StoresPerSKU: 2, Hours: 1, Propagation: oneSecond()}
	cfg.defaults()
	d := &day{stock: []int64{2, 1}, demands: []demand{
		{at: time.Minute, store: 0, sku: 0, qty: 2},
		{at: 2 * time.Minute, online: true, sku: 0, qty: 1, webhook: time.Second, pick: 10 * time.Minute},
	}}
	r, err := run(cfg, d, "batch", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rerouted != 1 || r.OversoldUnits != 0 || r.OnlineUnitsReserved != 1 {
		t.Errorf("%d rerouted, %d oversold, %d reserved; want 1, 0, 1", r.Rerouted, r.OversoldUnits, r.OnlineUnitsReserved)
	}
	// Store 0 shows phantom units from 60 s to the sync at 900 s (840 s).
	// The order, routed to store 0 (it shows the most), moves to store 1
	// at 121 s, which then shows its reserved unit until the sync (779
	// s): the SKU as a whole is phantom only from then.
	if !near(r.PhantomLevelSeconds, 840+779) || !near(r.PhantomSKUSeconds, 779) {
		t.Errorf("phantom %.3f level-s, %.3f SKU-s; want 1619 and 779", r.PhantomLevelSeconds, r.PhantomSKUSeconds)
	}
}

func TestExposure(t *testing.T) {
	t.Parallel()
	e := newExposure(2, 100*time.Second)
	e.set(0, 10*time.Second, true)
	e.set(0, 12*time.Second, true) // still phantom: no new span
	e.set(0, 15*time.Second, false)
	e.set(0, 15*time.Second, false)
	e.set(1, 20*time.Second, true)
	e.set(1, 30*time.Second, false)
	e.set(0, 90*time.Second, true)  // open at the end: 10 s
	e.set(1, 120*time.Second, true) // after the end: nothing
	if got := e.close(); got != 25*time.Second {
		t.Errorf("exposure %s, want 25s (5 + 10 + 10)", got)
	}
}

func TestPropagationSample(t *testing.T) {
	t.Parallel()
	p := Propagation{P50: 100 * time.Millisecond, P95: 500 * time.Millisecond, P99: 900 * time.Millisecond, Max: 2 * time.Second}
	for _, c := range []struct {
		u    float64
		want time.Duration
	}{{0, 100 * time.Millisecond}, {0.5, 100 * time.Millisecond}, {0.95, 500 * time.Millisecond},
		{0.97, 700 * time.Millisecond}, {0.99, 900 * time.Millisecond}, {1, 2 * time.Second}} {
		if got := p.sample(c.u); (got - c.want).Abs() > time.Microsecond {
			t.Errorf("sample(%g) = %s, want %s", c.u, got, c.want)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Stores: 20_000}, "stores 20000"},
		{Config{MinUnits: 6, MaxUnits: 2}, "units 6–2"},
		{Config{Hours: 100}, "hours 100"},
		{Config{Intervals: []time.Duration{time.Millisecond}}, "batch interval 1ms"},
		{Config{Propagation: Propagation{}}, "propagation"},
	} {
		cfg := c.cfg
		if cfg.Propagation.IsZero() && c.want != "propagation" {
			cfg.Propagation = oneSecond()
		}
		cfg.defaults()
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %q", c.cfg, err, c.want)
		}
	}
}
