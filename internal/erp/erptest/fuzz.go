package erptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/tillsync/tillsync/internal/erp"
)

// What the connectors' fuzz targets share: an ERP that gives one answer
// from the fuzzer to every request, and the checks any answer must pass.

// Answer is an ERP server that gives one answer to every request: a status,
// a Retry-After and a body. Use it as an http.Client's Transport.
type Answer struct {
	Status     int
	RetryAfter string
	Body       []byte
}

// RoundTrip implements http.RoundTripper.
func (a Answer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if a.RetryAfter != "" {
		h.Set("Retry-After", a.RetryAfter)
	}
	return &http.Response{StatusCode: a.Status, Status: fmt.Sprintf("%d %s", a.Status, http.StatusText(a.Status)),
		Header: h, Body: io.NopCloser(bytes.NewReader(a.Body)), Request: req}, nil
}

// ServerStatus maps any int to a status a server could answer.
func ServerStatus(n int) int {
	if n < 100 || n > 599 {
		n = 100 + int(uint(n)%500)
	}
	if n == http.StatusSwitchingProtocols {
		n = http.StatusOK
	}
	return n
}

// AllKinds are every document kind.
var AllKinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.InventoryCount, erp.TransferOrder,
	erp.TransferReceipt, erp.SalesOrder, erp.Fulfilment, erp.OrderCancel, erp.Summary}

// Samples returns a Sample of each kind, with external IDs fz-0, fz-1, ….
func Samples(kinds []erp.Kind) []erp.Document {
	docs := make([]erp.Document, len(kinds))
	for i, k := range kinds {
		docs[i] = Sample(k, fmt.Sprintf("fz-%d", i))
	}
	return docs
}

// CheckClass checks what the destination engine will make of an error
// after an answer of HTTP status: a class, a delay that is not negative,
// rate limited on a 429, and a message.
func CheckClass(t testing.TB, status int, err error) {
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

// CheckPost posts docs after the answer of HTTP status: the call's error,
// or each document's, passes CheckClass; there is one result per document;
// and a document succeeds only where succeeded allows it. It reports
// whether the call itself returned results.
func CheckPost(t testing.TB, c erp.Connector, status int, docs []erp.Document, succeeded func(erp.Document) bool) bool {
	t.Helper()
	errs, err := c.Post(context.Background(), docs)
	if err != nil {
		CheckClass(t, status, err)
		return false
	}
	if len(errs) != len(docs) {
		t.Fatalf("%d results for %d documents", len(errs), len(docs))
	}
	for i, e := range errs {
		if e == nil {
			if !succeeded(docs[i]) {
				t.Fatalf("%s (%s) succeeded on an answer of HTTP %d", docs[i].ExternalID, docs[i].Kind, status)
			}
			continue
		}
		CheckClass(t, status, e)
	}
	return true
}
