package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/settlement"
)

var day0 = time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)

func tender(ev string, amount event.Amount, ref string) Tender {
	return Tender{Event: ev, Location: "store-42", Zone: "Europe/Berlin", At: day0, Amount: amount, Currency: "EUR", Reference: ref, Last4: "4242", AuthCode: "A1B2C3"}
}

func line(row int, gross, fee event.Amount, ref string) Line {
	return Line{File: "psp.csv", Row: row, Format: settlement.FormatStripe, Type: settlement.TypePayment, Date: day0.Add(24 * time.Hour),
		Currency: "EUR", Gross: gross, Fee: fee, Net: gross - fee, Refs: settlement.References{Payment: ref}}
}

type bundle struct {
	e   *Engine
	exc *exception.Memory
}

func setup(t *testing.T, mod ...func(*Config)) bundle {
	t.Helper()
	cfg := DefaultConfig()
	for _, m := range mod {
		m(&cfg)
	}
	exc := exception.NewMemory()
	e, err := NewEngine(cfg, exc)
	if err != nil {
		t.Fatal(err)
	}
	return bundle{e, exc}
}

func (b bundle) run(t *testing.T) {
	t.Helper()
	if err := b.e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// matches returns the matches made, by rule.
func (b bundle) matches() map[Rule][]Match {
	out := map[Rule][]Match{}
	b.e.Matches(func(m Match) bool {
		out[m.Rule] = append(out[m.Rule], m)
		return true
	})
	return out
}

func TestReferenceOneToOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 4250, "ch_8F3K"), tender("sale-2", 1000, "ch_9XYZ"))
	b.e.AddLines(line(2, 4250, 64, "ch_8F3K"), line(3, 1000, 15, "ch_9XYZ"))
	b.run(t)
	m := b.matches()[RuleReference]
	if len(m) != 2 {
		t.Fatalf("reference matches = %d, want 2 (%+v)", len(m), b.matches())
	}
	want := "reference ch_8F3K and amount 42.50 EUR equal; settled 1 day after the sale; net 41.86 EUR after fee 0.64 EUR"
	if m[0].Explanation != want {
		t.Errorf("explanation\n got %q\nwant %q", m[0].Explanation, want)
	}
	if s := b.e.Summary(); s.OpenTenders != 0 || s.OpenLines != 0 || s.MatchedTenders != 2 {
		t.Errorf("summary %+v", s)
	}
}

func TestLinesBeforeTenders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddLines(line(2, 4250, 64, "ch_8F3K"))
	b.run(t)
	b.e.AddTenders(tender("sale-1", 4250, "ch_8F3K"))
	b.run(t)
	if n := len(b.matches()[RuleReference]); n != 1 {
		t.Fatalf("a tender arriving after its line: %d reference matches, want 1", n)
	}
}

func TestCardRuleWhenReferenceMissing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := tender("sale-2", 4250, "ch_other")
	other.Last4, other.AuthCode = "1111", "ZZZ999"
	b.e.AddTenders(tender("sale-1", 4250, "ch_8F3K"), other)
	l := line(2, 4250, 0, "")
	l.Refs.CardLastFour, l.Refs.AuthCode = "4242", "A1B2C3"
	b.e.AddLines(l)
	b.run(t)
	m := b.matches()[RuleCard]
	if len(m) != 1 || m[0].Tenders[0].Event != "sale-1" {
		t.Fatalf("card matches = %+v, want sale-1", m)
	}
	if !strings.Contains(m[0].Explanation, "card ending 4242, authorisation code A1B2C3 and amount 42.50 EUR equal") {
		t.Errorf("explanation %q", m[0].Explanation)
	}
}

func TestCardRuleRefusesOtherAuthCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 4250, ""))
	l := line(2, 4250, 0, "")
	l.Refs.CardLastFour, l.Refs.AuthCode = "4242", "XXXXXX"
	b.e.AddLines(l)
	b.run(t)
	if n := len(b.matches()); n != 0 {
		t.Fatalf("a different auth code matched: %+v", b.matches())
	}
}

func TestAmountToleranceAndDateWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		tol     event.Amount
		gross   event.Amount
		after   time.Duration
		matched bool
	}{
		{"exact", 0, 4250, 24 * time.Hour, true},
		{"one cent off, no tolerance", 0, 4249, 24 * time.Hour, false},
		{"one cent off, tolerance 1", 1, 4249, 24 * time.Hour, true},
		{"two cents off, tolerance 1", 1, 4248, 24 * time.Hour, false},
		{"last day of window", 0, 4250, 5 * 24 * time.Hour, true},
		{"after the window", 0, 4250, 6 * 24 * time.Hour, false},
		{"before the sale", 0, 4250, -3 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.Tolerance = tc.tol })
			b.e.AddTenders(tender("sale-1", 4250, "ch_1"))
			l := line(2, tc.gross, 0, "ch_1")
			l.Date = day0.Add(tc.after)
			b.e.AddLines(l)
			b.run(t)
			if got := len(b.matches()) == 1; got != tc.matched {
				t.Fatalf("matched = %v, want %v", got, tc.matched)
			}
		})
	}
}

func TestTipSettledAsSecondLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	td := tender("sale-1", 4000, "ch_tip")
	td.Tip = 500
	b.e.AddTenders(td)
	b.e.AddLines(line(2, 4000, 0, "ch_tip"))
	b.run(t)
	if n := len(b.matches()); n != 0 {
		t.Fatalf("the charge without its tip matched on its own")
	}
	b.e.AddLines(line(3, 500, 0, "ch_tip")) // the tip adjustment, in a later file
	b.run(t)
	m := b.matches()[RuleReferenceSum]
	if len(m) != 1 || len(m[0].Lines) != 2 || len(m[0].Tenders) != 1 {
		t.Fatalf("one-to-many: %+v", b.matches())
	}
	if !strings.Contains(m[0].Explanation, "1 tender(s) totalling 45.00 EUR and 2 line(s) totalling 45.00 EUR agree") {
		t.Errorf("explanation %q", m[0].Explanation)
	}
}

func TestTipIncludedInCharge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	td := tender("sale-1", 4000, "ch_tip")
	td.Tip = 500
	b.e.AddTenders(td)
	b.e.AddLines(line(2, 4500, 70, "ch_tip"))
	b.run(t)
	if n := len(b.matches()[RuleReference]); n != 1 {
		t.Fatalf("a charge with the tip: %+v", b.matches())
	}
}

func TestSplitTenders(t *testing.T) {
	t.Parallel()
	t.Run("each card charged on its own", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a, c := tender("sale-1", 3000, "ch_a"), tender("sale-1", 1250, "ch_b")
		c.Index, c.Last4 = 1, "1881"
		b.e.AddTenders(a, c)
		b.e.AddLines(line(2, 3000, 0, "ch_a"), line(3, 1250, 0, "ch_b"))
		b.run(t)
		if n := len(b.matches()[RuleReference]); n != 2 {
			t.Fatalf("split tenders: %+v", b.matches())
		}
	})
	t.Run("charged as one under the order reference", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a, c := tender("sale-1", 3000, "order-77"), tender("sale-1", 1250, "order-77")
		c.Index = 1
		b.e.AddTenders(a, c)
		l := line(2, 4250, 0, "")
		l.Refs.Merchant = "order-77"
		b.e.AddLines(l)
		b.run(t)
		m := b.matches()[RuleReferenceSum]
		if len(m) != 1 || len(m[0].Tenders) != 2 {
			t.Fatalf("many-to-one: %+v", b.matches())
		}
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sale, ret := tender("sale-1", 4000, "ch_1"), tender("return-1", -4000, "re_1")
	b.e.AddTenders(sale, ret)
	r := line(3, -4000, 0, "re_1")
	r.Type = settlement.TypeRefund
	b.e.AddLines(line(2, 4000, 0, "ch_1"), r)
	b.run(t)
	m := b.matches()[RuleReference]
	if len(m) != 2 {
		t.Fatalf("refund: %+v", b.matches())
	}
	// A refund never settles a sale of the same size without reference.
	b2 := setup(t)
	b2.e.AddTenders(tender("sale-1", 4000, ""))
	r2 := line(3, -4000, 0, "")
	r2.Type, r2.Refs.CardLastFour = settlement.TypeRefund, "4242"
	b2.e.AddLines(r2)
	b2.run(t)
	if n := len(b2.matches()); n != 0 {
		t.Fatalf("a refund line settled a sale: %+v", b2.matches())
	}
}

func TestChargebackLinkedToSale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 6000, "ch_disputed"))
	cb := line(3, -6000, 1500, "dp_1")
	cb.Type, cb.Original, cb.Refs.Bank = settlement.TypeChargeback, "ch_disputed", "txn_cb"
	b.e.AddLines(line(2, 6000, 0, "ch_disputed"), cb)
	b.run(t)
	if err := b.e.Review(context.Background(), day0); err != nil {
		t.Fatal(err)
	}
	m := b.matches()[RuleChargeback]
	if len(m) != 1 || m[0].Tenders[0].Event != "sale-1" {
		t.Fatalf("chargeback: %+v", b.matches())
	}
	open := b.exc.Open()
	if len(open) != 1 || evidence(open[0])["sub_kind"] != SubKindChargeback || open[0].Kind != exception.KindSettlementUnmatched || open[0].Severity != exception.Error || evidence(open[0])["sale_event"] != "sale-1" {
		t.Fatalf("chargeback exception: %+v", open)
	}
}

func TestPayoutOfBatchWithFees(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 10000, "ch_1"), tender("sale-2", 2550, "ch_2"))
	l1, l2 := line(2, 10000, 320, "ch_1"), line(3, 2550, 104, "ch_2")
	fee := Line{File: "psp.csv", Row: 4, Type: settlement.TypeFee, Date: l1.Date, Currency: "EUR", Net: -200, Gross: -200}
	po := Line{File: "psp.csv", Row: 5, Type: settlement.TypePayout, Date: l1.Date, Currency: "EUR", Net: -(9680 + 2446 - 200), Gross: -(9680 + 2446 - 200)}
	for _, l := range []*Line{&l1, &l2, &fee, &po} {
		l.Refs.Batch = "po_1"
	}
	b.e.AddLines(l1, l2, fee, po)
	// The bank statement: the payout arrives, naming the payout ID.
	dep := Line{File: "bank.xml", Row: 40, Type: settlement.TypeCardSettlement, Date: l1.Date.Add(48 * time.Hour), Currency: "EUR", Net: 11926, Gross: 11926,
		Description: "STRIPE PAYOUT po_1"}
	b.e.AddLines(dep)
	b.run(t)
	ms := b.matches()
	if len(ms[RuleReference]) != 2 || len(ms[RulePayout]) != 1 || len(ms[RuleDepositBatch]) != 1 {
		t.Fatalf("matches %+v", ms)
	}
	if !strings.Contains(ms[RulePayout][0].Explanation, "equals the net of batch po_1's 3 line(s)") {
		t.Errorf("payout explanation %q", ms[RulePayout][0].Explanation)
	}
	if s := b.e.Summary(); s.OpenDeposits != 0 {
		t.Errorf("open deposits %d", s.OpenDeposits)
	}
}

func TestDepositIsBatchLessResidue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ls []Line
	for i, a := range []event.Amount{1000, 2000, 3000, 4000} {
		l := line(i+2, a, 0, "")
		l.Refs.Batch = "B-7"
		ls = append(ls, l)
	}
	b.e.AddLines(ls...)
	dep := Line{File: "bank.bai", Row: 9, Type: settlement.TypeCardSettlement, Date: day0.Add(72 * time.Hour), Currency: "EUR", Net: 7000, Gross: 7000,
		Refs: settlement.References{Customer: "B-7"}}
	b.e.AddLines(dep)
	b.run(t)
	m := b.matches()[RuleDepositPartial]
	if len(m) != 1 || len(m[0].Lines) != 4 { // three lines and the deposit
		t.Fatalf("partial deposit: %+v", b.matches())
	}
	if !strings.Contains(m[0].Explanation, "residue 30.00 EUR") {
		t.Errorf("explanation %q", m[0].Explanation)
	}
}

func TestDepositBundlesADayOfTendersLessFees(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var gross event.Amount
	for i, a := range []event.Amount{1250, 4990, 899, 15000, 2375} {
		td := tender("sale-"+string(rune('a'+i)), a, "")
		td.At = day0.Add(time.Duration(i) * time.Hour)
		td.Processor = "worldline"
		b.e.AddTenders(td)
		gross += a
	}
	other := tender("sale-other-store", 999, "")
	other.Location = "store-7"
	b.e.AddTenders(other)
	b.run(t)
	if err := b.e.Review(context.Background(), day0.Add(10*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(b.exc.Open()); n != 6 {
		t.Fatalf("%d open exceptions before the deposit, want 6", n)
	}
	fee := event.Amount(366) // 1.5 % of 24,514
	dep := Line{File: "bank.bai", Row: 12, Type: settlement.TypeCardSettlement, Date: day0.Add(48 * time.Hour), Currency: "EUR", Net: gross - fee, Gross: gross - fee,
		Description: "WORLDLINE MERCH SETL"}
	b.e.AddLines(dep)
	b.run(t)
	m := b.matches()[RuleDepositDay]
	if len(m) != 1 || len(m[0].Tenders) != 5 {
		t.Fatalf("deposit of a day: %+v", b.matches())
	}
	want := "deposit bank.bai line 12 of 241.48 EUR is the 5 card tender(s) of store-42 via worldline on 2026-03-02, gross 245.14 EUR, less fees of 3.66 EUR (1.49 % of gross)"
	if m[0].Explanation != want {
		t.Errorf("explanation\n got %q\nwant %q", m[0].Explanation, want)
	}
	open := b.exc.Open()
	if len(open) != 1 || evidence(open[0])["event"] != "sale-other-store" {
		t.Fatalf("after the deposit, open: %+v", open)
	}
	if r, ok := b.exc.Resolved("reconcile:tender:sale-a#0"); !ok || !strings.Contains(r, "less fees") {
		t.Fatalf("sale-a not auto-resolved: %q %v", r, ok)
	}
}

func TestDepositTooFarBelowTheDayIsNotMatched(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 10000, ""))
	b.e.AddLines(Line{File: "bank.bai", Row: 3, Type: settlement.TypeCardSettlement, Date: day0.Add(24 * time.Hour), Currency: "EUR", Net: 9000, Gross: 9000})
	b.run(t)
	if n := len(b.matches()); n != 0 {
		t.Fatalf("a deposit 10 %% below the day matched: %+v", b.matches())
	}
}

func TestLateFileResolvesOpenException(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 4250, "ch_late"), tender("sale-2", 1000, "ch_ok"))
	b.e.AddLines(line(2, 1000, 0, "ch_ok"))
	b.run(t)
	ctx := context.Background()
	// Within the window nothing is an exception yet.
	if err := b.e.Review(ctx, day0.Add(2*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(b.exc.Open()); n != 0 {
		t.Fatalf("exceptions inside the window: %d", n)
	}
	if err := b.e.Review(ctx, day0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	open := b.exc.Open()
	if len(open) != 1 || open[0].Key != "reconcile:tender:sale-1#0" || evidence(open[0])["sub_kind"] != SubKindUnsettledTender ||
		open[0].Amount == nil || *open[0].Amount != (event.Money{Amount: 4250, Currency: "EUR"}) || open[0].Location == "" || !strings.HasPrefix(open[0].Title, "Unsettled tender: ") {
		t.Fatalf("open exceptions: %+v", open)
	}
	// Reviewing again does not raise it again.
	raises := b.exc.Raises()
	if err := b.e.Review(ctx, day0.Add(8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b.exc.Raises() != raises {
		t.Fatalf("raised again")
	}
	// The late file.
	late := line(7, 4250, 0, "ch_late")
	late.File, late.Date = "psp-late.csv", day0.Add(3*24*time.Hour)
	b.e.AddLines(late)
	b.run(t)
	if n := len(b.exc.Open()); n != 0 {
		t.Fatalf("still open after the late file: %+v", b.exc.Open())
	}
	r, ok := b.exc.Resolved("reconcile:tender:sale-1#0")
	if !ok || !strings.Contains(r, "reference ch_late and amount 42.50 EUR equal; settled 3 days after the sale") {
		t.Fatalf("resolution %q %v", r, ok)
	}
}

func TestUnmatchedLineRaisedAndLateTenderResolvesIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddLines(line(2, 4250, 0, "ch_1"))
	b.run(t)
	ctx := context.Background()
	if err := b.e.Review(ctx, day0.Add(10*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	open := b.exc.Open()
	if len(open) != 1 || evidence(open[0])["sub_kind"] != SubKindUnmatchedLine || evidence(open[0])["payment_reference"] != "ch_1" {
		t.Fatalf("open %+v", open)
	}
	b.e.AddTenders(tender("sale-1", 4250, "ch_1")) // the store's edge was offline
	b.run(t)
	if _, ok := b.exc.Resolved(open[0].Key); !ok {
		t.Fatalf("not resolved: %+v", b.exc.Open())
	}
}

func TestFedTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ts := []Tender{tender("sale-1", 4250, "ch_1"), tender("sale-2", 1000, "")}
	noRef := line(3, 1000, 0, "")
	noRef.Refs.CardLastFour = "4242"
	ls := []Line{line(2, 4250, 0, "ch_1"), noRef}
	b.e.AddTenders(ts...)
	b.e.AddLines(ls...)
	b.run(t)
	b.e.AddTenders(ts...)
	b.e.AddLines(ls...)
	b.run(t)
	s := b.e.Summary()
	if s.Tenders != 2 || s.Lines != 2 || s.DuplicateTenders != 2 || s.DuplicateLines != 2 || s.Matches != 2 || s.OpenLines != 0 || s.OpenTenders != 0 {
		t.Fatalf("summary after feeding twice: %+v", s)
	}
}

func TestAmbiguousCardCandidatesStayOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, c := tender("sale-1", 1000, ""), tender("sale-2", 1000, "")
	a.AuthCode, c.AuthCode = "", ""
	b.e.AddTenders(a, c)
	l := line(2, 1000, 0, "")
	l.Refs.CardLastFour = "4242"
	b.e.AddLines(l)
	b.run(t)
	if n := len(b.matches()); n != 0 {
		t.Fatalf("guessed between two equal tenders: %+v", b.matches())
	}
}

func TestTendersFromEvent(t *testing.T) {
	t.Parallel()
	sale := &event.Event{ID: "ev-1", Type: event.TypeSale, Location: "store-42", Zone: "Europe/Berlin", OccurredAt: day0,
		Attributes: map[string]string{"processor": "adyen"},
		Body: &event.Sale{Currency: "EUR", Tenders: []event.Tender{
			{Kind: event.TenderCash, Amount: 500},
			{Kind: event.TenderCard, Amount: 4000, Tip: 300, Reference: "psp-1", Card: &event.Card{Last4: "4242", AuthCode: "A1"}},
		}}}
	ts := TendersFromEvent(sale)
	if len(ts) != 1 || ts[0].Index != 1 || ts[0].Total() != 4300 || ts[0].Processor != "adyen" || ts[0].Last4 != "4242" {
		t.Fatalf("sale tenders %+v", ts)
	}
	ret := &event.Event{ID: "ev-2", Type: event.TypeReturn, Location: "store-42", OccurredAt: day0,
		Body: &event.Return{Currency: "EUR", Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 4000}}}}
	if ts := TendersFromEvent(ret); len(ts) != 1 || ts[0].Amount != -4000 {
		t.Fatalf("return tenders %+v", ts)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Tolerance, c.MaxFeeBP = -1, 10000
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "tolerance") || !strings.Contains(err.Error(), "max_fee_bp") {
		t.Fatalf("Validate = %v", err)
	}
}

// evidence is the engine's evidence of x.
func evidence(x exception.Exception) map[string]string {
	ev, _ := x.Evidence.(map[string]string)
	return ev
}
