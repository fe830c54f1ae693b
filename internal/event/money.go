package event

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Amount is money in integer minor units (cents, pence, yen) of the currency
// of the document it belongs to. It is never a float: a JSON amount with a
// fraction is rejected rather than rounded.
type Amount int64

// invalidAmount marks an amount that did not decode as an integer. Decoding
// never fails on a bad value so that validation can name the field's full
// path ("data.lines[2].unit_price") and the rule it broke.
const invalidAmount = Amount(math.MinInt64)

// UnmarshalJSON accepts only a JSON integer; anything else decodes to a value
// that Validate reports.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		*a = invalidAmount
		return nil //nolint:nilerr // by design: Validate reports the marker with the field's path
	}
	*a = Amount(v)
	return nil
}

// Money is an amount together with its ISO 4217 currency.
type Money struct {
	Amount   Amount `json:"amount"`
	Currency string `json:"currency"`
}

// String formats money for people, using the currency's minor-unit exponent:
// "129.00 EUR", "500 JPY".
func (m Money) String() string {
	exp, ok := MinorUnits(m.Currency)
	if !ok || exp == 0 {
		return fmt.Sprintf("%d %s", m.Amount, m.Currency)
	}
	// The magnitude is unsigned so that -MinInt64 does not wrap.
	n := uint64(m.Amount) //nolint:gosec // G115: two's complement on purpose; negated below
	sign := ""
	if m.Amount < 0 {
		sign, n = "-", -n
	}
	div := uint64(1)
	for range exp {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, n/div, exp, n%div, m.Currency)
}
