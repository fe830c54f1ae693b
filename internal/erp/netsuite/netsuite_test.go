package netsuite_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

// bundle is a connector wired to a simulated NetSuite account.
type bundle struct {
	srv  *nssim.Server
	ts   *httptest.Server
	conn *netsuite.Connector
}

// settings returns connector settings for a simulator at url.
func settings(url string, creds nssim.Credentials) map[string]string {
	return map[string]string{
		"account_id": creds.AccountID, "base_url": url,
		"consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret,
		"subsidiary": "1", "customer": "42", "adjustment_account": "500",
		"sales_account": "4000", "tax_accounts": "DE-VAT-19=2201,*=2200",
		"payment_accounts": "card=1100,card:amex=1101,cash=1000", "tips_account": "2300",
	}
}

// setup starts a simulator and a connector for it; change edits the
// settings (a value of "" removes the setting).
func setup(t *testing.T, opt erpsim.Options, change map[string]string) *bundle {
	t.Helper()
	srv := nssim.New(opt, nssim.DefaultCredentials())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	s := settings(ts.URL, nssim.DefaultCredentials())
	for k, v := range change {
		if v == "" {
			delete(s, k)
			continue
		}
		s[k] = v
	}
	conn, err := netsuite.New(s, erp.Deps{HTTP: ts.Client(), Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{srv: srv, ts: ts, conn: conn}
}

func post(t *testing.T, c erp.Connector, docs ...erp.Document) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs, err := c.Post(ctx, docs)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	return errs
}

func mustPost(t *testing.T, c erp.Connector, docs ...erp.Document) {
	t.Helper()
	errs := post(t, c, docs...)
	for i, d := range docs {
		if i < len(errs) && errs[i] != nil {
			t.Fatalf("post %s %s: %v", d.Kind, d.ExternalID, errs[i])
		}
	}
}

// parents are what dependent documents need in NetSuite first: the sales
// order a fulfilment ships, the transfer order a receipt books in. The
// engine posts them first in the same thread; the conformance suite posts
// dependent documents alone, so they are posted here, under other IDs.
func parents(ids ...string) []erp.Document {
	var out []erp.Document
	for _, id := range ids {
		so := erptest.Sample(erp.SalesOrder, "parent-so-"+id)
		so.Reference = "web-" + id
		to := erptest.Sample(erp.TransferOrder, "parent-to-"+id)
		to.Reference = "tr-" + id
		out = append(out, so, to)
	}
	return out
}

// The connector passes the conformance suite against the simulator. Order
// cancellations are tested on their own (TestOrderCancel): closing a
// sales order's lines creates no record, and the suite counts records.
func TestConformance(t *testing.T) {
	t.Parallel()
	erptest.Run(t, func(t *testing.T) *erptest.Target {
		b := setup(t, erpsim.Options{}, nil)
		kinds := []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.InventoryCount, erp.TransferOrder,
			erp.TransferReceipt, erp.SalesOrder, erp.Fulfilment, erp.Summary}
		mustPost(t, b.conn, parents("conf-fulfilment", "idem-fulfilment", "conf-transfer_receipt", "idem-transfer_receipt")...)
		sim := b.srv.Sim()
		return &erptest.Target{
			Connector:       b.conn,
			Kinds:           kinds,
			Records:         func() map[string]int { return sim.Stats().Records },
			Throttle:        func() { sim.Force(erpsim.ForceThrottle) },
			DropAfterCommit: func() { sim.Force(erpsim.ForceDrop) },
			Invalid: func(id string) erp.Document {
				d := erptest.Sample(erp.CashSale, id)
				d.Lines[0].SKU = nssim.InvalidSKU
				return d
			},
		}
	})
}

func class(err error) erp.Class {
	c, _ := erp.Classify(err)
	return c
}

func TestInvalidItemIsPermanentWithNetSuitesReason(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, nil)
	d := erptest.Sample(erp.CashSale, "bad-item")
	d.Lines[1].SKU = nssim.InvalidSKU
	err := post(t, b.conn, d)[0]
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.Permanent || e.Status != http.StatusBadRequest || e.Code != "INVALID_CONTENT" {
		t.Fatalf("an unknown item: %#v", err)
	}
	if !strings.Contains(err.Error(), "item.items[1].item") || !strings.Contains(err.Error(), nssim.InvalidSKU) {
		t.Errorf("the error does not say which line: %v", err)
	}
}

func TestWrongCredentialsAreMisconfigurationWithAClearMessage(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]map[string]string{
		"token secret": {"token_secret": "not-the-secret"},
		"consumer key": {"consumer_key": "someone-else"},
		"account":      {"account_id": "7654321"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, erpsim.Options{}, change)
			err := post(t, b.conn, erptest.Sample(erp.CashSale, "cred-1"))[0]
			var e *erp.Error
			if !errors.As(err, &e) || e.Class != erp.Misconfigured || e.Status != http.StatusUnauthorized || e.Code != "INVALID_LOGIN" {
				t.Fatalf("wrong credentials: %v", err)
			}
			if !strings.Contains(err.Error(), "credentials are wrong") || !strings.Contains(err.Error(), "configuration, not data") {
				t.Errorf("the message does not say the credentials are wrong: %v", err)
			}
			if err := b.conn.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "credentials are wrong") {
				t.Errorf("Check with wrong credentials: %v", err)
			}
			st := b.srv.Sim().Stats()
			if st.Created != 0 || st.Rejections["auth"] == 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	if err := setup(t, erpsim.Options{}, nil).conn.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	err := setup(t, erpsim.Options{}, map[string]string{"customer": "0"}).conn.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "setting customer") {
		t.Fatalf("Check with a customer NetSuite lacks: %v", err)
	}
}

func TestReadLimitsFromTheSimulator(t *testing.T) {
	t.Parallel()
	lim, err := setup(t, erpsim.Options{Concurrency: 7}, nil).conn.ReadLimits(context.Background())
	if err != nil || lim.Concurrency != 7 {
		t.Fatalf("ReadLimits = %+v, %v; want 7", lim, err)
	}
}

func TestReadLimitsPicksTheLimitThatBindsTheIntegration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want int
	}{
		// The three answers of Oracle's "GovernanceLimits Operation".
		{`{"accountConcurrencyLimit": 5, "accountUnallocatedConcurrencyLimit": 3, "integrationConcurrencyLimit": 2, "integrationLimitType": "integrationSpecific"}`, 2},
		{`{"accountConcurrencyLimit": 5, "accountUnallocatedConcurrencyLimit": 3, "integrationLimitType": "accountLimit"}`, 3},
		{`{"accountConcurrencyLimit": 5, "accountUnallocatedConcurrencyLimit": 3, "integrationLimitType": "internal"}`, 5},
	} {
		c := fixed(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/services/rest/system/v1/governanceLimits" || !strings.HasPrefix(r.Header.Get("Authorization"), "OAuth realm=") {
				http.Error(w, "unexpected", http.StatusTeapot)
				return
			}
			_, _ = w.Write([]byte(tc.body))
		})
		lim, err := c.ReadLimits(context.Background())
		if err != nil || lim.Concurrency != tc.want {
			t.Errorf("%s: %+v, %v; want %d", tc.body, lim, err, tc.want)
		}
	}
	c := fixed(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"title":"Forbidden","status":403,"o:errorDetails":[{"detail":"Permission Violation","o:errorCode":"INSUFFICIENT_PERMISSION"}]}`))
	})
	if _, err := c.ReadLimits(context.Background()); err == nil {
		t.Error("a non-administrator role read limits")
	}
}

// fixed returns a connector talking to a handler.
func fixed(t *testing.T, h http.HandlerFunc) *netsuite.Connector {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	client := ts.Client()
	client.Timeout = 2 * time.Second
	c, err := netsuite.New(settings(ts.URL, nssim.DefaultCredentials()), erp.Deps{HTTP: client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClassification(t *testing.T) {
	t.Parallel()
	body := func(status int, code string) string {
		return fmt.Sprintf(`{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html","title":%q,"status":%d,`+
			`"o:errorDetails":[{"detail":"something about %s","o:errorCode":%q}]}`, http.StatusText(status), status, code, code)
	}
	for _, tc := range []struct {
		name       string
		status     int
		header     string
		body       string
		want       erp.Class
		retryAfter time.Duration
	}{
		{"429 concurrency", 429, "", body(429, "CONCURRENCY_LIMIT_EXCEEDED"), erp.RateLimited, 0},
		{"429 with Retry-After seconds", 429, "7", body(429, "CONCURRENCY_LIMIT_EXCEEDED"), erp.RateLimited, 7 * time.Second},
		{"429 without a body", 429, "", "", erp.RateLimited, 0},
		{"RESTlet-style concurrency code", 400, "", body(400, "SSS_REQUEST_LIMIT_EXCEEDED"), erp.RateLimited, 0},
		{"invalid field", 400, "", body(400, "INVALID_FLD_VALUE"), erp.Permanent, 0},
		{"user error", 400, "", body(400, "USER_ERROR"), erp.Permanent, 0},
		{"record does not exist", 400, "", body(400, "RCRD_DSNT_EXIST"), erp.Permanent, 0},
		{"changed meanwhile", 400, "", body(400, "RCRD_HAS_BEEN_CHANGED"), erp.Retry, 0},
		{"unexpected error", 400, "", body(400, "UNEXPECTED_ERROR"), erp.Retry, 0},
		{"login", 401, "", body(401, "INVALID_LOGIN"), erp.Misconfigured, 0},
		{"permission", 403, "", body(403, "INSUFFICIENT_PERMISSION"), erp.Misconfigured, 0},
		{"unknown record type", 404, "", body(404, "NONEXISTENT_ID"), erp.Misconfigured, 0},
		{"timeout", 408, "", "", erp.Retry, 0},
		{"server error", 500, "", "<html>oops</html>", erp.Retry, 0},
		{"unavailable", 503, "", "", erp.Retry, 0},
	} {
		c := fixed(t, func(w http.ResponseWriter, _ *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		})
		err := post(t, c, erptest.Sample(erp.CashSale, "class-1"))[0]
		got, after := erp.Classify(err)
		if got != tc.want || after != tc.retryAfter {
			t.Errorf("%s: classified %s after %s, want %s after %s: %v", tc.name, got, after, tc.want, tc.retryAfter, err)
		}
		if status := errStatus(err); status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.status)
		}
	}
}

func errStatus(err error) int {
	var e *erp.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func TestRetryAfterAsHTTPDate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(ts.Close)
	c, err := netsuite.New(settings(ts.URL, nssim.DefaultCredentials()), erp.Deps{HTTP: ts.Client(), Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if cl, after := erp.Classify(post(t, c, erptest.Sample(erp.CashSale, "ra-1"))[0]); cl != erp.RateLimited || after != 90*time.Second {
		t.Fatalf("classified %s after %s", cl, after)
	}
}

func TestTransportFailuresAreTransient(t *testing.T) {
	t.Parallel()
	reset := fixed(t, func(w http.ResponseWriter, _ *http.Request) { erpsim.Drop(w) })
	if err := post(t, reset, erptest.Sample(erp.CashSale, "tr-1"))[0]; class(err) != erp.Retry {
		t.Errorf("a reset connection: %v", err)
	}
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) }) // runs first: the server can close
	client := ts.Client()
	client.Timeout = 100 * time.Millisecond
	stall, err := netsuite.New(settings(ts.URL, nssim.DefaultCredentials()), erp.Deps{HTTP: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := post(t, stall, erptest.Sample(erp.CashSale, "tr-2"))[0]; class(err) != erp.Retry {
		t.Errorf("a timeout: %v", err)
	}
}

// 20 goroutines post at once against an account that allows 5 requests
// in flight: keeping within the limit is the governor's job, not the
// connector's, but every refusal must come back as rate limited (so the
// governor backs off) and never as a failure that spends retries.
func TestConcurrencyLimitIsRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{Concurrency: 5, Latency: 50 * time.Millisecond}, nil)
	const n = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d := erptest.Sample(erp.CashSale, "conc-"+strconv.Itoa(i))
			e, err := b.conn.Post(context.Background(), []erp.Document{d})
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = e[0]
		}()
	}
	close(start)
	wg.Wait()
	ok, limited := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case class(err) == erp.RateLimited && errStatus(err) == http.StatusTooManyRequests:
			limited++
		default:
			t.Errorf("a refusal over the concurrency limit: %v", err)
		}
	}
	st := b.srv.Sim().Stats()
	if limited == 0 || ok == 0 || int(st.Created) != ok || st.PeakConcurrency > 5 {
		t.Fatalf("%d ok, %d rate limited; sim %+v", ok, limited, st)
	}
}

// A redelivered upsert replaces the record's lines: without ?replace=item
// NetSuite would add the lines again and double the quantities.
func TestRedeliveryKeepsTheLines(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, nil)
	d := erptest.Sample(erp.CashSale, "lines-1")
	for range 3 {
		mustPost(t, b.conn, d)
	}
	rec, ok := b.srv.Record("cashSale", "lines-1")
	if !ok {
		t.Fatal("no record")
	}
	if n := len(rec["item"].(map[string]any)["items"].([]map[string]any)); n != 2 {
		t.Fatalf("the sale has %d lines after redeliveries, want 2", n)
	}
}

func TestExternalIDsNetSuiteCannotTakeAreMapped(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, nil)
	d := erptest.Sample(erp.CashSale, "shopify:order#1001/1")
	mustPost(t, b.conn, d)
	mustPost(t, b.conn, d)
	st := b.srv.Sim().Stats()
	if st.Created != 1 || st.Duplicates != 0 {
		t.Fatalf("stats %+v", st)
	}
	for id := range st.Records {
		if !strings.HasPrefix(id, "shopify-order-1001-1-x") {
			t.Errorf("stored as %q", id)
		}
	}
}

// A cancellation closes the open lines of the order found by its number;
// a redelivery changes nothing and creates nothing.
func TestOrderCancel(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, nil)
	order := erptest.Sample(erp.SalesOrder, "so-1")
	order.Reference = "web-77"
	mustPost(t, b.conn, order)
	cancel := erptest.Sample(erp.OrderCancel, "cancel-1")
	cancel.Reference = "web-77"
	b.srv.Sim().Force(erpsim.ForceDrop) // the close commits, its answer is lost
	if err := post(t, b.conn, cancel)[0]; class(err) != erp.Retry {
		t.Fatalf("a dropped answer: %v", err)
	}
	mustPost(t, b.conn, cancel)
	mustPost(t, b.conn, cancel)
	rec, _ := b.srv.Record("salesOrder", "so-1")
	for _, l := range rec["item"].(map[string]any)["items"].([]map[string]any) {
		if l["isClosed"] != true {
			t.Errorf("line %v is open after the cancellation", l["line"])
		}
	}
	if st := b.srv.Sim().Stats(); st.Created != 1 || st.Records["cancel-1"] != 0 {
		t.Errorf("stats %+v", st)
	}

	// A cancellation of an order NetSuite does not have is retried: the
	// order is posted first in the same thread, or held elsewhere.
	other := erptest.Sample(erp.OrderCancel, "cancel-2")
	other.Reference = "web-unknown"
	if err := post(t, b.conn, other)[0]; class(err) != erp.Retry {
		t.Errorf("a cancellation without its order: %v", err)
	}
}

// A web order shipped then cancelled: the fulfilment ships every open
// line, and the cancellation closes them without touching the shipment.
func TestFulfilmentThenRedeliveredFulfilment(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, nil)
	order := erptest.Sample(erp.SalesOrder, "so-2")
	order.Reference = "web-88"
	ship := erptest.Sample(erp.Fulfilment, "ship-2")
	ship.Reference = "web-88"
	mustPost(t, b.conn, order, ship, ship)
	rec, _ := b.srv.Record("salesOrder", "so-2")
	if l := rec["item"].(map[string]any)["items"].([]map[string]any)[0]; l["quantityFulfilled"] != l["quantity"] {
		t.Errorf("line after fulfilment: %v", l)
	}
	if st := b.srv.Sim().Stats(); st.Records["ship-2"] != 1 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A transfer ships (transfer order + item fulfillment) and is received
// (item receipt); an answer lost after the fulfillment, and redeliveries
// of both sides, change nothing.
func TestTransferShippedAndReceived(t *testing.T) {
	t.Parallel()
	lost := &loseAnswer{match: "/!transform/itemFulfillment"}
	srv := nssim.New(erpsim.Options{}, nssim.DefaultCredentials())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	lost.next = ts.Client().Transport
	c, err := netsuite.New(settings(ts.URL, nssim.DefaultCredentials()), erp.Deps{HTTP: &http.Client{Transport: lost}})
	if err != nil {
		t.Fatal(err)
	}
	out := erptest.Sample(erp.TransferOrder, "out-1")
	out.Reference = "T-9"
	in := erptest.Sample(erp.TransferReceipt, "in-1")
	in.Reference = "T-9"

	if err := post(t, c, in)[0]; class(err) != erp.Retry {
		t.Fatalf("a receipt before its transfer order: %v", err)
	}
	if err := post(t, c, out)[0]; class(err) != erp.Retry {
		t.Fatalf("a lost answer: %v", err)
	}
	mustPost(t, c, out, out, in, in, out)
	to, _ := srv.Record("transferOrder", "T-9")
	l := to["item"].(map[string]any)["items"].([]map[string]any)[0]
	if l["quantityFulfilled"] != l["quantity"] || l["quantityReceived"] != l["quantity"] {
		t.Errorf("transfer order line %v", l)
	}
	st := srv.Sim().Stats()
	if st.Records["T-9"] != 1 || st.Records["out-1"] != 1 || st.Records["in-1"] != 1 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
}

// loseAnswer lets the first request whose path contains match through,
// then reports the connection lost: the commit-then-drop case for one
// step of a multi-request document.
type loseAnswer struct {
	match string
	next  http.RoundTripper
	mu    sync.Mutex
	done  bool
}

func (l *loseAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && !l.done && strings.Contains(req.URL.Path, l.match) {
		l.done = true
		_ = resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

func TestSummaryNeedsItsAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, map[string]string{"payment_accounts": "cash=1000"})
	err := post(t, b.conn, erptest.Sample(erp.Summary, "sum-1"))[0]
	if class(err) != erp.Misconfigured || !strings.Contains(err.Error(), "payment_accounts") {
		t.Fatalf("a summary with a tender without an account: %v", err)
	}
	b = setup(t, erpsim.Options{}, map[string]string{"adjustment_account": ""})
	err = post(t, b.conn, erptest.Sample(erp.InventoryAdjustment, "adj-1"))[0]
	if class(err) != erp.Misconfigured || !strings.Contains(err.Error(), "adjustment_account") {
		t.Fatalf("an adjustment without an account: %v", err)
	}
}

func TestSummaryWithTipsAndRefundsBalances(t *testing.T) {
	t.Parallel()
	b := setup(t, erpsim.Options{}, nil)
	d := erptest.Sample(erp.Summary, "sum-2")
	d.Payments = []erp.Payment{{Method: "card", Brand: "amex", Amount: 10000, Tip: 150}, {Method: "cash", Amount: -2500}}
	d.Taxes = []erp.TaxLine{{Code: "DE-VAT-19", Amount: 1197}, {Code: "DE-VAT-7", Amount: 0}}
	mustPost(t, b.conn, d)
	rec, _ := b.srv.Record("journalEntry", "sum-2")
	lines := rec["line"].(map[string]any)["items"].([]map[string]any)
	want := []struct{ account, debit, credit string }{
		{"1101", "101.50", ""}, {"1000", "", "25.00"}, {"2201", "", "11.97"}, {"2300", "", "1.50"}, {"4000", "", "63.03"},
	}
	if len(lines) != len(want) {
		t.Fatalf("journal lines %v", lines)
	}
	for i, w := range want {
		l := lines[i]
		if l["account"].(map[string]any)["id"] != w.account || str(l["debit"]) != w.debit || str(l["credit"]) != w.credit {
			t.Errorf("line %d = %v, want %+v", i, l, w)
		}
	}
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return v.(string)
}
