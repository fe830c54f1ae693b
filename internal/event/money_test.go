package event_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

func TestAmountJSONAcceptsIntegers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want event.Amount
	}{
		{`1299`, 1299},
		{`0`, 0},
		{`-0`, 0},
		{`-250`, -250},
		{` 42 `, 42},
		{`9223372036854775807`, math.MaxInt64},
	}
	for _, tt := range tests {
		var a event.Amount
		if err := json.Unmarshal([]byte(tt.in), &a); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		if a != tt.want {
			t.Errorf("Unmarshal(%s) = %d, want %d", tt.in, a, tt.want)
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if again := strings.TrimSpace(tt.in); string(b) != again && tt.in != `-0` {
			t.Errorf("Marshal(%d) = %s, want %s", a, b, again)
		}
	}
}

// saleJSON is a valid sale with one line of 2 × 12.99 paid by card; repl
// replaces a placeholder of the form {{name}} with a JSON value.
func saleJSON(repl map[string]string) string {
	s := `{"id":"sale-1","type":"sale","location":"s1","source":"pos",
		"occurred_at":"2026-11-27T10:15:00+01:00","zone":"Europe/Berlin",
		"data":{"currency":"EUR",
			"lines":[{"sku":"JKT","quantity":2,"unit_price":{{unit_price}},"amount":{{amount}},
				"discounts":[{"amount":{{discount}},"reason":"staff"}],
				"taxes":[{"code":"VAT","rate_bp":1900,"amount":{{tax}},"included":true}]}],
			"tenders":[{"kind":"card","amount":{{tender}},"tip":{{tip}}}]}}`
	defaults := map[string]string{
		"unit_price": "1299", "amount": "null", "discount": "0", "tax": "415", "tender": "2598", "tip": "0",
	}
	for k, v := range defaults {
		if r, ok := repl[k]; ok {
			v = r
		}
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// TestAmountJSONRejectsNonIntegers checks that an amount which is not a JSON
// integer never fails the decode, but is reported by Validate naming the full
// path and the rule integer_minor_units.
func TestAmountJSONRejectsNonIntegers(t *testing.T) {
	t.Parallel()
	bad := []string{`12.99`, `1299.0`, `"1299"`, `true`, `false`, `null`, `1e3`, `{}`, `[]`, `""`,
		`99999999999999999999`, `-9223372036854775809`}
	fields := []struct {
		placeholder string
		path        string
	}{
		{"unit_price", "data.lines[0].unit_price"},
		{"amount", "data.lines[0].amount"},
		{"discount", "data.lines[0].discounts[0].amount"},
		{"tax", "data.lines[0].taxes[0].amount"},
		{"tender", "data.tenders[0].amount"},
		{"tip", "data.tenders[0].tip"},
	}
	if err := decode(t, saleJSON(nil)).Validate(); err != nil {
		t.Fatalf("the unmodified sale is invalid: %v", err)
	}
	for _, f := range fields {
		for _, v := range bad {
			if f.placeholder == "amount" && v == "null" {
				continue // the optional line amount may be null
			}
			t.Run(f.placeholder+"="+v, func(t *testing.T) {
				t.Parallel()
				e := decode(t, saleJSON(map[string]string{f.placeholder: v}))
				assertProblems(t, e.Validate(), problem{f.path, "integer_minor_units"})
			})
		}
	}
}

func TestAmountJSONDrawerCount(t *testing.T) {
	t.Parallel()
	raw := `{"id":"dc-1","type":"drawer_count","location":"s1","source":"pos",
		"occurred_at":"2026-11-27T18:00:00Z","zone":"Europe/Berlin",
		"data":{"register":"r1","currency":"EUR","counted":100.5,"expected":"100"}}`
	assertProblems(t, decode(t, raw).Validate(),
		problem{"data.counted", "integer_minor_units"}, problem{"data.expected", "integer_minor_units"})
}

func TestMoneyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    event.Money
		want string
	}{
		{event.Money{Amount: 12900, Currency: "EUR"}, "129.00 EUR"},
		{event.Money{Amount: 5, Currency: "EUR"}, "0.05 EUR"},
		{event.Money{Amount: -1299, Currency: "USD"}, "-12.99 USD"},
		{event.Money{Amount: -5, Currency: "USD"}, "-0.05 USD"},
		{event.Money{Amount: 500, Currency: "JPY"}, "500 JPY"},
		{event.Money{Amount: 1234, Currency: "KWD"}, "1.234 KWD"},
		{event.Money{Amount: 12345, Currency: "UYW"}, "1.2345 UYW"},
		{event.Money{Amount: 77, Currency: "XXX"}, "77 XXX"},
		{event.Money{Amount: math.MinInt64, Currency: "EUR"}, "-92233720368547758.08 EUR"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Money{%d, %s}.String() = %q, want %q", tt.m.Amount, tt.m.Currency, got, tt.want)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   string
		want   int
		wantOK bool
	}{
		{"EUR", 2, true}, {"JPY", 0, true}, {"KWD", 3, true}, {"UYW", 4, true},
		{"eur", 0, false}, {"XAU", 0, false}, {"", 0, false}, {"EURO", 0, false},
	}
	for _, tt := range tests {
		got, ok := event.MinorUnits(tt.code)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("MinorUnits(%q) = %d, %v; want %d, %v", tt.code, got, ok, tt.want, tt.wantOK)
		}
	}
}

// decode unmarshals one event or fails the test.
func decode(t *testing.T, raw string) *event.Event {
	t.Helper()
	var e event.Event
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatalf("decode: %v\n%s", err, raw)
	}
	return &e
}
