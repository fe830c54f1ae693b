package erpnext_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpnext"
	"github.com/tillsync/tillsync/internal/erp/erptest"
)

// FuzzResponse feeds the connector ERPNext answers from the fuzzer — status,
// Retry-After and body — for every request of every document kind, and
// Check. A non-2xx answer never becomes a success; every call reads its answer, so a body that is not
// JSON never becomes a success either; every failure is classified with a
// delay that is not negative; a 429 is rate limited.
func FuzzResponse(f *testing.F) {
	f.Add(200, "", []byte(`{"message":"tillsync@example.com"}`))
	f.Add(200, "", []byte(`{"data":[]}`))
	f.Add(200, "", []byte(`{"data":[{"name":"ACC-SINV-2026-00001","remarks":"tillsync fz-0"}]}`))
	f.Add(200, "", []byte(`{"message":["ACC-SINV-2026-00001","ACC-SINV-2026-00002"]}`))
	f.Add(200, "", []byte(`{"data":{"name":"MAT-STE-2026-00001","docstatus":1}}`))
	f.Add(417, "", []byte(`{"exc_type":"ValidationError","exception":"frappe.exceptions.ValidationError: Item TEE-1 not found","_server_messages":"[\"{\\\"message\\\": \\\"Item <b>TEE-1</b> not found\\\"}\"]"}`))
	f.Add(409, "", []byte(`{"exc_type":"DuplicateEntryError","exception":"frappe.exceptions.DuplicateEntryError"}`))
	f.Add(401, "", []byte(`{"exc_type":"AuthenticationError"}`))
	f.Add(403, "", []byte(`{"exc_type":"PermissionError","_server_messages":"not a list"}`))
	f.Add(404, "", []byte(`{"exc_type":"DoesNotExistError","exception":"Customer Walk-in Customer not found"}`))
	f.Add(429, "7", []byte(`{"exc_type":"TooManyRequestsError"}`))
	f.Add(503, "Fri, 27 Nov 2026 09:01:30 GMT", []byte(``))
	f.Add(502, "", []byte(`<html>Bad Gateway</html>`))
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		status = erptest.ServerStatus(status)
		c, err := erpnext.New(settings("https://erp.example.com"), erp.Deps{HTTP: &http.Client{Transport: erptest.Answer{Status: status, RetryAfter: retryAfter, Body: body}},
			Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		var v any
		garbage := json.NewDecoder(bytes.NewReader(body)).Decode(&v) != nil
		success := status >= 200 && status < 300 && !garbage
		erptest.CheckPost(t, c, status, erptest.Samples(erptest.AllKinds), func(erp.Document) bool { return success })
		switch err := c.Check(context.Background()); {
		case err != nil:
			erptest.CheckClass(t, status, err)
		case !success:
			t.Fatalf("check passed on an answer of HTTP %d %q", status, body)
		}
	})
}
