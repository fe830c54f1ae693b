package settlement_test

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

func TestDecimalParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		d    settlement.Decimal
		exp  int
		want int64
		err  string
	}{
		{"1234.50", settlement.Decimal{}, 2, 123450, ""},
		{"-0.01", settlement.Decimal{}, 2, -1, ""},
		{"+7", settlement.Decimal{}, 2, 700, ""},
		{".5", settlement.Decimal{}, 2, 50, ""},
		{"1.500", settlement.Decimal{}, 2, 150, ""},
		{"1000", settlement.Decimal{}, 0, 1000, ""},
		{"1.000", settlement.Decimal{}, 0, 1, ""},
		{"0.125", settlement.Decimal{}, 3, 125, ""},
		{"1.234,56", settlement.Decimal{Comma: true, Grouping: true}, 2, 123456, ""},
		{"1,234,567.8", settlement.Decimal{Grouping: true}, 2, 123456780, ""},
		{"92233720368547758.07", settlement.Decimal{}, 2, math.MaxInt64, ""},
		{"-92233720368547758.07", settlement.Decimal{}, 2, -math.MaxInt64, ""},
		{"92233720368547758.08", settlement.Decimal{}, 2, 0, "too large"},
		{"1.005", settlement.Decimal{}, 2, 0, "more decimals"},
		{"12,50", settlement.Decimal{}, 2, 0, "decimal mark"},
		{"12,50", settlement.Decimal{Grouping: true}, 2, 0, "grouped in threes"},
		{"1,23,456", settlement.Decimal{Grouping: true}, 2, 0, "grouped in threes"},
		{"1.", settlement.Decimal{}, 2, 0, "not a number"},
		{"1e3", settlement.Decimal{}, 2, 0, "not a number"},
		{"", settlement.Decimal{}, 2, 0, "empty"},
		{"-", settlement.Decimal{}, 2, 0, "not a number"},
		{"1.2.3", settlement.Decimal{}, 2, 0, "not a number"},
	}
	for _, c := range cases {
		got, err := c.d.Parse(c.in, c.exp)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int64
		exp  int
		want string
	}{{-1250, 2, "-12.50"}, {5, 3, "0.005"}, {1500, 0, "1500"}, {math.MinInt64, 2, "-92233720368547758.08"}} {
		if got := settlement.FormatMinor(c.n, c.exp); got != c.want {
			t.Errorf("FormatMinor(%d, %d) = %q, want %q", c.n, c.exp, got, c.want)
		}
	}
}

func TestDates(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2026-03-02", "2026-03-02T14:05:06", "2026-03-02T14:05:06.5", "2026-03-02T14:05:06+01:00", "2026-03-02T14:05:06Z"} {
		d, err := settlement.ParseISODate(s)
		if err != nil || d.String() != s {
			t.Errorf("%q: %q, %v", s, d, err)
		}
		b, _ := json.Marshal(struct {
			D settlement.Date `json:"d,omitzero"`
		}{d})
		var back struct{ D settlement.Date }
		if err := json.Unmarshal(b, &back); err != nil || !back.D.Equal(d) {
			t.Errorf("%q: JSON %s read back as %q, %v", s, b, back.D, err)
		}
	}
	if d, err := settlement.ParseISODate("2026-03-02+01:00"); err != nil || d.String() != "2026-03-02" {
		t.Errorf("xs:date with zone: %q, %v", d, err)
	}
	for _, bad := range []string{"2026-02-30", "02.03.2026", "2026-03-02T25:00:00", "2026-03-02X"} {
		if _, err := settlement.ParseISODate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	berlin := time.FixedZone("CET", 3600)
	d, err := settlement.ParseDateLayouts("02.03.2026 14:05", berlin, "02.01.2006 15:04")
	if err != nil || d.String() != "2026-03-02T14:05:00+01:00" {
		t.Errorf("layout with zone: %q, %v", d, err)
	}
	d, err = settlement.ParseDateLayouts("02.03.2026 14:05", nil, "02.01.2006 15:04")
	if err != nil || d.HasZone() || d.String() != "2026-03-02T14:05:00" {
		t.Errorf("layout without zone: %q, %v", d, err)
	}
	if b, _ := json.Marshal(struct {
		D settlement.Date `json:"d,omitzero"`
	}{}); string(b) != "{}" {
		t.Errorf("zero date marshals as %s", b)
	}
}

func TestMaskPANs(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"4111111111111111":                          "************1111",
		"card 4111 1111 1111 1111 ok":               "card **** **** **** 1111 ok",
		"card 5555-5555-5555-4444.":                 "card ****-****-****-4444.",
		"x4111111111111111":                         "x4111111111111111", // part of a token
		"4111111111111112":                          "4111111111111112",  // fails Luhn
		"DE89370400440532013000":                    "DE89370400440532013000",
		"ref 12345678901234567890123 end":           "ref 12345678901234567890123 end", // too long for a card
		"378282246310005 amex":                      "***********0005 amex",
		"two 4111111111111111 and 4242424242424242": "two ************1111 and ************4242",
	}
	for in, want := range cases {
		if got := settlement.MaskPANs(in); got != want {
			t.Errorf("MaskPANs(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"4111111111111111": "1111", "**** 4242": "4242", "123": "", "12X34": "", "1234 (visa)": "1234", "xxxx-xxxx-xxxx-0005": "0005"} {
		if got := settlement.LastFour(in); got != want {
			t.Errorf("LastFour(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlaces(t *testing.T) {
	t.Parallel()
	cases := map[string]settlement.Place{
		"record 49 at line 37":                   {Record: "49", Line: 37},
		`line 12, column "gross"`:                {Line: 12, Column: "gross"},
		"element Stmt[1]/Ntry[3]/Amt at line 45": {Element: "Stmt[1]/Ntry[3]/Amt", Line: 45},
		"line 3":                                 {Line: 3},
		"":                                       {},
	}
	for want, p := range cases {
		if got := p.String(); got != want {
			t.Errorf("%+v: %q, want %q", p, got, want)
		}
	}
	err := settlement.Errorf(settlement.FormatBAI2, "f.bai", settlement.Place{Record: "16", Line: 12}, "amount %q is not a number", "1x")
	if err.Error() != `bai2: f.bai: record 16 at line 12: amount "1x" is not a number` {
		t.Errorf("error reads %q", err)
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	tally := settlement.NewTally(settlement.FormatCSV, "f")
	emit := func(settlement.Transaction) error { return nil }
	tx := settlement.Transaction{Format: settlement.FormatCSV, Amount: math.MaxInt64, Currency: "EUR", Direction: settlement.Credit, Type: settlement.TypeOther, Line: 2}
	if err := tally.Emit(emit, tx); err != nil {
		t.Fatal(err)
	}
	tx.Line = 3
	err := tally.Emit(emit, tx)
	var pe *settlement.Error
	if !errors.As(err, &pe) || pe.Place.Line != 3 || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("overflow not reported at its line: %v", err)
	}
	tally.Mismatch(settlement.Place{Line: 9}, "net %d but %d", 1, 2)
	sum, err := tally.Result()
	if !errors.Is(err, settlement.ErrControlTotals) || sum.ControlTotalsOK || sum.ControlTotalsChecked != 1 || sum.Transactions != 1 {
		t.Errorf("summary %+v, %v", sum, err)
	}
	if err := settlement.Verify([]settlement.Transaction{{Format: settlement.FormatCSV, Amount: math.MaxInt64, Currency: "EUR", Direction: settlement.Credit, Type: settlement.TypeOther}}, sum); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestVerifyFindsFaults(t *testing.T) {
	t.Parallel()
	bad := []settlement.Transaction{{
		Format: settlement.FormatCSV, Amount: -5, Currency: "EUR", Direction: settlement.Credit, Type: "cash",
		Description: "card 4111111111111111", References: settlement.References{CardLastFour: "11111"},
	}}
	err := settlement.Verify(bad, settlement.Summary{Transactions: 2, ControlTotalsOK: true})
	for _, want := range []string{"a credit of -5", `type "cash"`, "card number in the description", "card_last4", "counts 2 transactions", "EUR totals"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Verify missed %q: %v", want, err)
		}
	}
}

func TestSignedAndMoney(t *testing.T) {
	t.Parallel()
	tx := settlement.Transaction{Amount: settlement.Signed(1250, settlement.Debit), Currency: "EUR"}
	if tx.Money() != (event.Money{Amount: -1250, Currency: "EUR"}) || settlement.DirectionOf(tx.Amount) != settlement.Debit {
		t.Errorf("%+v", tx)
	}
}

// Columns resolves names once, as the header does (case and spaces
// ignored, the first of duplicates); reading a row is then by position.
func TestHeaderColumns(t *testing.T) {
	t.Parallel()
	h := settlement.NewHeader([]string{" Currency ", "NET", "net", "", "Card Number"})
	cols := h.Columns("currency", "Net", "gross", "card number")
	if want := (settlement.Columns{0, 1, -1, 4}); !slices.Equal(cols, want) {
		t.Fatalf("columns = %v, want %v", cols, want)
	}
	rec := []string{" eur ", "41.86", "99", "x"} // shorter than the header
	for i, want := range []string{"eur", "41.86", "", ""} {
		if got := cols.Get(rec, i); got != want {
			t.Errorf("column %d = %q, want %q", i, got, want)
		}
		if got := h.Get(rec, []string{"currency", "net", "gross", "card number"}[i]); got != want {
			t.Errorf("Header.Get of column %d = %q, want %q (same as Columns)", i, got, want)
		}
	}
	if cols.Has(2) || !cols.Has(3) || h.Index("gross") != -1 || settlement.Field(rec, -1) != "" {
		t.Error("a missing column is present")
	}
}
