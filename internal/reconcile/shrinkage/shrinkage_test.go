package shrinkage_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/reconcile/shrinkage"
)

func TestRobustZ(t *testing.T) {
	t.Parallel()
	// median 3; deviations 2 1 0 1 97, MAD 1; z(100) = 0.6745·97.
	med, mad, z := shrinkage.RobustZ([]float64{1, 2, 3, 4, 100})
	if med != 3 || mad != 1 || math.Abs(z[4]-65.4265) > 1e-9 || math.Abs(z[0]+1.349) > 1e-9 || z[2] != 0 {
		t.Errorf("median %v MAD %v z %v", med, mad, z)
	}
	// More than half equal: MAD 0, mean absolute deviation 1:
	// z(5) = 5/1.253314.
	med, mad, z = shrinkage.RobustZ([]float64{0, 0, 0, 0, 5})
	if med != 0 || mad != 0 || math.Abs(z[4]-3.98943) > 1e-5 || z[0] != 0 {
		t.Errorf("median %v MAD %v z %v", med, mad, z)
	}
	if _, _, z = shrinkage.RobustZ([]float64{2, 2, 2}); z[0] != 0 || z[2] != 0 {
		t.Errorf("all equal: z = %v, want zeros", z)
	}
	// Even count: median is the mean of the middle two.
	if med, _, _ = shrinkage.RobustZ([]float64{4, 1, 3, 2}); med != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", med)
	}
}

var start = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// habits are one cashier's per-sale and per-line probabilities.
type habits struct {
	void, noReceipt, discount, discountPct, override float64
	// short is the mean cash shortage per shift, in cents.
	short float64
}

// population is a week at 10 stores with 4 cashiers each, every cashier
// on a register of their own, with honest habits drawn from plausible
// ranges, and cashier c3 at store s7 sweethearting: voiding sales after
// the customer paid cash, refunding without receipts, giving friends
// discounts and overriding prices, and pocketing cash.
func population(seed uint64) ([]*event.Event, []cash.Shift) {
	rng := rand.New(rand.NewPCG(seed, 42))
	u := func(lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }
	var evs []*event.Event
	var shifts []cash.Shift
	n := 0
	id := func(p string) string { n++; return fmt.Sprintf("%s-%d", p, n) }
	for s := range 10 {
		store := fmt.Sprintf("s%d", s)
		for c := range 4 {
			cashier, register := fmt.Sprintf("c%d", c), fmt.Sprintf("r%d", c)
			h := habits{void: u(0.005, 0.02), noReceipt: u(0.003, 0.012), discount: u(0.03, 0.08), discountPct: u(0.05, 0.15),
				override: u(0.002, 0.01), short: u(0, 150)}
			if store == "s7" && cashier == "c3" {
				h = habits{void: 0.07, noReceipt: 0.05, discount: 0.25, discountPct: 0.3, override: 0.04, short: 2500}
			}
			at := start
			for range 120 + rng.IntN(80) {
				at = at.Add(time.Duration(5+rng.IntN(30)) * time.Minute)
				sale := &event.Sale{Register: register, Cashier: cashier, Currency: "EUR", ReceiptNumber: id("rc")}
				var total event.Amount
				for range 1 + rng.IntN(4) {
					l := event.SaleLine{SKU: fmt.Sprintf("SKU%d", rng.IntN(500)), Quantity: event.Units(1), UnitPrice: event.Amount(200 + rng.IntN(4800))}
					line := l.UnitPrice
					if rng.Float64() < h.discount {
						d := event.Amount(float64(l.UnitPrice) * h.discountPct)
						l.Discounts = append(l.Discounts, event.Discount{Amount: d, Reason: "loyalty"})
						line -= d
					}
					if rng.Float64() < h.override {
						l.Discounts = append(l.Discounts, event.Discount{Amount: line / 5, Reason: "Price override - damaged box"})
						line -= line / 5
					}
					sale.Lines = append(sale.Lines, l)
					total += line
				}
				kind := event.TenderCard
				if rng.Float64() < 0.4 {
					kind = event.TenderCash
				}
				sale.Tenders = []event.Tender{{Kind: kind, Amount: total}}
				e := &event.Event{ID: id(store + cashier), Type: event.TypeSale, Location: store, Source: "pos", OccurredAt: at, Zone: "Europe/Berlin", Body: sale}
				evs = append(evs, e)
				if rng.Float64() < h.void {
					evs = append(evs, &event.Event{ID: id("void"), Type: event.TypeVoid, Location: store, Source: "pos", OccurredAt: at.Add(time.Minute),
						Zone: "Europe/Berlin", Body: &event.Void{VoidedEventID: e.ID, Register: register, Cashier: cashier}})
				}
				if rng.Float64() < h.noReceipt {
					amt := event.Amount(500 + rng.IntN(3000))
					evs = append(evs, &event.Event{ID: id("ret"), Type: event.TypeReturn, Location: store, Source: "pos", OccurredAt: at.Add(2 * time.Minute),
						Zone: "Europe/Berlin", Body: &event.Return{Register: register, Cashier: cashier, Currency: "EUR",
							Lines:   []event.SaleLine{{SKU: "SKU1", Quantity: event.Units(1), UnitPrice: amt}},
							Tenders: []event.Tender{{Kind: event.TenderCash, Amount: amt}}}})
				}
			}
			for d := range 6 {
				v := event.Amount(rng.NormFloat64()*80 - h.short*rng.Float64()*2)
				counted := event.Amount(20000) + v
				shifts = append(shifts, cash.Shift{Store: store, Register: register, Cashier: cashier, Currency: "EUR",
					CountEventID: fmt.Sprintf("dc-%s-%s-%d", store, register, d), Expected: 20000, Counted: &counted, Variance: &v})
			}
		}
	}
	return evs, shifts
}

func TestPlantedDishonestCashierIsFoundAndNoHonestOne(t *testing.T) {
	t.Parallel()
	bad := shrinkage.Subject{Level: shrinkage.Cashier, Store: "s7", ID: "c3"}
	for seed := range uint64(8) {
		evs, shifts := population(seed)
		res := shrinkage.Evaluate("2026-W48", evs, shifts, nil, shrinkage.Config{})
		found := false
		for _, a := range res.Anomalies {
			switch {
			case a.Subject == bad:
				found = true
				if len(a.Flagged) < 2 {
					t.Errorf("seed %d: the dishonest cashier stands out on only %+v", seed, a.Flagged)
				}
			case a.Subject.Level == shrinkage.Cashier:
				t.Errorf("seed %d: honest %s flagged: %+v", seed, a.Subject, a.Flagged)
			case a.Subject.Store != "s7" || (a.Subject.Level == shrinkage.Register && a.Subject.ID != "r3"):
				// Only the dishonest cashier's register and store may
				// stand out through them.
				t.Errorf("seed %d: %s flagged: %+v", seed, a.Subject, a.Flagged)
			}
		}
		if !found {
			t.Errorf("seed %d: the dishonest cashier was not found; anomalies %+v", seed, res.Anomalies)
		}
	}
}

func TestReportCarriesTheEvidence(t *testing.T) {
	t.Parallel()
	evs, shifts := population(1)
	res := shrinkage.Evaluate("2026-W48", evs, shifts, nil, shrinkage.Config{})
	inbox := exception.NewMemory()
	old := shrinkage.Key(shrinkage.Subject{Level: shrinkage.Cashier, Store: "s0", ID: "c0"}, "2026-W48")
	_ = inbox.Raise(context.Background(), exception.Exception{Key: old, Kind: exception.KindShrinkageAnomaly})
	if err := shrinkage.Report(context.Background(), inbox, res); err != nil {
		t.Fatal(err)
	}
	var got *exception.Exception
	for _, e := range inbox.Open() {
		if e.Key == "shrinkage_anomaly:cashier:s7:c3:2026-W48" {
			got = &e
		}
	}
	if got == nil {
		t.Fatalf("no exception for the dishonest cashier in %+v", inbox.Open())
	}
	if got.Severity != exception.Critical || !strings.Contains(got.Title, "no_receipt_refund_rate") || !strings.Contains(got.Title, "peer median") {
		t.Errorf("exception = %+v", got)
	}
	ev := got.Evidence.(map[string]any)
	flagged := ev["flagged"].([]shrinkage.Score)
	for _, f := range flagged {
		ids := ev["events"].(map[string][]string)[f.Metric]
		if f.Metric == shrinkage.NoReceiptShare {
			ids = ev["events"].(map[string][]string)[shrinkage.NoReceiptRate]
		}
		if len(ids) < 3 || len(ids) > 100 {
			t.Errorf("%s evidence = %v, want the events behind it", f.Metric, ids)
		}
		if f.Metric == shrinkage.NoReceiptRate && !strings.HasPrefix(ids[0], "ret-") {
			t.Errorf("no-receipt evidence = %v, want the refunds", ids)
		}
	}
	if _, ok := inbox.Resolved(old); !ok {
		t.Error("an honest cashier's earlier anomaly was not resolved")
	}
}

// TestMetricsByHand checks each metric's formula on a tiny population.
func TestMetricsByHand(t *testing.T) {
	t.Parallel()
	mk := func(id string, b event.Body) *event.Event {
		return &event.Event{ID: id, Type: b.Type(), Location: "s1", Source: "pos", OccurredAt: start, Zone: "Europe/Berlin", Body: b}
	}
	// Two sales by ann at r1: 2 lines gross 10.00 + 30.00, one discount of
	// 2.00 "loyalty" and one of 3.00 "manual price"; a void of the first
	// sale; a no-receipt refund of 5.00 and a refund with a receipt; a
	// shift 4.00 short.
	s1 := mk("s1", &event.Sale{Register: "r1", Cashier: "ann", Currency: "EUR",
		Lines:   []event.SaleLine{{SKU: "A", Quantity: event.Units(1), UnitPrice: 1000, Discounts: []event.Discount{{Amount: 200, Reason: "loyalty"}}}},
		Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 800}}})
	s2 := mk("s2", &event.Sale{Register: "r1", Cashier: "ann", Currency: "EUR",
		Lines:   []event.SaleLine{{SKU: "B", Quantity: event.Units(3), UnitPrice: 1000, Discounts: []event.Discount{{Amount: 300, Reason: "Manual price: match web"}}}},
		Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 2700}}})
	evs := []*event.Event{s1, s2,
		mk("v", &event.Void{VoidedEventID: "s1"}),
		mk("nr", &event.Return{Register: "r1", Cashier: "ann", Currency: "EUR", Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 500}}}),
		mk("wr", &event.Return{OriginalEventID: "s2", Register: "r1", Cashier: "ann", Currency: "EUR", Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 900}}}),
	}
	v := event.Amount(-400)
	shifts := []cash.Shift{{Store: "s1", Register: "r1", Cashier: "ann", Currency: "EUR", CountEventID: "dc", Variance: &v, Counted: &v}}
	res := shrinkage.Evaluate("d", evs, shifts, nil, shrinkage.Config{MinSales: 1, MinPeers: 1})
	var ann *shrinkage.Scored
	for i := range res.Scored {
		if res.Scored[i].Subject == (shrinkage.Subject{Level: shrinkage.Cashier, Store: "s1", ID: "ann"}) {
			ann = &res.Scored[i]
		}
	}
	if ann == nil {
		t.Fatalf("ann not scored: %+v", res.Scored)
	}
	a := ann.Activity
	want := map[string]float64{
		shrinkage.VoidRate:          1.0 / 2,      // 1 void / 2 sales (the void names no cashier: the sale's)
		shrinkage.NoReceiptRate:     1.0 / 2,      // 1 no-receipt refund / 2 sales
		shrinkage.NoReceiptShare:    500.0 / 3500, // 5.00 / (8.00 + 27.00)
		shrinkage.DiscountRate:      500.0 / 4000, // (2.00 + 3.00) / (10.00 + 30.00)
		shrinkage.OverrideRate:      1.0 / 2,      // "Manual price" on 1 of 2 lines
		shrinkage.CashShortageShare: 400.0 / 3500, // 4.00 short / 35.00 sold
	}
	for m, w := range want {
		if got := a.Rate(m); math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v, want %v (activity %+v)", m, got, w, a)
		}
	}
	if a.VoidValue != 800 || len(a.Events[shrinkage.VoidRate]) != 1 || a.Events[shrinkage.OverrideRate][0] != "s2" {
		t.Errorf("activity = %+v", a)
	}
}

func TestListPriceOverride(t *testing.T) {
	t.Parallel()
	e := &event.Event{ID: "s", Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: start, Zone: "Europe/Berlin",
		Body: &event.Sale{Register: "r1", Cashier: "bob", Currency: "EUR",
			Lines:   []event.SaleLine{{SKU: "A", Quantity: event.Units(1), UnitPrice: 700}, {SKU: "B", Quantity: event.Units(1), UnitPrice: 500}},
			Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 1200}}}}
	list := func(sku, _ string) (event.Amount, bool) {
		return map[string]event.Amount{"A": 999, "B": 500}[sku], true
	}
	res := shrinkage.Evaluate("d", []*event.Event{e}, nil, nil, shrinkage.Config{MinSales: 1, MinPeers: 1, ListPrice: list})
	for _, s := range res.Scored {
		if s.Subject.Level == shrinkage.Cashier && s.Activity.Overrides != 1 {
			t.Errorf("overrides = %d, want 1 (A sold at 7.00 below its 9.99 list price)", s.Activity.Overrides)
		}
	}
}

func TestPoissonTail(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		k      int
		lambda float64
		want   float64
	}{
		{0, 3, 1},
		{1, 1, 1 - math.Exp(-1)},           // 0.632
		{2, 2, 1 - 3*math.Exp(-2)},         // 1 − e⁻²(1 + 2)
		{3, 0.5, 1 - 1.625*math.Exp(-0.5)}, // 1 − e⁻⁰·⁵(1 + 0.5 + 0.125)
		{1, 0, 0},
	} {
		if got := shrinkage.PoissonTail(c.k, c.lambda); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("P(X ≥ %d; %v) = %v, want %v", c.k, c.lambda, got, c.want)
		}
	}
}
