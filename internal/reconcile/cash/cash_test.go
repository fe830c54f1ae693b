package cash_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ev(id string, when time.Time, body event.Body) *event.Event {
	return &event.Event{ID: id, Type: body.Type(), Location: "s1", Source: "pos", OccurredAt: when, Zone: "Europe/Berlin", Body: body}
}

func sale(id string, when time.Time, register, currency string, tenders ...event.Tender) *event.Event {
	return ev(id, when, &event.Sale{Register: register, Cashier: "ann", Currency: currency, Tenders: tenders})
}

func refund(id string, when time.Time, register string, amount event.Amount) *event.Event {
	return ev(id, when, &event.Return{Register: register, Currency: "EUR", Tenders: []event.Tender{{Kind: event.TenderCash, Amount: amount}}})
}

func count(id string, when time.Time, counted event.Amount, attrs map[string]string) *event.Event {
	e := ev(id, when, &event.DrawerCount{Register: "r1", Cashier: "ann", Currency: "EUR", Counted: counted})
	e.Attributes = attrs
	return e
}

func cashT(a event.Amount) event.Tender { return event.Tender{Kind: event.TenderCash, Amount: a} }

// day is register r1's hand-computed day:
//
//	shift 1 (start of data → 12:00): float 100.00
//	  + 12.50 cash sale with a 1.00 cash tip         = +13.50
//	  +  7.50 cash sale (voided at 11:00)             =  +7.50
//	  + 20.00 card sale                               =   0
//	  + 10.00 split sale: 4.00 cash, 6.00 card        =  +4.00
//	  −  5.00 cash refund                             =  −5.00
//	  −  7.50 the void of the 7.50 sale               =  −7.50
//	  −  3.00 payouts (attribute on the count)        =  −3.00
//	  expected 109.50, counted 109.00: variance −0.50
//	shift 2 (12:00 → 18:00): float 150.00 (attribute)
//	  + 30.00 cash sale; counted 180.00: variance 0
//	register r2's 99.00 cash sale and a USD cash sale on r1 stay out of
//	r1's EUR drawer; a sale after the last count is an open shift.
func day() []*event.Event {
	return []*event.Event{
		sale("s1", at(60), "r1", "EUR", event.Tender{Kind: event.TenderCash, Amount: 1250, Tip: 100}),
		sale("s2", at(70), "r1", "EUR", cashT(750)),
		sale("s3", at(80), "r1", "EUR", event.Tender{Kind: event.TenderCard, Amount: 2000}),
		sale("s4", at(90), "r1", "EUR", cashT(400), event.Tender{Kind: event.TenderCard, Amount: 600}),
		refund("ret", at(100), "r1", 500),
		ev("v", at(180), &event.Void{VoidedEventID: "s2", Register: "r1"}),
		sale("other-till", at(110), "r2", "EUR", cashT(9900)),
		sale("dollars", at(120), "r1", "USD", cashT(1000)),
		count("c1", at(240), 10900, map[string]string{cash.AttrPayouts: "300"}),
		sale("s5", at(300), "r1", "EUR", cashT(3000)),
		count("c2", at(600), 18000, map[string]string{cash.AttrFloat: "15000"}),
		sale("late", at(620), "r1", "EUR", cashT(200)),
	}
}

func shift(t *testing.T, res cash.Result, register, currency, countID string) cash.Shift {
	t.Helper()
	for _, s := range res.Shifts {
		if s.Register == register && s.Currency == currency && s.CountEventID == countID {
			return s
		}
	}
	t.Fatalf("no shift %s/%s/%q in %+v", register, currency, countID, res.Shifts)
	return cash.Shift{}
}

func TestExpectedCashPerShift(t *testing.T) {
	t.Parallel()
	cfg := cash.Config{Floats: map[string]event.Amount{"r1": 10000}, DefaultFloat: 5000, Tolerance: 0}
	res := cash.Compute("s1", day(), nil, cfg, t0, t0.Add(24*time.Hour))
	s1 := shift(t, res, "r1", "EUR", "c1")
	if s1.Float != 10000 || s1.CashSales != 1350+750+400 || s1.CashRefunds != 500 || s1.VoidedNet != 750 || s1.Payouts != 300 {
		t.Errorf("shift 1 parts = %+v", s1)
	}
	if s1.Expected != 10950 || *s1.Variance != -50 || s1.Within {
		t.Errorf("shift 1: expected %d variance %d within %v, want 10950, −50, false", s1.Expected, *s1.Variance, s1.Within)
	}
	if s1.Sales != 3 || s1.Refunds != 1 || s1.Voids != 1 || len(s1.Events) != 5 {
		t.Errorf("shift 1 counts: %d sales %d refunds %d voids, events %v", s1.Sales, s1.Refunds, s1.Voids, s1.Events)
	}
	s2 := shift(t, res, "r1", "EUR", "c2")
	if !s2.Start.Equal(at(240)) || s2.Float != 15000 || s2.Expected != 18000 || *s2.Variance != 0 || !s2.Within {
		t.Errorf("shift 2 = %+v, want float 150.00 (attribute), expected 180.00, balanced", s2)
	}
	// Open shifts: r1's sale after the last count, r1's dollars, r2.
	late := shift(t, res, "r1", "EUR", "")
	if !late.Open || late.Expected != 10000+200 || late.Counted != nil {
		t.Errorf("open r1 shift = %+v, want float + 2.00, no count", late)
	}
	if usd := shift(t, res, "r1", "USD", ""); usd.CashSales != 1000 {
		t.Errorf("USD shift = %+v", usd)
	}
	if r2 := shift(t, res, "r2", "EUR", ""); r2.Float != 5000 || r2.Expected != 5000+9900 {
		t.Errorf("r2 = %+v, want the default float 50.00 + 99.00", r2)
	}
}

func TestToleranceAndWindow(t *testing.T) {
	t.Parallel()
	cfg := cash.Config{Floats: map[string]event.Amount{"r1": 10000}, Tolerance: 50}
	res := cash.Compute("s1", day(), nil, cfg, t0, t0.Add(24*time.Hour))
	if s := shift(t, res, "r1", "EUR", "c1"); !s.Within {
		t.Errorf("−0.50 with a tolerance of 0.50 should balance: %+v", s)
	}
	// Only counts in the window are checked; the earlier count still
	// starts the later shift.
	res = cash.Compute("s1", day(), nil, cfg, at(300), at(610))
	for _, s := range res.Shifts {
		if s.CountEventID == "c1" {
			t.Errorf("count c1 is before the window: %+v", s)
		}
	}
	if s := shift(t, res, "r1", "EUR", "c2"); !s.Start.Equal(at(240)) || s.CashSales != 3000 {
		t.Errorf("shift 2 = %+v, want it to start at c1 with 30.00 cash", s)
	}
}

func TestVoidOfEarlierDayUsesLookup(t *testing.T) {
	t.Parallel()
	yesterday := sale("old", t0.Add(-20*time.Hour), "r1", "EUR", cashT(2500))
	evs := []*event.Event{ev("v", at(10), &event.Void{VoidedEventID: "old"}), count("c", at(20), 7500, nil)}
	lookup := func(id string) *event.Event {
		if id == "old" {
			return yesterday
		}
		return nil
	}
	res := cash.Compute("s1", evs, lookup, cash.Config{DefaultFloat: 10000}, t0, t0.Add(time.Hour))
	if s := shift(t, res, "r1", "EUR", "c"); s.VoidedNet != 2500 || s.Expected != 7500 || *s.Variance != 0 {
		t.Errorf("shift = %+v, want 25.00 given back by the void: expected 75.00", s)
	}
}

func TestBadAttributeIsAProblemNotAGuess(t *testing.T) {
	t.Parallel()
	evs := []*event.Event{count("c", at(20), 100, map[string]string{cash.AttrPayouts: "12.50"})}
	res := cash.Compute("s1", evs, nil, cash.Config{}, t0, t0.Add(time.Hour))
	if len(res.Shifts) != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], `"12.50"`) || !strings.Contains(res.Problems[0], "drawer count c") {
		t.Errorf("result = %+v, want one problem naming the count and the value", res)
	}
}

func TestUnassignedCash(t *testing.T) {
	t.Parallel()
	evs := []*event.Event{sale("x", at(5), "", "EUR", cashT(700))}
	res := cash.Compute("s1", evs, nil, cash.Config{}, t0, t0.Add(time.Hour))
	if res.Unassigned["EUR"] != 700 || len(res.Shifts) != 0 {
		t.Errorf("result = %+v, want 7.00 unassigned", res)
	}
}

func TestReportRaisesAndResolves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inbox := exception.NewMemory()
	cfg := cash.Config{Floats: map[string]event.Amount{"r1": 10000}, Tolerance: 10}
	res := cash.Compute("s1", day(), nil, cfg, t0, t0.Add(24*time.Hour))
	balanced := shift(t, res, "r1", "EUR", "c2")
	_ = inbox.Raise(ctx, exception.Exception{Key: cash.Key(balanced), Kind: exception.KindCashVariance})
	if err := cash.Report(ctx, inbox, "Europe/Berlin", res.Shifts, cfg.Tolerance, 0); err != nil {
		t.Fatal(err)
	}
	open := inbox.Open()
	if len(open) != 1 || open[0].Key != "cash_variance:s1:r1:c1" || open[0].Severity != exception.Warning ||
		!strings.Contains(open[0].Title, "short by 0.50 EUR") {
		t.Fatalf("open = %+v, want one warning for c1 short by 0.50", open)
	}
	if _, ok := inbox.Resolved(cash.Key(balanced)); !ok {
		t.Error("the balanced shift's exception was not resolved")
	}
}
