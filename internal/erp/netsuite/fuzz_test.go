package netsuite_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

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
		status = erptest.ServerStatus(status)
		c, err := netsuite.New(settings("https://1234567.suitetalk.api.netsuite.com", nssim.DefaultCredentials()),
			erp.Deps{HTTP: &http.Client{Transport: erptest.Answer{Status: status, RetryAfter: retryAfter, Body: body}}, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		ok2xx := status >= 200 && status < 300
		if !erptest.CheckPost(t, c, status, erptest.Samples(erptest.AllKinds), func(erp.Document) bool { return ok2xx }) {
			return
		}
		lim, err := c.ReadLimits(context.Background())
		switch {
		case err != nil:
			erptest.CheckClass(t, status, err)
		case !ok2xx:
			t.Fatalf("limits %+v read from an answer of HTTP %d", lim, status)
		case lim.Concurrency < 1:
			t.Fatalf("limits %+v read from %q", lim, body)
		}
	})
}
