package netsuite

import (
	"encoding/json"
	"math"
	"regexp"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

func TestMoneyIsExactInTheCurrencysPrecision(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{12900, "EUR", "129.00"},
		{0, "EUR", "0.00"},
		{5, "EUR", "0.05"},
		{-1, "EUR", "-0.01"},
		{-12345, "USD", "-123.45"},
		{500, "JPY", "500"},
		{-7, "JPY", "-7"},
		{1234, "KWD", "1.234"},
		{1, "KWD", "0.001"},
		{12345, "UYW", "1.2345"},
		{math.MaxInt64, "EUR", "92233720368547758.07"},
		{math.MinInt64, "EUR", "-92233720368547758.08"},
	} {
		got, err := money(tc.minor, tc.currency)
		if err != nil || string(got) != tc.want {
			t.Errorf("money(%d, %s) = %q, %v; want %q", tc.minor, tc.currency, got, err, tc.want)
		}
	}
	if _, err := money(100, "XXX"); err == nil {
		t.Error("an unknown currency was formatted")
	}
	if _, err := money(100, ""); err == nil {
		t.Error("an amount without a currency was formatted")
	}
}

func TestMoneyIsAJSONNumber(t *testing.T) {
	t.Parallel()
	n, _ := money(12900, "EUR")
	b, err := json.Marshal(struct {
		Amount json.Number `json:"amount"`
	}{n})
	if err != nil || string(b) != `{"amount":129.00}` {
		t.Fatalf("encoded %s, %v", b, err)
	}
}

func TestQuantity(t *testing.T) {
	t.Parallel()
	for q, want := range map[event.Qty]string{event.Units(2): "2", 250: "0.25", -event.Units(1): "-1", 1: "0.001"} {
		if got := quantity(q); string(got) != want {
			t.Errorf("quantity(%d) = %s, want %s", q, got, want)
		}
	}
}

func TestExternalID(t *testing.T) {
	t.Parallel()
	safe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	for _, id := range []string{"store-1-r1-sale-000001", "conf-cash_sale", "01HZX3K4Q9"} {
		if got := externalID(id); got != id {
			t.Errorf("externalID(%q) = %q; a NetSuite-safe ID must stay as it is", id, got)
		}
	}
	seen := map[string]string{}
	for _, id := range []string{"shop:order#1", "shop/order#1", "shop-order-1", "a.b@c", "a:b", "a/b", ""} {
		got := externalID(id)
		if !safe.MatchString(got) {
			t.Errorf("externalID(%q) = %q is not NetSuite-safe", id, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("externalID(%q) = externalID(%q) = %q", id, other, got)
		}
		seen[got] = id
		if again := externalID(id); again != got {
			t.Errorf("externalID(%q) is not stable: %q then %q", id, got, again)
		}
	}
}
