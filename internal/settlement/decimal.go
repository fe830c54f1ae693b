package settlement

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
)

// Decimal says how a file writes decimal numbers. The zero value reads
// "1234.50": '.' is the decimal mark and nothing groups thousands.
type Decimal struct {
	// Comma makes ',' the decimal mark ("1234,50").
	Comma bool
	// Grouping allows thousands separators, the other mark from the decimal
	// one, in groups of exactly three ("1,234.50"; with Comma "1.234,50").
	// Without it a number with the other mark is an error, so "12,50" is never
	// silently read as 1250.
	Grouping bool
}

// Parse reads s, an amount in major units with an optional leading sign,
// into minor units of a currency with exp decimals, exactly: more decimals
// than exp is an error unless the extra digits are zeros.
func (d Decimal) Parse(s string, exp int) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	mark, group := byte('.'), byte(',')
	if d.Comma {
		mark, group = ',', '.'
	}
	whole, frac, hasMark := strings.Cut(s, string(mark))
	if hasMark && (frac == "" || strings.IndexByte(frac, mark) >= 0) {
		return 0, fmt.Errorf("%q is not a number", orig)
	}
	if strings.IndexByte(whole, group) >= 0 {
		if !d.Grouping {
			return 0, fmt.Errorf("%q is not a number (%q is not this file's decimal mark)", orig, string(group))
		}
		parts := strings.Split(whole, string(group))
		if len(parts[0]) == 0 || len(parts[0]) > 3 {
			return 0, fmt.Errorf("%q: thousands are not grouped in threes", orig)
		}
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return 0, fmt.Errorf("%q: thousands are not grouped in threes", orig)
			}
		}
		whole = strings.Join(parts, "")
	}
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%q is not a number", orig)
	}
	if !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("%q is not a number", orig)
	}
	if exp < 0 || exp > 18 {
		return 0, fmt.Errorf("a currency with %d decimals is not supported", exp)
	}
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return 0, fmt.Errorf("%q has more decimals than the currency's %d", orig, exp)
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, ok := parseUint(whole + frac)
	if !ok {
		return 0, fmt.Errorf("%q is too large", orig)
	}
	if neg {
		return -n, nil
	}
	return n, nil
}

// ParseAmount reads "1234.50" (no grouping) into minor units; see
// Decimal.Parse.
func ParseAmount(s string, exp int) (int64, error) { return Decimal{}.Parse(s, exp) }

// ParseMoney reads an amount in major units of an ISO 4217 currency into
// minor units of it.
func ParseMoney(s, currency string, d Decimal) (event.Amount, error) {
	exp, ok := event.MinorUnits(currency)
	if !ok {
		return 0, fmt.Errorf("%q is not an ISO 4217 currency code", currency)
	}
	n, err := d.Parse(s, exp)
	return event.Amount(n), err
}

// digits reports whether s is only ASCII digits (true for "").
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseUint reads decimal digits into a non-negative int64, refusing
// overflow (and MinInt64's magnitude, so that negation is always safe).
func parseUint(s string) (int64, bool) {
	var n int64
	for i := 0; i < len(s); i++ {
		c := int64(s[i] - '0')
		if n > (math.MaxInt64-c)/10 {
			return 0, false
		}
		n = n*10 + c
	}
	return n, true
}

// CheckDecimal reports whether s is a plain decimal number ("1", "-0.5",
// "1.0838"), for values kept as text such as exchange rates.
func CheckDecimal(s string) error {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, hasMark := strings.Cut(t, ".")
	if t == "" || (hasMark && frac == "") || whole+frac == "" || !digits(whole) || !digits(frac) {
		return fmt.Errorf("%q is not a decimal number", s)
	}
	return nil
}

// FormatMinor writes minor units as a decimal in major units ("-12.50" for
// -1250 with exp 2).
func FormatMinor(n int64, exp int) string {
	// The magnitude is unsigned so that -MinInt64 does not wrap.
	u := uint64(n) //nolint:gosec // G115: two's complement on purpose; negated below
	sign := ""
	if n < 0 {
		sign, u = "-", -u
	}
	if exp <= 0 || exp > 18 {
		return sign + strconv.FormatUint(u, 10)
	}
	div := uint64(1)
	for range exp {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", sign, u/div, exp, u%div)
}

// FormatMoney writes minor units of a currency as "12.50 EUR".
func FormatMoney(n int64, currency string) string {
	return event.Money{Amount: event.Amount(n), Currency: currency}.String()
}

// Add returns a+b, or false if the sum overflows int64.
func Add(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// Sub returns a−b, or false if the difference overflows int64.
func Sub(a, b int64) (int64, bool) {
	if b == math.MinInt64 {
		return 0, false
	}
	return Add(a, -b)
}
