package closing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/completeness"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

const zone = "Europe/Berlin"

// local is a time on 27 November 2026 in Berlin (UTC+1).
func local(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour-1, minute, 0, 0, time.UTC)
}

func ev(id, loc string, at time.Time, b event.Body) *event.Event {
	return &event.Event{ID: id, Type: b.Type(), Location: loc, Source: "pos", OccurredAt: at, Zone: zone, ReceivedAt: at, Body: b}
}

func line(sku string, price event.Amount, discounts ...event.Discount) event.SaleLine {
	return event.SaleLine{SKU: sku, Quantity: event.Units(1), UnitPrice: price, Discounts: discounts}
}

// day is store s1's hand-computed 27 November:
//
//	A 10:00 cash sale 10.00 − 1.00 loyalty + 5.00 = 14.00 cash
//	B 11:00 card sale 30.00 with a 2.00 tip
//	R 12:00 refund without receipt 5.00 cash
//	V 13:00 void of B (30.00 card)
//	DC 18:00 r1 counted 108.50: float 100.00 + 14.00 − 5.00 = 109.00
//	expected, 0.50 short
//
// and a card sale the evening before and one the day after.
func day() []*event.Event {
	return []*event.Event{
		ev("prev", "s1", local(26, 23, 30), &event.Sale{Register: "r1", Cashier: "ann", Currency: "EUR", Lines: []event.SaleLine{line("X", 900)},
			Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 900}}}),
		ev("A", "s1", local(27, 10, 0), &event.Sale{Register: "r1", Cashier: "ann", Currency: "EUR",
			Lines:   []event.SaleLine{line("X", 1000, event.Discount{Amount: 100, Reason: "loyalty"}), line("Y", 500)},
			Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 1400}}}),
		ev("B", "s1", local(27, 11, 0), &event.Sale{Register: "r1", Cashier: "ann", Currency: "EUR", Lines: []event.SaleLine{line("Z", 3000)},
			Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 3000, Tip: 200, Reference: "psp-B"}}}),
		ev("R", "s1", local(27, 12, 0), &event.Return{Register: "r1", Cashier: "ann", Currency: "EUR", Lines: []event.SaleLine{line("Y", 500)},
			Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 500}}}),
		ev("V", "s1", local(27, 13, 0), &event.Void{VoidedEventID: "B", Register: "r1", Cashier: "ann"}),
		ev("DC", "s1", local(27, 18, 0), &event.DrawerCount{Register: "r1", Cashier: "ann", Currency: "EUR", Counted: 10850}),
		ev("next", "s1", local(28, 9, 0), &event.Sale{Register: "r1", Currency: "EUR", Lines: []event.SaleLine{line("X", 900)},
			Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 900}}}),
		ev("peer", "s2", local(27, 10, 0), &event.Sale{Register: "r1", Currency: "EUR", Lines: []event.SaleLine{line("X", 900)},
			Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 900}}}),
	}
}

func setup(t *testing.T) (*closing.Closer, *exception.Memory) {
	t.Helper()
	st := storetest.Open(t, storetest.Engines()[0])
	if _, err := st.Append(context.Background(), day(), time.Now()); err != nil {
		t.Fatal(err)
	}
	inbox := exception.NewMemory()
	return &closing.Closer{
		Store: st, Stores: []closing.Store{{ID: "s1", Zone: zone}, {ID: "s2", Zone: zone}},
		Destinations: []completeness.Destination{{Name: "erp"}},
		Cash:         func(string) cash.Config { return cash.Config{DefaultFloat: 10000} },
		Inbox:        inbox, Wait: time.Millisecond,
		Now: func() time.Time { return local(28, 8, 0) },
	}, inbox
}

func TestCloseByHand(t *testing.T) {
	t.Parallel()
	c, inbox := setup(t)
	rep, err := c.Close(context.Background(), "s1", "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.Zone != zone {
		t.Errorf("complete %v zone %q", rep.Complete, rep.Zone)
	}
	want := closing.CurrencySales{Currency: "EUR", Sales: 2, SalesValue: 4400, Returns: 1, ReturnsValue: 500, NoReceiptReturns: 1,
		Voids: 1, VoidsValue: 3000, Discounts: 100, Tips: 200, Net: 900}
	if len(rep.Sales) != 1 || rep.Sales[0] != want {
		t.Errorf("sales = %+v\nwant    %+v", rep.Sales, want)
	}
	wantT := []closing.TenderTotal{
		{Kind: event.TenderCard, Currency: "EUR", Count: 1, Taken: 3000, Voided: 3000, Tips: 200, Net: 0},
		{Kind: event.TenderCash, Currency: "EUR", Count: 2, Taken: 1400, Refunded: 500, Net: 900},
	}
	if len(rep.Tenders) != 2 || rep.Tenders[0] != wantT[0] || rep.Tenders[1] != wantT[1] {
		t.Errorf("tenders = %+v\nwant      %+v", rep.Tenders, wantT)
	}
	// Nothing delivered yet and no destination running: all pending.
	if e := rep.ERP[0]; e.Expected.Count != 4 || e.Expected.Value["EUR"] != 1400+3000-500-3000 || e.Pending.Count != 4 || !e.Complete() {
		t.Errorf("erp = %+v", e)
	}
	if rep.Settlement.Available {
		t.Error("settlement results claimed available")
	}
	if len(rep.Cash.Shifts) != 1 || rep.Cash.Shifts[0].Expected != 10900 || *rep.Cash.Shifts[0].Variance != -50 ||
		rep.Cash.Variance["EUR"] != -50 || rep.Cash.OutOfTolerance != 1 ||
		len(rep.Cash.Registers) != 1 || rep.Cash.Registers[0] != (closing.RegisterVariance{Register: "r1", Currency: "EUR", Shifts: 1, Variance: -50, OutOfTolerance: 1}) {
		t.Errorf("cash = %+v", rep.Cash)
	}
	if !rep.Exceptions.Available || rep.Exceptions.Open != 1 || len(rep.Exceptions.Raised) != 1 || rep.Exceptions.Raised[0] != "cash_variance:s1:r1:DC" {
		t.Errorf("exceptions = %+v, open %+v", rep.Exceptions, inbox.Open())
	}

	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for _, k := range []string{"store", "zone", "date", "from", "to", "sales", "tenders", "erp", "settlement", "cash", "shrinkage", "exceptions"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, raw)
		}
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"store s1, 2026-11-27 (Europe/Berlin)", "44.00 EUR", "9.00 EUR", "erp: 0 of 4 documents confirmed",
		"not available", "-0.50 EUR", "OUT OF TOLERANCE", "1 open at s1", "cash_variance:s1:r1:DC"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

func TestReportOnlyRaisesNothing(t *testing.T) {
	t.Parallel()
	c, inbox := setup(t)
	c.ReportOnly = true
	rep, err := c.Close(context.Background(), "s1", "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox.Open()) != 0 || len(rep.Exceptions.Raised) != 0 {
		t.Errorf("report-only close raised %+v", inbox.Open())
	}
}

func TestPreviewAndBadInput(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	c.Now = func() time.Time { return local(27, 15, 0) }
	rep, err := c.Close(context.Background(), "s1", "2026-11-27")
	if err != nil || rep.Complete {
		t.Errorf("close during the day: complete %v, err %v; want a preview", rep.Complete, err)
	}
	if _, err := c.Close(context.Background(), "s9", "2026-11-27"); err == nil || !strings.Contains(err.Error(), `"s9"`) {
		t.Errorf("unknown store: %v", err)
	}
	if _, err := c.Close(context.Background(), "s1", "27/11/2026"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("bad date: %v", err)
	}
}

func TestSettlementFromFiles(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	eng, err := reconcile.NewEngine(reconcile.DefaultConfig(), exception.NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	// The PSP settled sale B (30.00 + 2.00 tip) under the reference the
	// till recorded, and one payment nobody took.
	eng.AddLines(
		reconcile.Line{File: "psp.csv", Row: 2, Type: settlement.TypePayment, Date: local(27, 11, 0), Currency: "EUR", Net: 3200, Gross: 3200,
			Refs: settlement.References{Bank: "t1", Merchant: "psp-B"}},
		reconcile.Line{File: "psp.csv", Row: 3, Type: settlement.TypePayment, Date: local(27, 11, 0), Currency: "EUR", Net: 777, Gross: 777,
			Refs: settlement.References{Bank: "t2", Merchant: "psp-unknown"}},
	)
	c.Settlement = eng
	rep, err := c.Close(context.Background(), "s1", "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Settlement
	if !s.Available || s.Summary == nil || s.Summary.Tenders != 1 || s.Summary.MatchedTenders != 1 || s.Summary.OpenLines != 1 {
		t.Fatalf("settlement = %+v (summary %+v), want B matched and the stray line open", s, s.Summary)
	}
}

func TestAuditOnly(t *testing.T) {
	t.Parallel()
	c, inbox := setup(t)
	res, err := c.Audit(context.Background(), "s1", "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Expected.Count != 4 || res[0].Pending.Count != 4 || len(inbox.Open()) != 0 {
		t.Errorf("audit = %+v, open %+v; want the 4 documents pending, nothing raised", res, inbox.Open())
	}
	if _, err := c.Audit(context.Background(), "s9", "2026-11-27"); err == nil {
		t.Error("unknown store: no error")
	}
}
