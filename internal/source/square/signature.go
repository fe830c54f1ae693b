package square

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// SignatureHeader carries Square's webhook signature.
const SignatureHeader = "X-Square-Hmacsha256-Signature"

// Sign returns the signature Square puts in SignatureHeader: the base64 of
// HMAC-SHA256, keyed with the subscription's signature key, over the
// notification URL followed by the raw body
// (https://developer.squareup.com/docs/webhooks/step3validate).
func Sign(key, notificationURL string, body []byte) string {
	return base64.StdEncoding.EncodeToString(mac(key, notificationURL, body))
}

func mac(key, notificationURL string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(notificationURL))
	m.Write(body)
	return m.Sum(nil)
}

// Verify reports whether sig signs body for notificationURL under any of
// keys. The comparison is constant-time, as Square asks (a timing attack
// could otherwise recover a valid signature byte by byte). An empty body or
// URL never verifies: Square always sends a JSON object, and a signature
// over the URL alone proves nothing about the notification.
func Verify(keys []string, notificationURL string, body []byte, sig string) bool {
	if len(body) == 0 || notificationURL == "" || sig == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	ok := false
	for _, k := range keys {
		if k == "" {
			continue
		}
		// hmac.Equal is constant-time; every key is tried, so the time
		// taken does not tell which one matched either.
		if hmac.Equal(mac(k, notificationURL, body), got) {
			ok = true
		}
	}
	return ok
}
