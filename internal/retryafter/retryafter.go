// Package retryafter reads the HTTP Retry-After header (RFC 9110 §10.2.3):
// how long a server asks a client to wait, as delay-seconds or an
// HTTP-date. Every outbound client of tillsync (ERP connectors, channel
// and webhook destinations, source API clients) reads it here, so one
// hostile or broken answer cannot turn into a negative, overflowing or
// endless pause anywhere.
package retryafter

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Max is the longest delay Parse returns. A server asking for more (a
// misconfigured receiver answering "Retry-After: 99999999") would
// otherwise stop a destination for years; an hour is longer than any
// documented ERP or commerce API throttle window, and a destination that
// is still refused after it is retried again.
const Max = time.Hour

// Parse returns the delay v asks for at now: 0 when v is empty, malformed
// or a date already past; never negative; at most Max. Delay-seconds may
// carry a fraction ("1.5", as Shopify sends): it is honoured rather than
// rejected.
func Parse(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if !(s > 0) || math.IsInf(s, 0) { // also NaN
			if math.IsInf(s, 1) {
				return Max
			}
			return 0
		}
		if s >= Max.Seconds() {
			return Max
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), Max)
	}
	return 0
}
