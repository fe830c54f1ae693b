package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	HeaderSignature = "X-Tillsync-Signature" // "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderTimestamp = "X-Tillsync-Timestamp" // Unix seconds when the attempt was signed
	HeaderDelivery  = "X-Tillsync-Delivery"  // stable across retries of one delivery
)

// Sign returns the signature header value for a body signed at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors returned by Verify.
var (
	ErrNoSignature = errors.New("webhook: missing signature or timestamp header")
	ErrStale       = errors.New("webhook: timestamp outside the tolerance")
	ErrBadSig      = errors.New("webhook: signature does not match")
)

// Verify checks a delivery's signature over the raw body, in constant time,
// and that it was signed within tolerance of now (replay protection).
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sig, tsText := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if sig == "" || tsText == "" {
		return ErrNoSignature
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: timestamp %q: %w", tsText, err)
	}
	ts := time.Unix(unix, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := Sign(secret, ts, body)
	for _, part := range strings.Split(sig, ",") { // several during a secret rotation
		if hmac.Equal([]byte(strings.TrimSpace(part)), []byte(want)) {
			return nil
		}
	}
	return ErrBadSig
}
