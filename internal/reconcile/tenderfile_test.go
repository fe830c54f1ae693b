package reconcile

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

func TestTenderCSVRoundTrip(t *testing.T) {
	t.Parallel()
	in := []Tender{tender("sale-1", 4250, "ch_1"), tender("sale,2", -1000, "re_\"x\"")}
	in[0].Tip, in[0].Processor = 150, "stripe"
	var buf bytes.Buffer
	w, err := NewTenderWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var out []Tender
	if err := ReadTenders(&buf, "tenders.csv", func(t Tender) error { out = append(out, t); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("read %d tenders", len(out))
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("tender %d\n got %+v\nwant %+v", i, out[i], in[i])
		}
	}
}

func TestTenderCSVErrorsNameLineAndColumn(t *testing.T) {
	t.Parallel()
	hdr := strings.Join(TenderColumns, ",") + "\n"
	for _, tc := range []struct{ body, want string }{
		{"sale-1,0,s,,,2026-03-02T14:05:00Z,EUR,42.505,,,,\n", "t.csv line 2 column amount"},
		{"sale-1,0,s,,,yesterday,EUR,42.50,,,,\n", "t.csv line 2 column at"},
		{"sale-1,0,s,,,2026-03-02T14:05:00Z,EUR,1,,,,\nsale-2,x,s,,,2026-03-02T14:05:00Z,EUR,1,,,,\n", "t.csv line 3 column tender"},
		{"sale-1,0,s,,,2026-03-02T14:05:00Z,XXX,1,,,,\n", "column currency: \"XXX\" is not an ISO 4217"},
	} {
		err := ReadTenders(strings.NewReader(hdr+tc.body), "t.csv", func(Tender) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.body, err, tc.want)
		}
	}
	if err := ReadTenders(strings.NewReader("a,b\n"), "t.csv", func(Tender) error { return nil }); err == nil || !strings.Contains(err.Error(), "no event column") {
		t.Errorf("bad header: %v", err)
	}
}

func TestReadTendersFromEventLines(t *testing.T) {
	t.Parallel()
	e := &event.Event{ID: "ev-1", Type: event.TypeSale, Location: "store-42", Zone: "UTC", Source: "pos", OccurredAt: day0, ReceivedAt: day0,
		Body: &event.Sale{Currency: "EUR", Lines: []event.SaleLine{{SKU: "A", Quantity: event.Units(1), UnitPrice: 4250}},
			Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 4250, Reference: "ch_1", Card: &event.Card{Last4: "4242"}}}}}
	b, _, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var out []Tender
	if err := ReadTenders(bytes.NewReader(append(b, '\n')), "events.jsonl", func(t Tender) error { out = append(out, t); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Reference != "ch_1" || out[0].Amount != 4250 {
		t.Fatalf("tenders %+v", out)
	}
}

// TestStripeReport matches tills against the Stripe parser's own test
// report: charges by reference, a refund, a chargeback to its sale.
func TestStripeReport(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../settlement/stripe/testdata/payouts_usd_eur_jpy.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	b := setup(t)
	var lines []Line
	if _, err := ReadSettlement(&stripe.Parser{File: "payouts.csv"}, f, func(l Line) error { lines = append(lines, l); return nil }); err != nil {
		t.Logf("parse: %v (control totals are the parser's business)", err)
	}
	b.e.AddLines(lines...)
	at := day0
	b.e.AddTenders(
		Tender{Event: "sale-10441", Location: "42", At: at, Amount: 10000, Currency: "USD", Reference: "ch_3PusdC1aZvKYlo2C0x9y8z7w"},
		Tender{Event: "return-10390", Location: "42", At: at, Amount: -4000, Currency: "USD", Reference: "re_3PusdE1aZvKYlo2C2r1e2f3u"},
		Tender{Event: "sale-10377", Location: "41", At: at.AddDate(0, 0, -20), Amount: 6000, Currency: "USD", Reference: "ch_3PuMbb1aZvKYlo2C3c3c3c3c"},
	)
	b.run(t)
	ms := b.matches()
	if len(ms[RuleReference]) != 2 {
		t.Errorf("reference matches: %+v", ms[RuleReference])
	}
	if cb := ms[RuleChargeback]; len(cb) != 1 || cb[0].Tenders[0].Event != "sale-10377" {
		t.Errorf("chargeback: %+v", cb)
	}
}

func TestParseMinorAgreesWithSettlement(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		exp  int
		want int64
		bad  bool
	}{
		{"42.50", 2, 4250, false}, {"-42.5", 2, -4250, false}, {"42", 2, 4200, false}, {".5", 2, 50, false},
		{"500", 0, 500, false}, {"1.234", 3, 1234, false}, {"42.505", 2, 0, true}, {"42.", 2, 0, true},
		{"4x", 2, 0, true}, {"", 2, 0, true}, {"-", 2, 0, true}, {"1.2.3", 2, 0, true}, {"42.500", 2, 4250, false},
		{"99999999999999999999", 2, 0, true},
	} {
		got, err := parseMinor([]byte(tc.in), tc.exp)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("parseMinor(%q, %d) = %d, %v; want %d, error %v", tc.in, tc.exp, got, err, tc.want, tc.bad)
		}
	}
}

func TestDuplicateInFirstLoad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := tender("sale-1", 4250, "ch_1")
	b.e.AddTenders(a, a, tender("sale-2", 100, "ch_2"))
	b.e.AddLines(line(2, 4250, 0, "ch_1"))
	b.run(t)
	s := b.e.Summary()
	if s.Tenders != 2 || s.DuplicateTenders != 1 || s.MatchedTenders != 1 || s.OpenTenders != 1 {
		t.Fatalf("summary %+v", s)
	}
}
