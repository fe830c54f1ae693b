package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fuzzShop answers the first GraphQL request with the fuzzer's status,
// Retry-After and body, and every later one (a retry after a throttle)
// with a plain success.
type fuzzShop struct {
	status     int
	retryAfter string
	body       []byte
	calls      atomic.Int32
}

const fuzzOK = `{"data":{"shop":{"id":"gid://shopify/Shop/1"}},"extensions":{"cost":{"requestedQueryCost":1,"actualQueryCost":1,` +
	`"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":1999,"restoreRate":100}}}}`

func (s *fuzzShop) RoundTrip(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	_ = req.Body.Close()
	status, body, h := http.StatusOK, []byte(fuzzOK), http.Header{"Content-Type": {"application/json"}}
	if s.calls.Add(1) == 1 {
		status, body = s.status, s.body
		if s.retryAfter != "" {
			h.Set("Retry-After", s.retryAfter)
		}
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

// FuzzGraphQLAnswer feeds the Admin API client fuzzed answers — status,
// Retry-After and body, including extensions.cost.throttleStatus, which
// steers the governor. An answer succeeds only if it is a 2xx GraphQL
// answer without errors, whose data decodes; only 401, 403 and 404 stop
// the destination; a Retry-After never becomes a negative pause; and the
// governor's bucket stays a usable model whatever the answer claims.
func FuzzGraphQLAnswer(f *testing.F) {
	f.Add(200, "", []byte(fuzzOK))
	f.Add(200, "", []byte(`{"data":{"inventorySetQuantities":{"inventoryAdjustmentGroup":{"createdAt":"2026-11-27T09:00:00Z"},"userErrors":[]}},`+
		`"extensions":{"cost":{"requestedQueryCost":10,"actualQueryCost":10,"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":1990,"restoreRate":100}}}}`))
	f.Add(200, "", []byte(`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],`+
		`"extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":4,"restoreRate":100}}}}`))
	f.Add(200, "", []byte(`{"errors":[{"message":"Query cost is 3100, which exceeds the single query max cost limit (1000).","extensions":{"code":"MAX_COST_EXCEEDED","cost":3100,"maxCost":1000}}]}`))
	f.Add(200, "", []byte(`{"errors":[{"message":"Field 'x' doesn't exist on type 'QueryRoot'"}]}`))
	f.Add(200, "", []byte(`{"data":{"shop":null},"extensions":{"cost":{"requestedQueryCost":1e308,"throttleStatus":{"maximumAvailable":1e-300,"currentlyAvailable":-1e308,"restoreRate":1e-300}}}}`))
	f.Add(200, "", []byte(`<html>maintenance</html>`))
	f.Add(401, "", []byte(`{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`))
	f.Add(403, "", []byte(`{"errors":"access denied"}`))
	f.Add(404, "", []byte(`Not Found`))
	f.Add(429, "2.0", []byte(`{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`))
	f.Add(429, "1e300", []byte(``))
	f.Add(502, "", []byte(`<html>Bad Gateway</html>`))
	f.Fuzz(func(t *testing.T, status int, retryAfterHeader string, body []byte) {
		if status < 100 || status > 599 {
			status = 100 + int(uint(status)%500)
		}
		if status == http.StatusSwitchingProtocols {
			status = http.StatusOK
		}
		shop := &fuzzShop{status: status, retryAfter: retryAfterHeader, body: body}
		gov := NewGovernor(GovernorConfig{RestoreRate: 100})
		c := &client{name: "fuzz", url: "https://fuzz.myshopify.com/admin/api/2025-07/graphql.json", token: "shpat_x",
			http: &http.Client{Transport: shop}, timeout: time.Second, gov: gov, m: NewMetrics(prometheus.NewRegistry()), scale: map[string]float64{}}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		var out any
		err := c.do(ctx, request{op: "read", query: "query Read { shop { id } }", cost: 1}, &out)

		var ans gqlResponse
		clean := status >= 200 && status < 300 && json.Unmarshal(body, &ans) == nil && len(ans.Errors) == 0
		switch {
		case err == nil && shop.calls.Load() == 1 && !clean:
			t.Fatalf("success on HTTP %d %q", status, body)
		case err == nil && shop.calls.Load() == 1:
			var want any
			if json.Unmarshal(ans.Data, &want) != nil {
				t.Fatalf("success with data %q that does not decode", ans.Data)
			}
		case err == nil && status != http.StatusTooManyRequests && !throttled(ans.Errors):
			t.Fatalf("retried after HTTP %d %q, which is not a throttle", status, body)
		case err != nil && permanent(err) && status != 401 && status != 403 && status != 404:
			t.Fatalf("HTTP %d stops the destination: %v", status, err)
		case err != nil && err.Error() == "":
			t.Fatal("an error without a message")
		}
		b := gov.Bucket()
		for _, v := range []float64{b.MaximumAvailable, b.CurrentlyAvailable, b.RestoreRate} {
			if math.IsNaN(v) {
				t.Fatalf("bucket %+v after %q", b, body)
			}
		}
		if b.MaximumAvailable <= 0 || b.RestoreRate <= 0 {
			t.Fatalf("bucket %+v after %q: no capacity or no restore", b, body)
		}
	})
}
