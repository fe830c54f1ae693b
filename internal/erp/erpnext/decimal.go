package erpnext

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
)

// priceDigits is how many decimals a rate keeps when the till's line amount
// does not divide evenly by the quantity (weighed goods); ERPNext rounds it
// to the site's currency precision.
const priceDigits = 6

// exponent is the currency's minor-unit exponent (2 for EUR).
func exponent(currency string) (int, error) {
	exp, ok := event.MinorUnits(currency)
	if !ok {
		return 0, erpPermanent("unknown currency %q", currency)
	}
	return exp, nil
}

// money formats minor units as an exact decimal JSON number: 129000 at
// exponent 2 is 1290.00. Never a float: JSON numbers are written as text.
func money(minor int64, exp int) json.Number {
	n := uint64(minor) //nolint:gosec // G115: two's complement on purpose; negated below
	sign := ""
	if minor < 0 {
		sign, n = "-", -n
	}
	if exp == 0 {
		return json.Number(sign + strconv.FormatUint(n, 10))
	}
	div := uint64(1)
	for range exp {
		div *= 10
	}
	return json.Number(fmt.Sprintf("%s%d.%0*d", sign, n/div, exp, n%div))
}

// quantity formats a fixed-point quantity exactly: "2", "0.25".
func quantity(q event.Qty) json.Number { return json.Number(q.String()) }

// unitPrice is amount ÷ quantity as a decimal: exact when it terminates
// within priceDigits decimals, otherwise rounded half away from zero there.
// It keeps at least the currency's decimals ("10.00").
func unitPrice(amount int64, q event.Qty, exp int) json.Number {
	if q == 0 {
		return money(0, exp)
	}
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(event.QtyScale))
	den := new(big.Int).Mul(big.NewInt(int64(q)), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
	s := new(big.Rat).SetFrac(num, den).FloatString(priceDigits)
	keep := strings.IndexByte(s, '.') + 1 + exp
	for len(s) > keep && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return json.Number(strings.TrimSuffix(s, "."))
}
