package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/channel/webhook"
)

var signedAt = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func headers(sig string, ts time.Time) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderSignature, sig)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	return h
}

func TestSignFormat(t *testing.T) {
	t.Parallel()
	// Receivers in other languages implement the scheme from its
	// description: "v1=" + hex HMAC-SHA256(secret, "<unix seconds>.<body>").
	secret, body := []byte("whsec"), []byte(`{"updates":[]}`)
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%d.%s", signedAt.Unix(), body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if got := webhook.Sign(secret, signedAt, body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	// Sub-second parts of the time are not signed: the header carries seconds.
	if webhook.Sign(secret, signedAt.Add(999*time.Millisecond), body) != want {
		t.Error("the signature depends on more than the Unix seconds the header carries")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret, old := []byte("new-secret"), []byte("old-secret")
	body := []byte(`{"delivery_id":"shop-1","updates":[]}`)
	sig := webhook.Sign(secret, signedAt, body)
	oldSig := webhook.Sign(old, signedAt, body)
	const tol = 5 * time.Minute

	for _, tc := range []struct {
		name   string
		secret []byte
		h      http.Header
		body   []byte
		now    time.Time
		want   error // nil: valid, unless anyErr
		anyErr bool
	}{
		{"round trip", secret, headers(sig, signedAt), body, signedAt, nil, false},
		{"inside the tolerance, late", secret, headers(sig, signedAt), body, signedAt.Add(tol), nil, false},
		{"inside the tolerance, early clock", secret, headers(sig, signedAt), body, signedAt.Add(-tol), nil, false},
		{"replayed after the tolerance", secret, headers(sig, signedAt), body, signedAt.Add(tol + time.Second), webhook.ErrStale, false},
		{"from the future", secret, headers(sig, signedAt), body, signedAt.Add(-tol - time.Second), webhook.ErrStale, false},
		{"tampered body", secret, headers(sig, signedAt), append([]byte(nil), append(body, ' ')...), signedAt, webhook.ErrBadSig, false},
		{"wrong secret", []byte("guess"), headers(sig, signedAt), body, signedAt, webhook.ErrBadSig, false},
		{"timestamp swapped for a fresh one", secret, headers(sig, signedAt.Add(time.Minute)), body, signedAt.Add(time.Minute), webhook.ErrBadSig, false},
		{"rotation: new secret matches second", secret, headers(oldSig+","+sig, signedAt), body, signedAt, nil, false},
		{"rotation: old secret matches first", old, headers(oldSig+", "+sig, signedAt), body, signedAt, nil, false},
		{"rotation: neither matches", []byte("other"), headers(oldSig+","+sig, signedAt), body, signedAt, webhook.ErrBadSig, false},
		{"signature without v1= prefix", secret, headers(sig[3:], signedAt), body, signedAt, webhook.ErrBadSig, false},
		{"missing signature", secret, headers("", signedAt), body, signedAt, webhook.ErrNoSignature, false},
		{"missing timestamp", secret, http.Header{webhook.HeaderSignature: {sig}}, body, signedAt, webhook.ErrNoSignature, false},
		{"timestamp not a number", secret, http.Header{webhook.HeaderSignature: {sig}, webhook.HeaderTimestamp: {"yesterday"}}, body, signedAt, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.Verify(tc.secret, tc.h, tc.body, tc.now, tol)
			switch {
			case tc.anyErr:
				if err == nil {
					t.Error("Verify passed, want an error")
				}
			case tc.want == nil:
				if err != nil {
					t.Errorf("Verify: %v, want valid", err)
				}
			case !errors.Is(err, tc.want):
				t.Errorf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func ExampleVerify() {
	secret := []byte("whsec-shop")
	body := []byte(`{"delivery_id":"shop-42","updates":[{"channel":"web","sku":"JKT-M","location":"berlin","available":3}]}`)
	sentAt := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	// What the hub sends…
	h := http.Header{}
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(sentAt.Unix(), 10))
	h.Set(webhook.HeaderSignature, webhook.Sign(secret, sentAt, body))

	// …and what the receiver checks, over the raw body.
	fmt.Println(webhook.Verify(secret, h, body, sentAt.Add(10*time.Second), 5*time.Minute))
	fmt.Println(webhook.Verify(secret, h, body, sentAt.Add(time.Hour), 5*time.Minute))
	fmt.Println(webhook.Verify([]byte("wrong"), h, body, sentAt, 5*time.Minute))
	// Output:
	// <nil>
	// webhook: timestamp outside the tolerance
	// webhook: signature does not match
}
