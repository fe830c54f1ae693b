package odoo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/odoo"
)

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
		status = erptest.ServerStatus(status)
		c, err := odoo.New(settings("https://erp.example.com"), erp.Deps{HTTP: &http.Client{Transport: erptest.Answer{Status: status, RetryAfter: retryAfter, Body: body}},
			Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		var v any
		garbage := json.NewDecoder(bytes.NewReader(body)).Decode(&v) != nil
		success := status == http.StatusOK && !garbage
		erptest.CheckPost(t, c, status, erptest.Samples(erptest.AllKinds), func(erp.Document) bool { return success })
		switch err := c.Check(context.Background()); {
		case err != nil:
			erptest.CheckClass(t, status, err)
		case !success:
			t.Fatalf("check passed on an answer of HTTP %d %q", status, body)
		}
	})
}
