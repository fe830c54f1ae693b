package shopify

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	simshop "github.com/tillsync/tillsync/internal/sim/shopify"
)

const (
	locBerlin  = 24826418
	locHamburg = 70000000001
)

var simStart = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// scenario builds a day of a shop: items, stock levels, POS sales with
// their fulfillments, web orders fulfilled, refunded and cancelled, and
// stock levels that are newer than some movements and older than others.
func scenario(t *testing.T) []simshop.Delivery {
	t.Helper()
	s := simshop.New(simshop.Config{Domain: testShop, Currency: "EUR", Start: simStart,
		Zone: time.FixedZone("CET", 3600)})
	var ds []simshop.Delivery
	add := func(d ...simshop.Delivery) { ds = append(ds, d...) }
	must := func(d simshop.Delivery, err error) simshop.Delivery {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, sku := range []string{"SKU-A", "SKU-B", "SKU-C"} {
		add(s.Item(sku))
	}
	add(s.Level("SKU-A", locBerlin, 10), s.Level("SKU-B", locBerlin, 5),
		s.Level("SKU-C", locHamburg, 8), s.Level("SKU-A", locHamburg, 4))
	pos1, d := s.POSOrder(locBerlin, simshop.Line{SKU: "SKU-A", Qty: 2, Price: 1299}, simshop.Line{SKU: "SKU-B", Qty: 1, Price: 2000})
	add(d...)
	add(s.Paid(pos1))
	_, d = s.POSOrder(locHamburg, simshop.Line{SKU: "SKU-C", Qty: 1, Price: 500})
	add(d...)
	w1, d1 := s.WebOrder(simshop.Line{SKU: "SKU-A", Qty: 1, Price: 1299}, simshop.Line{SKU: "SKU-C", Qty: 2, Price: 500})
	w2, d2 := s.WebOrder(simshop.Line{SKU: "SKU-B", Qty: 2, Price: 2000})
	w3, d3 := s.WebOrder(simshop.Line{SKU: "SKU-A", Qty: 3, Price: 1299})
	add(d1, d2, d3, s.Paid(w1))
	add(s.Level("SKU-A", locBerlin, 7)) // after the POS sale: a newer absolute level
	add(must(s.Fulfil(w1, locHamburg)))
	add(must(s.Fulfil(w3, locBerlin, simshop.Line{SKU: "SKU-A", Qty: 1})))
	add(must(s.Refund(pos1, locBerlin, simshop.RestockReturn, simshop.Line{SKU: "SKU-A", Qty: 1})))
	add(must(s.Refund(pos1, 0, simshop.RestockNone, simshop.Line{SKU: "SKU-B", Qty: 1})))
	add(must(s.Refund(w1, locHamburg, simshop.RestockReturn, simshop.Line{SKU: "SKU-C", Qty: 1})))
	add(s.Cancel(w2, "customer"))
	add(must(s.Refund(w2, locBerlin, simshop.RestockCancel)))
	add(s.Level("SKU-C", locHamburg, 6))
	return ds
}

type run struct {
	b      *bundle
	srv    *httptest.Server
	report simshop.Report
}

// deliver sends the deliveries through the simulator to a fresh handler.
func deliver(t *testing.T, ds []simshop.Delivery, opt simshop.Options, failRate float64) *run {
	t.Helper()
	b := setup(t, func(_ *Config, d *Deps) {
		d.Now = func() time.Time { return simStart.Add(10 * time.Minute) }
	})
	if failRate > 0 {
		rng := rand.New(rand.NewPCG(opt.Seed, 99))
		var mu sync.Mutex
		b.sink.fail = func() bool {
			mu.Lock()
			defer mu.Unlock()
			return rng.Float64() < failRate
		}
	}
	srv := httptest.NewServer(b.h)
	t.Cleanup(srv.Close)
	em := &simshop.Emitter{URL: srv.URL, Domain: testShop, Secret: testSecret, Client: srv.Client(), Speedup: 1e6}
	rep, err := em.Deliver(context.Background(), ds, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Dropped) > 0 {
		t.Fatalf("Shopify would have dropped %d deliveries: %v", len(rep.Dropped), rep)
	}
	return &run{b: b, srv: srv, report: rep}
}

func eventIDs(b *bundle) []string {
	var ids []string
	for _, e := range b.sink.events() {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	return ids
}

// TestDeliveryConverges delivers one scenario in order, then shuffled with
// duplicates and storage failures (so Shopify's retries kick in and
// fulfillments and levels arrive before the orders and items they refer
// to), and checks both end with the same events and ledger positions.
func TestDeliveryConverges(t *testing.T) {
	t.Parallel()
	ds := scenario(t)
	base := deliver(t, ds, simshop.Options{}, 0)
	if base.report.Retries != 0 {
		t.Fatalf("in-order delivery needed retries: %v", base.report)
	}
	want := base.b.sink.ledger
	if p := want.Position(inventory.Key{SKU: "SKU-A", Location: "store-berlin"}); p.OnHand() != event.Units(7) || p.Reserved != 0 {
		t.Fatalf("SKU-A@store-berlin: on hand %s reserved %s, want 7 and 0 (count 7 after the sale, 1 shipped, 1 returned)", p.OnHand(), p.Reserved)
	}
	if p := want.Position(inventory.Key{SKU: "SKU-A", Location: "web-dc"}); p.Reserved != event.Units(2) {
		t.Fatalf("SKU-A@web-dc reserved %s, want 2 (web order of 3, 1 shipped)", p.Reserved)
	}
	for seed := uint64(1); seed <= 6; seed++ {
		r := deliver(t, ds, simshop.Options{Seed: seed, Shuffle: true, Duplicates: 0.4}, 0.25)
		if diff := inventory.Diff(want, r.b.sink.positions()); len(diff) > 0 {
			t.Errorf("seed %d (%v): ledger differs from in-order delivery:\n  %s", seed, r.report, strings.Join(diff, "\n  "))
		}
		if got, exp := eventIDs(r.b), eventIDs(base.b); strings.Join(got, ",") != strings.Join(exp, ",") {
			t.Errorf("seed %d: events differ:\n got %v\nwant %v", seed, got, exp)
		}
		t.Logf("seed %d: %v; handler %+v", seed, r.report, r.b.h.Stats())
		if r.report.Retries == 0 {
			t.Errorf("seed %d: no retries; the failure injection did nothing", seed)
		}
	}
}
