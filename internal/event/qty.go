package event

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// QtyScale is the number of Qty units in one whole item: quantities keep three
// decimal places, enough for grams of a product sold by the kilogram.
const QtyScale = 1000

// Qty is a fixed-point quantity in thousandths of a unit. One item is
// Qty(1000); 0.25 kg is Qty(250). It is never a float.
type Qty int64

// Units returns a quantity of n whole units.
func Units(n int64) Qty { return Qty(n * QtyScale) }

// ParseQty parses a decimal quantity such as "2", "-1", "0.250" exactly.
// More than three decimal places is an error, not a rounding.
func ParseQty(s string) (Qty, error) {
	if s == "" {
		return 0, errors.New("empty quantity")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("quantity %q has no digits", s)
	}
	if hasDot && frac == "" {
		return 0, fmt.Errorf("quantity %q ends in a decimal point", s)
	}
	if strings.ContainsAny(s, "eE") {
		return 0, fmt.Errorf("quantity %q uses an exponent; write it as a plain decimal", s)
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("quantity %q is not a decimal number", s)
			}
		}
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 3 {
		return 0, fmt.Errorf("quantity %q has more than 3 decimal places", s)
	}
	var f int64
	if frac != "" {
		padded := frac + strings.Repeat("0", 3-len(frac))
		v, _ := strconv.ParseInt(padded, 10, 64) // three digits, cannot fail
		f = v
	}
	var w int64
	if whole != "" {
		v, err := strconv.ParseInt(whole, 10, 64)
		// w×QtyScale + f must fit: "9223372036854775.999" would wrap.
		if err != nil || v > (math.MaxInt64-f)/QtyScale {
			return 0, fmt.Errorf("quantity %q is out of range", s)
		}
		w = v
	}
	q := w*QtyScale + f
	if neg {
		q = -q
	}
	return Qty(q), nil
}

// String formats the quantity as a minimal decimal: "2", "-1.5", "0.25".
func (q Qty) String() string {
	// The magnitude is unsigned so that -MinInt64 does not wrap.
	n := uint64(q) //nolint:gosec // G115: two's complement on purpose; negated below
	sign := ""
	if q < 0 {
		sign = "-"
		n = -n
	}
	whole, frac := n/QtyScale, n%QtyScale
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	fs := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	return sign + strconv.FormatUint(whole, 10) + "." + fs
}

// MarshalJSON writes the quantity as a JSON number with at most three decimals.
func (q Qty) MarshalJSON() ([]byte, error) { return []byte(q.String()), nil }

// invalidQty marks a quantity that did not parse; like invalidAmount it lets
// validation name the field instead of failing the whole decode.
const invalidQty = Qty(math.MinInt64)

// UnmarshalJSON accepts a JSON number or a decimal string ("0.250"), exactly.
// A value that is not an exact decimal with at most three places decodes to a
// marker that Validate reports with the field's path.
func (q *Qty) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) >= 2 && b[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			*q = invalidQty
			return nil //nolint:nilerr // by design: Validate reports the marker with the field's path
		}
		s = u
	}
	v, err := ParseQty(s)
	if err != nil {
		*q = invalidQty
		return nil //nolint:nilerr // by design: Validate reports the marker with the field's path
	}
	*q = v
	return nil
}

// MulMinor returns q × unit price in minor units, rounded half away from zero.
// It reports false if the product overflows.
func (q Qty) MulMinor(unit int64) (int64, bool) {
	a, b := int64(q), unit
	if a != 0 && b != 0 {
		p := a * b
		// p/b != a catches every overflow except MinInt64 × -1, whose
		// wrapped product divides back to MinInt64.
		if p/b != a || (a == math.MinInt64 && b == -1) {
			return 0, false
		}
		r := p / QtyScale
		rem := p % QtyScale
		if rem >= QtyScale/2 {
			r++
		} else if rem <= -QtyScale/2 {
			r--
		}
		return r, true
	}
	return 0, true
}

// UnmarshalText parses a decimal quantity (for configuration files).
func (q *Qty) UnmarshalText(b []byte) error {
	v, err := ParseQty(string(b))
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// MarshalText formats the quantity as a decimal.
func (q Qty) MarshalText() ([]byte, error) { return []byte(q.String()), nil }
