package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Webhook headers
// (https://shopify.dev/docs/apps/build/webhooks/delivery-structure#headers).
const (
	HeaderHMAC        = "X-Shopify-Hmac-Sha256" // base64 HMAC-SHA256(client secret, raw body)
	HeaderTopic       = "X-Shopify-Topic"
	HeaderShopDomain  = "X-Shopify-Shop-Domain"
	HeaderAPIVersion  = "X-Shopify-API-Version"
	HeaderWebhookID   = "X-Shopify-Webhook-Id"   // one delivery
	HeaderEventID     = "X-Shopify-Event-Id"     // one event: the same on every retry and duplicate
	HeaderTriggeredAt = "X-Shopify-Triggered-At" // when the event was triggered: kept on retries
)

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("missing " + HeaderHMAC + " header")
	ErrBadSignature = errors.New(HeaderHMAC + " does not match the body signed with the app's client secret")
)

// Sign returns the X-Shopify-Hmac-Sha256 value for a body: the base64 of
// HMAC-SHA256 keyed with the app's client secret over the raw bytes.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header against the raw body as received, in
// constant time, accepting any of the secrets (two during a rotation). Every
// secret is tried whatever the outcome, so the time taken does not tell
// which one matched.
func Verify(secrets []string, header string, body []byte) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrNoSignature
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	ok := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(s))
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), got) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}
