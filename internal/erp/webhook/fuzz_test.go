package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/webhook"
)

// answer is a receiver that gives one answer to every delivery: a status,
// a Retry-After and a body, all from the fuzzer.
type answer struct {
	status     int
	retryAfter string
	body       []byte
}

func (a answer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	return &http.Response{StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
		Header: h, Body: io.NopCloser(bytes.NewReader(a.body)), Request: req}, nil
}

// FuzzResponse feeds the connector receiver answers from the fuzzer —
// status, Retry-After and body. A document succeeds only when the answer
// is a 200 whose results say "created" or "exists" for its external ID;
// every failure is classified with a delay that is not negative, and a 429
// is rate limited.
func FuzzResponse(f *testing.F) {
	f.Add(200, "", []byte(`{"results":[{"external_id":"fz-0","status":"created"},{"external_id":"fz-1","status":"exists"},`+
		`{"external_id":"fz-2","status":"error","error":"unknown SKU TEE-1","permanent":true},{"external_id":"fz-3","status":"error","error":"db busy"}]}`))
	f.Add(200, "", []byte(`{"results":[]}`))
	f.Add(200, "", []byte(`{"results":null}`))
	f.Add(200, "", []byte(`{"results":[{"external_id":"fz-0","status":"created"},{"external_id":"fz-0","status":"weird"}]}`))
	f.Add(200, "", []byte(`[]`))
	f.Add(401, "", []byte(`{"error":"bad signature"}`))
	f.Add(413, "", []byte(`too large`))
	f.Add(429, "7", []byte(`{"error":"slow down"}`))
	f.Add(503, "Fri, 27 Nov 2026 09:01:30 GMT", []byte(``))
	f.Add(500, "", []byte(`<html>oops</html>`))
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	kinds := []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.TransferOrder, erp.Summary}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		status = serverStatus(status)
		c, err := webhook.New(settings("https://erp.example.com"),
			erp.Deps{HTTP: &http.Client{Transport: answer{status, retryAfter, body}}, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		docs := make([]erp.Document, len(kinds))
		for i, k := range kinds {
			docs[i] = erptest.Sample(k, fmt.Sprintf("fz-%d", i))
		}
		errs, err := c.Post(context.Background(), docs)
		if err != nil {
			checkClass(t, status, err)
		} else {
			if len(errs) != len(docs) {
				t.Fatalf("%d results for %d documents", len(errs), len(docs))
			}
			// What the receiver said last about each external ID.
			said := map[string]string{}
			var r webhook.Response
			if status == http.StatusOK && json.Unmarshal(body, &r) == nil {
				for _, res := range r.Results {
					said[res.ExternalID] = res.Status
				}
			}
			for i, e := range errs {
				if e == nil {
					if s := said[docs[i].ExternalID]; s != webhook.StatusCreated && s != webhook.StatusExists {
						t.Fatalf("%s succeeded on HTTP %d %q", docs[i].ExternalID, status, body)
					}
					continue
				}
				checkClass(t, status, e)
			}
		}
		if err := c.Check(context.Background()); err != nil {
			checkClass(t, status, err)
		} else if status != http.StatusOK {
			t.Fatalf("check passed on HTTP %d", status)
		}
	})
}

// serverStatus maps any int to a status a server could answer.
func serverStatus(n int) int {
	if n < 100 || n > 599 {
		n = 100 + int(uint(n)%500)
	}
	if n == http.StatusSwitchingProtocols {
		n = http.StatusOK
	}
	return n
}

// checkClass checks what the destination engine will make of an error.
func checkClass(t *testing.T, status int, err error) {
	t.Helper()
	class, after := erp.Classify(err)
	if after < 0 {
		t.Fatalf("retry after %s (negative): %v", after, err)
	}
	if status == http.StatusTooManyRequests && class != erp.RateLimited {
		t.Fatalf("HTTP 429 classified %s: %v", class, err)
	}
	if err.Error() == "" {
		t.Fatal("an error without a message")
	}
}
