package square

import (
	"net/http"
	"strings"
	"testing"
)

// Square's own test vectors, from the webhook signature tests of Square's
// Node.js SDK (square/square-nodejs-sdk, tests/integration/webhooks.test.ts).
const (
	sdkBody = `{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`
	sdkSig  = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
	sdkKey  = "Ibxx_5AKakO-3qeNVR61Dw"
	sdkURL  = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
		url  string
		body string
		sig  string
		want bool
	}{
		{"documented example", []string{sdkKey}, sdkURL, sdkBody, sdkSig, true},
		{"documented unescaped characters", []string{"signature-key"}, "https://webhook.site/webhooks",
			`{"data":{"type":"webhooks","id":"fake_id"}}`, "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=", true},
		{"documented escaped characters", []string{"signature-key"}, "https://webhook.site/webhooks",
			`{"data":{"type":"webhooks","id":">id<"}}`, "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=", true},
		{"one of several keys (rotation)", []string{"old-key", sdkKey}, sdkURL, sdkBody, sdkSig, true},
		{"wrong URL", []string{sdkKey}, "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9", sdkBody, sdkSig, false},
		{"URL with a trailing slash", []string{sdkKey}, sdkURL + "/", sdkBody, sdkSig, false},
		{"URL in another case", []string{sdkKey}, strings.ToUpper(sdkURL[:5]) + sdkURL[5:], sdkBody, sdkSig, false},
		{"wrong key", []string{"MCmhFRxGX82xMwg5FsaoQA"}, sdkURL, sdkBody, sdkSig, false},
		{"wrong signature", []string{sdkKey}, sdkURL, sdkBody, "1z2n3DEJJiUPKcPzQo1ftvbxGdw=", false},
		{"tampered body", []string{sdkKey}, sdkURL, strings.Replace(sdkBody, "2022-07-13", "2022-06-13", 1), sdkSig, false},
		{"reformatted body", []string{sdkKey}, sdkURL, strings.ReplaceAll(sdkBody, ",", ", "), sdkSig, false},
		{"empty body signed correctly", []string{sdkKey}, sdkURL, "", Sign(sdkKey, sdkURL, nil), false},
		{"empty signature", []string{sdkKey}, sdkURL, sdkBody, "", false},
		{"not base64", []string{sdkKey}, sdkURL, sdkBody, "%%%", false},
		{"no keys", nil, sdkURL, sdkBody, sdkSig, false},
		{"empty key", []string{""}, sdkURL, sdkBody, Sign("", sdkURL, []byte(sdkBody)), false},
		{"no URL", []string{sdkKey}, "", sdkBody, Sign(sdkKey, "", []byte(sdkBody)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Verify(tt.keys, tt.url, []byte(tt.body), tt.sig); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
	if got := Sign(sdkKey, sdkURL, []byte(sdkBody)); got != sdkSig {
		t.Errorf("Sign = %s, want Square's %s", got, sdkSig)
	}
}

// The endpoint refuses what does not verify, before it reads anything from
// the body, and stores nothing.
func TestHandlerSignature(t *testing.T) {
	t.Parallel()
	api := orderFiles(t)
	body := readFile(t, "testdata/webhooks/inventory_count_updated.json")
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		code   string
	}{
		{"valid", body, Sign(testKey, testURL, body), http.StatusOK, ""},
		{"missing header", body, "", http.StatusUnauthorized, CodeBadSignature},
		{"tampered body", append([]byte(" "), body...), Sign(testKey, testURL, body), http.StatusUnauthorized, CodeBadSignature},
		{"signed for another URL", body, Sign(testKey, "https://hub.example.com/v1/sources/square/other", body), http.StatusUnauthorized, CodeBadSignature},
		{"signed with another key", body, Sign("someone-else", testURL, body), http.StatusUnauthorized, CodeBadSignature},
		{"empty body, valid MAC of the URL", nil, Sign(testKey, testURL, nil), http.StatusBadRequest, CodeEmptyBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			log := newFakeLog()
			h := newTestHandler(t, testConfig(api.URL), log)
			w := postSigned(t, h, tt.body, tt.sig)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.code) {
				t.Fatalf("status %d %s, want %d %s", w.Code, w.Body, tt.status, tt.code)
			}
			if n := len(log.all()); tt.status != http.StatusOK && n != 0 {
				t.Errorf("%d events stored from a refused notification", n)
			}
		})
	}
}
