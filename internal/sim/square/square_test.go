package square_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	sqsim "github.com/tillsync/tillsync/internal/sim/square"
)

const (
	key     = "sim-signature-key"
	hookURL = "https://hub.example.com/v1/sources/square/main"
	token   = "EAAA-sim-token"
	version = "2025-10-16"
)

func newSeller(t *testing.T, opt sqsim.Options) (*sqsim.Seller, *httptest.Server) {
	t.Helper()
	opt.SignatureKey, opt.NotificationURL, opt.AccessToken = key, hookURL, token
	s := sqsim.New(opt)
	s.AddItem(sqsim.Item{CatalogObjectID: "MUGBLUE000000000000000AA", Name: "Mug", Variation: "Blue", Price: 1200, TaxBP: 725})
	s.AddItem(sqsim.Item{CatalogObjectID: "TOTEBAG00000000000000000", Name: "Tote bag", Price: 900})
	srv := httptest.NewServer(s.API())
	t.Cleanup(srv.Close)
	return s, srv
}

// day sells, returns and refunds, so every notification type is queued.
func day(t *testing.T, s *sqsim.Seller) (saleID, returnID string) {
	t.Helper()
	if err := s.SetStock("L1", "MUGBLUE000000000000000AA", "10"); err != nil {
		t.Fatal(err)
	}
	id, err := s.Sell(sqsim.Sale{LocationID: "L1", Lines: []sqsim.Line{{CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "2"},
		{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}, Tip: 200})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sell(sqsim.Sale{LocationID: "L1", Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}, Tender: "CASH"}); err != nil {
		t.Fatal(err)
	}
	ret, refund, err := s.Return(id, []sqsim.Line{{CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "1"}}, "Chipped")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SettleRefund(refund); err != nil {
		t.Fatal(err)
	}
	return id, ret
}

// paths lists the key paths of a JSON value ("data.object.payment.id",
// arrays as "[]").
func paths(t *testing.T, raw []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var walk func(v any, p string)
	walk = func(v any, p string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				q := k
				if p != "" {
					q = p + "." + k
				}
				set[q] = true
				walk(c, q)
			}
		case []any:
			for _, c := range x {
				walk(c, p+"[]")
			}
		}
	}
	walk(v, "")
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func docPaths(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return paths(t, b)
}

// Everything the simulator sends has a field Square documents there; the
// small order and inventory notifications match field for field.
func TestShapesMatchDocs(t *testing.T) {
	t.Parallel()
	s, srv := newSeller(t, sqsim.Options{})
	saleID, returnID := day(t, s)
	docs := map[string]string{
		"payment.created": "payment.created.json", "payment.updated": "payment.created.json",
		"refund.created": "refund.updated.json", "refund.updated": "refund.updated.json",
		"order.created": "order.created.json", "order.updated": "order.updated.json",
		"inventory.count.updated": "inventory.count.updated.json",
	}
	exact := map[string]bool{"order.created": true, "order.updated": true, "inventory.count.updated": true}
	seen := map[string]bool{}
	for _, n := range s.Drain() {
		doc, ok := docs[n.Type]
		if !ok {
			t.Errorf("unexpected type %s", n.Type)
			continue
		}
		seen[n.Type] = true
		got, want := paths(t, n.Body), docPaths(t, doc)
		for _, p := range got {
			if !slices.Contains(want, p) {
				t.Errorf("%s: field %s is not in Square's documented shape", n.Type, p)
			}
		}
		if exact[n.Type] && !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, documented %v", n.Type, got, want)
		}
	}
	if len(seen) != len(docs) {
		t.Errorf("types sent: %v", seen)
	}
	want := docPaths(t, "retrieve-order.json")
	for _, id := range []string{saleID, returnID} {
		body := get(t, srv.URL+"/v2/orders/"+id, "Bearer "+token, version, http.StatusOK)
		for _, p := range paths(t, body) {
			if !slices.Contains(want, p) {
				t.Errorf("order %s: field %s is not in Square's documented Order", id, p)
			}
		}
	}
}

func get(t *testing.T, url, auth, ver string, status int) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ver != "" {
		req.Header.Set("Square-Version", ver)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d %s, want %d", url, resp.StatusCode, b, status)
	}
	return b
}

func TestRetrieveOrderRefusals(t *testing.T) {
	t.Parallel()
	s, srv := newSeller(t, sqsim.Options{Versions: []string{version}, RequireVersion: true})
	id, _ := day(t, s)
	url := srv.URL + "/v2/orders/" + id
	tests := []struct {
		name, auth, ver string
		status          int
		code            string
	}{
		{"no token", "", version, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"wrong token", "Bearer nope", version, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"no version", "Bearer " + token, "", http.StatusBadRequest, "MISSING_REQUIRED_PARAMETER"},
		{"malformed version", "Bearer " + token, "latest", http.StatusBadRequest, "INVALID_SQUARE_VERSION_FORMAT"},
		{"unknown version", "Bearer " + token, "2001-01-01", http.StatusBadRequest, "API_VERSION_INCOMPATIBLE"},
	}
	for _, tt := range tests {
		if b := get(t, url, tt.auth, tt.ver, tt.status); !strings.Contains(string(b), `"code":"`+tt.code+`"`) {
			t.Errorf("%s: %s", tt.name, b)
		}
	}
	b := get(t, srv.URL+"/v2/orders/nope", "Bearer "+token, version, http.StatusNotFound)
	if got, want := paths(t, b), docPaths(t, "not-found.json"); !slices.Equal(got, want) {
		t.Errorf("404 body %s: fields %v, documented %v", b, got, want)
	}
	if st := s.Stats(); st.Unauthorized != 2 || st.BadVersion != 3 || st.NotFound != 1 || st.Served != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Past the rate — or while throttled — the API answers 429 with Square's
// RATE_LIMIT_ERROR body.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s, srv := newSeller(t, sqsim.Options{RatePerSecond: 0.001, Burst: 2})
	id, _ := day(t, s)
	url := srv.URL + "/v2/orders/" + id
	get(t, url, "Bearer "+token, version, http.StatusOK)
	get(t, url, "Bearer "+token, version, http.StatusOK)
	b := get(t, url, "Bearer "+token, version, http.StatusTooManyRequests)
	var e sqsim.APIErrors
	if err := json.Unmarshal(b, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Category != "RATE_LIMIT_ERROR" || e.Errors[0].Code != "RATE_LIMITED" {
		t.Errorf("429 body %s", b)
	}
	if got, want := paths(t, b), docPaths(t, "rate-limited.json"); !slices.Equal(got, want) {
		t.Errorf("429 fields %v, documented %v", got, want)
	}

	s2, srv2 := newSeller(t, sqsim.Options{})
	id2, _ := day(t, s2)
	s2.Throttle(1)
	get(t, srv2.URL+"/v2/orders/"+id2, "Bearer "+token, "", http.StatusTooManyRequests)
	get(t, srv2.URL+"/v2/orders/"+id2, "Bearer "+token, "", http.StatusOK)
}

// The simulator signs as Square does: Square's own test vector (Node.js
// SDK, tests/integration/webhooks.test.ts).
func TestSign(t *testing.T) {
	t.Parallel()
	body := `{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`
	got := sqsim.Sign("Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", []byte(body))
	if got != "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=" {
		t.Errorf("signature %s", got)
	}
}

// Deliver signs every notification over the subscription's URL, whatever
// URL it is posted to.
func TestDeliver(t *testing.T) {
	t.Parallel()
	s, _ := newSeller(t, sqsim.Options{})
	day(t, s)
	ns := s.Drain()
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Square-Hmacsha256-Signature") != sqsim.Sign(key, hookURL, b) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env sqsim.Envelope
		_ = json.Unmarshal(b, &env)
		got = append(got, env.EventID)
		if len(got) == 2 {
			w.WriteHeader(http.StatusServiceUnavailable) // the second one fails once
		}
	}))
	t.Cleanup(hook.Close)
	rounds, err := s.Retry(context.Background(), hook.Client(), hook.URL, ns, 3)
	if err != nil || rounds != 2 {
		t.Fatalf("rounds %d, %v", rounds, err)
	}
	if len(got) != len(ns)+1 || got[1] != got[len(got)-1] {
		t.Errorf("delivered %d (%v) for %d notifications", len(got), got, len(ns))
	}
}

func TestShuffleDuplicate(t *testing.T) {
	t.Parallel()
	s, _ := newSeller(t, sqsim.Options{})
	day(t, s)
	ns := s.Drain()
	d := sqsim.Duplicate(ns, 1, 3)
	if len(d) != 2*len(ns) {
		t.Fatalf("%d after duplicating all %d", len(d), len(ns))
	}
	a, b := sqsim.Shuffle(d, 9), sqsim.Shuffle(d, 9)
	ids := func(ns []sqsim.Notification) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = n.EventID
		}
		return out
	}
	if !slices.Equal(ids(a), ids(b)) {
		t.Error("shuffle is not deterministic")
	}
	x, y := ids(a), ids(d)
	sort.Strings(x)
	sort.Strings(y)
	if !slices.Equal(x, y) || slices.Equal(ids(a), ids(d)) {
		t.Error("shuffle lost, added or kept the order of notifications")
	}
}

// Stock follows sales and restocked returns, in decimals.
func TestStock(t *testing.T) {
	t.Parallel()
	s, _ := newSeller(t, sqsim.Options{})
	day(t, s)
	if got := s.Stock("L1", "MUGBLUE000000000000000AA"); got != "9" {
		t.Errorf("mugs %s, want 10 - 2 + 1", got)
	}
	if err := s.SetStock("L1", "MUGBLUE000000000000000AA", "1.25"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sell(sqsim.Sale{LocationID: "L1", Lines: []sqsim.Line{{CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "0.5"}}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Stock("L1", "MUGBLUE000000000000000AA"); got != "0.75" {
		t.Errorf("mugs %s, want 0.75", got)
	}
}
