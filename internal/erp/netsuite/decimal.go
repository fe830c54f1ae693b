package netsuite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
)

// money formats an amount in minor units as the decimal NetSuite expects
// in the currency's own precision: 12900 EUR is 129.00, 500 JPY is 500,
// 1234 KWD is 1.234. It is exact — integer arithmetic, no floats — and is
// written as a JSON number (json.Number), never a quoted string.
func money(minor int64, currency string) (json.Number, error) {
	exp, ok := event.MinorUnits(currency)
	if !ok {
		return "", fmt.Errorf("currency %q is not an ISO 4217 code tillsync knows, so its amounts cannot be written as decimals", currency)
	}
	return json.Number(decimal(minor, exp)), nil
}

// decimal writes n / 10^exp exactly.
func decimal(n int64, exp int) string {
	// The magnitude is unsigned so that -MinInt64 does not wrap.
	u := uint64(n) //nolint:gosec // G115: two's complement on purpose; negated below
	sign := ""
	if n < 0 {
		sign, u = "-", -u
	}
	digits := strconv.FormatUint(u, 10)
	if exp <= 0 {
		return sign + digits
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	cut := len(digits) - exp
	return sign + digits[:cut] + "." + digits[cut:]
}

// quantity writes a fixed-point quantity as a JSON number ("2", "0.25").
func quantity(q event.Qty) json.Number { return json.Number(q.String()) }

// externalID maps a tillsync external ID to a NetSuite one. NetSuite
// accepts letters, digits, "_" and "-" in external IDs used as eid: keys in
// URLs (Oracle, "Using External IDs":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156334828635.html);
// tillsync IDs may also hold ". : / @ #". IDs that fit are used as they are
// (so NetSuite shows the event ID itself); others keep their safe
// characters, the rest become "-", and a hash of the original is appended
// so two IDs that differ only in those characters never share a record.
func externalID(id string) string {
	safe := true
	for i := 0; i < len(id); i++ {
		if !eidChar(id[i]) {
			safe = false
			break
		}
	}
	if safe && id != "" {
		return id
	}
	b := []byte(id)
	for i, c := range b {
		if !eidChar(c) {
			b[i] = '-'
		}
	}
	sum := sha256.Sum256([]byte(id))
	return string(b) + "-x" + hex.EncodeToString(sum[:8])
}

func eidChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}
