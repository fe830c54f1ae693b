package erpnext

import (
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

func TestDecimals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{string(money(129000, 2)), "1290.00"},
		{string(money(-5, 2)), "-0.05"},
		{string(money(500, 0)), "500"},
		{string(money(1234, 3)), "1.234"},
		{string(quantity(event.Qty(250))), "0.25"},
		{string(unitPrice(2000, event.Units(2), 2)), "10.00"},
		{string(unitPrice(1000, event.Units(3), 2)), "3.333333"}, // rounded at 6 decimals
		{string(unitPrice(2000, event.Units(3), 2)), "6.666667"}, // half away from zero
		{string(unitPrice(150, event.Qty(375), 2)), "4.00"},      // 1.50 for 0.375 kg
		{string(unitPrice(1000, event.Units(4), 0)), "250"},      // JPY
		{string(unitPrice(999, event.Units(2), 0)), "499.5"},
		{string(unitPrice(0, 0, 2)), "0.00"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	if _, err := exponent("XXX"); err == nil {
		t.Error("an unknown currency has an exponent")
	}
}
