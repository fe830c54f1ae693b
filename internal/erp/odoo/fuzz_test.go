package odoo_test

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
	"github.com/tillsync/tillsync/internal/erp/odoo"
)

// answer is an Odoo server that gives one answer to every request: a
// status, a Retry-After and a body, all from the fuzzer.
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

var fuzzKinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.InventoryCount, erp.TransferOrder,
	erp.TransferReceipt, erp.SalesOrder, erp.Fulfilment, erp.OrderCancel, erp.Summary}

// FuzzResponse feeds the connector Odoo answers from the fuzzer — status,
// Retry-After and body — for every request of every document kind, and
// Check. An answer other than 200 never becomes a success; every call reads its answer, so a body that is not
// JSON never becomes a success either; every failure is classified with a
// delay that is not negative; a 429 is rate limited.
func FuzzResponse(f *testing.F) {
	f.Add(200, "", []byte(`{"lang":"en_US","tz":"Europe/Berlin","uid":2}`))
	f.Add(200, "", []byte(`[{"id":1,"code":"ST1","lot_stock_id":[8,"ST1/Stock"]},{"id":2,"code":"ST2","lot_stock_id":[9,"ST2/Stock"]}]`))
	f.Add(200, "", []byte(`[{"id":31,"default_code":"TEE-1"},{"id":32,"default_code":"CAP-2"}]`))
	f.Add(200, "", []byte(`[]`))
	f.Add(200, "", []byte(`[12, 13]`))
	f.Add(200, "", []byte(`null`))
	f.Add(422, "", []byte(`{"name":"odoo.exceptions.ValidationError","message":"The quantity must be positive","arguments":[],"context":{},"debug":"Traceback"}`))
	f.Add(401, "", []byte(`{"name":"werkzeug.exceptions.Unauthorized","message":"Invalid apikey"}`))
	f.Add(403, "", []byte(`{"name":"odoo.exceptions.AccessDenied","message":"Access Denied"}`))
	f.Add(404, "", []byte(`{"name":"werkzeug.exceptions.NotFound","message":"Model not found"}`))
	f.Add(429, "7", []byte(`Too Many Requests`))
	f.Add(503, "Fri, 27 Nov 2026 09:01:30 GMT", []byte(``))
	f.Add(500, "", []byte(`<html>Internal Server Error</html>`))
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		status = serverStatus(status)
		s := settings("https://erp.example.com")
		c, err := odoo.New(s, erp.Deps{HTTP: &http.Client{Transport: answer{status, retryAfter, body}}, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		var v any
		garbage := json.NewDecoder(bytes.NewReader(body)).Decode(&v) != nil
		success := status == http.StatusOK && !garbage
		docs := make([]erp.Document, len(fuzzKinds))
		for i, k := range fuzzKinds {
			docs[i] = erptest.Sample(k, fmt.Sprintf("fz-%d", i))
		}
		errs, err := c.Post(context.Background(), docs)
		if err != nil {
			checkClass(t, status, err)
		} else {
			if len(errs) != len(docs) {
				t.Fatalf("%d results for %d documents", len(errs), len(docs))
			}
			for i, e := range errs {
				if e == nil {
					if !success {
						t.Fatalf("%s succeeded on an answer of HTTP %d %q", docs[i].Kind, status, body)
					}
					continue
				}
				checkClass(t, status, e)
			}
		}
		switch err := c.Check(context.Background()); {
		case err != nil:
			checkClass(t, status, err)
		case !success:
			t.Fatalf("check passed on an answer of HTTP %d %q", status, body)
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
