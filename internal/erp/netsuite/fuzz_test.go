package netsuite_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

// answer is a NetSuite that gives one answer to every request: a status,
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

var allKinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.InventoryCount, erp.TransferOrder,
	erp.TransferReceipt, erp.SalesOrder, erp.Fulfilment, erp.OrderCancel, erp.Summary}

// FuzzResponse feeds the connector NetSuite answers from the fuzzer —
// status, Retry-After and body — for every request of every document kind,
// and ReadLimits. A non-2xx answer never becomes a success, every failure
// is classified with a delay that is not negative, a 429 is rate limited,
// and limits read from an answer are usable.
func FuzzResponse(f *testing.F) {
	problem := `{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html","title":"Bad Request","status":400,` +
		`"o:errorDetails":[{"detail":"Invalid value for item","o:errorCode":"INVALID_FLD_VALUE","o:errorPath":"item.items[0].item"}]}`
	f.Add(204, "", []byte(""))
	f.Add(200, "", []byte(`{"items":[{"id":"123"}],"count":1}`))
	f.Add(200, "", []byte(`{"item":{"items":[{"line":1,"isClosed":false,"quantityFulfilled":"1"}]}}`))
	f.Add(200, "", []byte(`{"accountConcurrencyLimit":5,"accountUnallocatedConcurrencyLimit":3,"integrationConcurrencyLimit":2,"integrationLimitType":"integrationSpecific"}`))
	f.Add(400, "", []byte(problem))
	f.Add(400, "", []byte(`{"o:errorDetails":[{"detail":"x","o:errorCode":"SSS_REQUEST_LIMIT_EXCEEDED"}]}`))
	f.Add(401, "", []byte(`{"o:errorDetails":[{"detail":"Invalid login attempt.","o:errorCode":"INVALID_LOGIN"}]}`))
	f.Add(404, "", []byte(`{"o:errorDetails":[{"detail":"not found","o:errorCode":"NONEXISTENT_ID"}]}`))
	f.Add(429, "7", []byte(`{"o:errorDetails":[{"detail":"busy","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}`))
	f.Add(429, "Fri, 27 Nov 2026 09:01:30 GMT", []byte(""))
	f.Add(503, "", []byte("<html>oops</html>"))
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		status = serverStatus(status)
		c, err := netsuite.New(settings("https://1234567.suitetalk.api.netsuite.com", nssim.DefaultCredentials()),
			erp.Deps{HTTP: &http.Client{Transport: answer{status, retryAfter, body}}, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		docs := make([]erp.Document, len(allKinds))
		for i, k := range allKinds {
			docs[i] = erptest.Sample(k, fmt.Sprintf("fz-%d", i))
		}
		errs, err := c.Post(context.Background(), docs)
		if err != nil {
			checkClass(t, status, err)
			return
		}
		if len(errs) != len(docs) {
			t.Fatalf("%d results for %d documents", len(errs), len(docs))
		}
		ok2xx := status >= 200 && status < 300
		for i, e := range errs {
			if e == nil {
				if !ok2xx {
					t.Fatalf("%s succeeded on an answer of HTTP %d", docs[i].Kind, status)
				}
				continue
			}
			checkClass(t, status, e)
		}
		lim, err := c.ReadLimits(context.Background())
		switch {
		case err != nil:
			checkClass(t, status, err)
		case !ok2xx:
			t.Fatalf("limits %+v read from an answer of HTTP %d", lim, status)
		case lim.Concurrency < 1:
			t.Fatalf("limits %+v read from %q", lim, body)
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
