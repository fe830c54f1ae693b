package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/webhook"
)

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
		status = erptest.ServerStatus(status)
		c, err := webhook.New(settings("https://erp.example.com"),
			erp.Deps{HTTP: &http.Client{Transport: erptest.Answer{Status: status, RetryAfter: retryAfter, Body: body}}, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		// What the receiver said last about each external ID.
		said := map[string]string{}
		var r webhook.Response
		if status == http.StatusOK && json.Unmarshal(body, &r) == nil {
			for _, res := range r.Results {
				said[res.ExternalID] = res.Status
			}
		}
		erptest.CheckPost(t, c, status, erptest.Samples(kinds), func(d erp.Document) bool {
			s := said[d.ExternalID]
			return s == webhook.StatusCreated || s == webhook.StatusExists
		})
		if err := c.Check(context.Background()); err != nil {
			erptest.CheckClass(t, status, err)
		} else if status != http.StatusOK {
			t.Fatalf("check passed on HTTP %d", status)
		}
	})
}
