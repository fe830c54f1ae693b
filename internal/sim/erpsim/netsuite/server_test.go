package netsuite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
)

// oracle are the credentials of Oracle's signature example ("The Signature
// for Web Services and RESTlets").
var oracle = Credentials{
	AccountID:      "1234567_SB1",
	ConsumerKey:    "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
	ConsumerSecret: "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
	TokenID:        "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
	TokenSecret:    "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
}

// vectorHeader is a request signed outside Go (Python's urllib and hmac,
// checked with openssl): PUT https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/cashSale/eid:S-1?replace=item
// at 1508242306 with nonce fjaLirsIcCGVZWzBX0pg.
const vectorHeader = `OAuth realm="1234567_SB1", oauth_consumer_key="ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4", ` +
	`oauth_nonce="fjaLirsIcCGVZWzBX0pg", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1508242306", ` +
	`oauth_token="2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc", oauth_version="1.0", ` +
	`oauth_signature="2GIAuc6VXcP3Hpg7pBbdzs73aqbpDz1X2eTgDQINdWQ%3D"`

const vectorURL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/cashSale/eid:S-1?replace=item"

func TestAuthenticateAcceptsAnIndependentlySignedRequest(t *testing.T) {
	t.Parallel()
	s := New(erpsim.Options{}, oracle)
	s.now = func() time.Time { return time.Unix(1508242306+60, 0) }
	req := func(header, target string) *http.Request {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPut, target, nil)
		r.Header.Set("Authorization", header)
		return r
	}
	if err := s.authenticate(req(vectorHeader, vectorURL)); err != nil {
		t.Fatalf("a correctly signed request: %v", err)
	}
	if err := s.authenticate(req(vectorHeader, vectorURL)); err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("a replayed nonce: %v", err)
	}
	s = New(erpsim.Options{}, oracle)
	s.now = func() time.Time { return time.Unix(1508242306, 0) }
	for name, tc := range map[string]struct{ header, url string }{
		"other query":     {vectorHeader, strings.Replace(vectorURL, "replace=item", "replace=line", 1)},
		"other path":      {vectorHeader, strings.Replace(vectorURL, "S-1", "S-2", 1)},
		"other host":      {vectorHeader, strings.Replace(vectorURL, "1234567-sb1", "7654321", 1)},
		"plain http":      {vectorHeader, strings.Replace(vectorURL, "https:", "http:", 1)},
		"other realm":     {strings.Replace(vectorHeader, `realm="1234567_SB1"`, `realm="7654321"`, 1), vectorURL},
		"bad signature":   {strings.Replace(vectorHeader, "2GIAuc", "2GIAud", 1), vectorURL},
		"SHA-1":           {strings.Replace(vectorHeader, "HMAC-SHA256", "HMAC-SHA1", 1), vectorURL},
		"no signature":    {strings.Replace(vectorHeader, `, oauth_signature="2GIAuc6VXcP3Hpg7pBbdzs73aqbpDz1X2eTgDQINdWQ%3D"`, "", 1), vectorURL},
		"not OAuth":       {"Bearer abc", vectorURL},
		"other token":     {strings.Replace(vectorHeader, `oauth_token="2b0c`, `oauth_token="3b0c`, 1), vectorURL},
		"other consumer":  {strings.Replace(vectorHeader, `oauth_consumer_key="ef40`, `oauth_consumer_key="ff40`, 1), vectorURL},
		"garbled":         {`OAuth realm=1234567_SB1`, vectorURL},
		"duplicate param": {vectorHeader + `, oauth_nonce="again12345"`, vectorURL},
	} {
		if err := s.authenticate(req(tc.header, tc.url)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s.now = func() time.Time { return time.Unix(1508242306, 0).Add(6 * time.Minute) }
	if err := s.authenticate(req(vectorHeader, vectorURL)); err == nil || !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("a stale timestamp: %v", err)
	}
}

// client signs requests to a test server the way NetSuite expects.
type client struct {
	t     *testing.T
	ts    *httptest.Server
	creds Credentials
	n     atomic.Int64
}

func start(t *testing.T, opt erpsim.Options) (*Server, *client) {
	t.Helper()
	s := New(opt, DefaultCredentials())
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, &client{t: t, ts: ts, creds: DefaultCredentials()}
}

// do sends a signed request and returns the status and decoded body.
func (c *client) do(method, pathQuery, body string) (int, map[string]any) {
	c.t.Helper()
	st, out, err := c.send(method, pathQuery, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return st, out
}

func (c *client) send(method, pathQuery, body string) (int, map[string]any, error) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.ts.URL+pathQuery, rd) //nolint:noctx // test
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	q, _ := url.ParseQuery(req.URL.RawQuery)
	oauth := [][2]string{
		{"oauth_consumer_key", c.creds.ConsumerKey}, {"oauth_token", c.creds.TokenID},
		{"oauth_signature_method", "HMAC-SHA256"}, {"oauth_timestamp", strconv.FormatInt(time.Now().Unix(), 10)},
		{"oauth_nonce", fmt.Sprintf("nonce%015d", c.n.Add(1))}, {"oauth_version", "1.0"},
	}
	pairs := append([][2]string(nil), oauth...)
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	sig := expectedSignature(method, "http://"+req.URL.Host+req.URL.EscapedPath(), pairs, c.creds.ConsumerSecret, c.creds.TokenSecret)
	h := `OAuth realm="` + c.creds.AccountID + `"`
	for _, p := range oauth {
		h += `, ` + p[0] + `="` + encode(p[1]) + `"`
	}
	req.Header.Set("Authorization", h+`, oauth_signature="`+encode(sig)+`"`)
	resp, err := c.ts.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, nil
}

// errorCode returns the first o:errorCode and o:errorPath of a body.
func errorCode(body map[string]any) (string, string) {
	ds, _ := body["o:errorDetails"].([]any)
	if len(ds) == 0 {
		return "", ""
	}
	d := ds[0].(map[string]any)
	p, _ := d["o:errorPath"].(string)
	return d["o:errorCode"].(string), p
}

func TestUnauthenticatedRequestsGetNetSuitesError(t *testing.T) {
	t.Parallel()
	s, c := start(t, erpsim.Options{})
	resp, err := c.ts.Client().Get(c.ts.URL + "/services/rest/system/v1/governanceLimits") //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if code, _ := errorCode(body); resp.StatusCode != http.StatusUnauthorized || code != "INVALID_LOGIN" || body["title"] != "Unauthorized" {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	if s.Sim().Stats().Rejections["auth"] != 1 {
		t.Errorf("stats %+v", s.Sim().Stats())
	}
}

const sale = `{"entity":{"id":"42"},"subsidiary":{"id":"1"},"location":{"externalId":"store-1"},"tranDate":"2026-11-27",
 "item":{"items":[{"item":{"externalId":"TEE-1"},"quantity":2,"amount":20.00},{"item":{"externalId":"CAP-2"},"quantity":1,"amount":10.00}]}}`

func lines(s *Server, typ, eid string) []map[string]any {
	rec, ok := s.Record(typ, eid)
	if !ok {
		return nil
	}
	return rec["item"].(map[string]any)["items"].([]map[string]any)
}

// Without ?replace=item an update adds the body's lines, as NetSuite does;
// with it they replace the old ones. Either way the record is created once.
func TestUpsertSublistSemantics(t *testing.T) {
	t.Parallel()
	s, c := start(t, erpsim.Options{})
	for i := range 2 {
		if st, body := c.do(http.MethodPut, "/services/rest/record/v1/cashSale/eid:S-1", sale); st != http.StatusNoContent {
			t.Fatalf("upsert %d: %d %v", i, st, body)
		}
	}
	if n := len(lines(s, "cashSale", "S-1")); n != 4 {
		t.Fatalf("%d lines after an update without replace, want 4", n)
	}
	if st, body := c.do(http.MethodPut, "/services/rest/record/v1/cashSale/eid:S-1?replace=item", sale); st != http.StatusNoContent {
		t.Fatalf("%d %v", st, body)
	}
	if n := len(lines(s, "cashSale", "S-1")); n != 2 {
		t.Fatalf("%d lines after an update with replace=item, want 2", n)
	}
	st := s.Sim().Stats()
	if st.Created != 1 || st.Records["S-1"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	code, body := c.do(http.MethodGet, "/services/rest/record/v1/cashSale/eid:S-1", "")
	if code != http.StatusOK || body["externalId"] != "S-1" || body["id"] == "" {
		t.Fatalf("GET: %d %v", code, body)
	}
	if _, expanded := body["item"].(map[string]any)["items"]; expanded {
		t.Errorf("sublist lines shown without expandSubResources")
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	_, c := start(t, erpsim.Options{})
	without := func(field string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(sale), &m)
		delete(m, field)
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, errPath            string
	}{
		{"unknown item", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-1", strings.Replace(sale, "CAP-2", InvalidSKU, 1), 400, "INVALID_CONTENT", "item.items[1].item"},
		{"missing date", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-2", without("tranDate"), 400, "USER_ERROR", "tranDate"},
		{"missing customer", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-3", without("entity"), 400, "USER_ERROR", "entity"},
		{"no lines", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-4", without("item"), 400, "USER_ERROR", "item"},
		{"amount as a string", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-5", strings.Replace(sale, "20.00", `"20.00"`, 1), 400, "INVALID_CONTENT", "item.items[0].amount"},
		{"unknown field", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-6", strings.Replace(sale, `"tranDate"`, `"tranDat":"x","tranDate"`, 1), 400, "INVALID_CONTENT", "tranDat"},
		{"bad date", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-7", strings.Replace(sale, "2026-11-27", "27.11.2026", 1), 400, "INVALID_CONTENT", "tranDate"},
		{"unknown record type", http.MethodPut, "/services/rest/record/v1/cashSales/eid:V-8", sale, 404, "NONEXISTENT_ID", ""},
		{"upsert by internal ID", http.MethodPut, "/services/rest/record/v1/cashSale/12", sale, 400, "USER_ERROR", ""},
		{"bad external ID", http.MethodPut, "/services/rest/record/v1/cashSale/eid:a.b", sale, 400, "INVALID_CONTENT", ""},
		{"replace a field", http.MethodPut, "/services/rest/record/v1/cashSale/eid:V-9?replace=memo", sale, 400, "INVALID_PARAMETER", ""},
		{"fulfillment by upsert", http.MethodPut, "/services/rest/record/v1/itemFulfillment/eid:V-10", `{"tranDate":"2026-11-27"}`, 400, "USER_ERROR", ""},
		{"unbalanced journal", http.MethodPut, "/services/rest/record/v1/journalEntry/eid:V-11",
			`{"subsidiary":{"id":"1"},"tranDate":"2026-11-27","line":{"items":[{"account":{"id":"1"},"debit":10.00},{"account":{"id":"2"},"credit":9.99}]}}`, 400, "USER_ERROR", "line"},
		{"transfer to itself", http.MethodPut, "/services/rest/record/v1/transferOrder/eid:V-12",
			`{"subsidiary":{"id":"1"},"location":{"externalId":"s1"},"transferLocation":{"externalId":"s1"},"tranDate":"2026-11-27","orderStatus":{"id":"B"},"item":{"items":[{"item":{"externalId":"A"},"quantity":1}]}}`,
			400, "USER_ERROR", "transferLocation"},
		{"transform of nothing", http.MethodPost, "/services/rest/record/v1/salesOrder/eid:none/!transform/itemFulfillment", `{"externalId":"F-1"}`, 404, "NONEXISTENT_ID", ""},
		{"transform not supported", http.MethodPost, "/services/rest/record/v1/cashSale/eid:none/!transform/itemReceipt", `{"externalId":"F-1"}`, 400, "USER_ERROR", ""},
		{"unknown customer", http.MethodGet, "/services/rest/record/v1/customer/0", "", 404, "NONEXISTENT_ID", ""},
	} {
		st, body := c.do(tc.method, tc.path, tc.body)
		code, path := errorCode(body)
		if st != tc.status || code != tc.code || path != tc.errPath {
			t.Errorf("%s: %d %s at %q, want %d %s at %q: %v", tc.name, st, code, path, tc.status, tc.code, tc.errPath, body)
		}
	}
}

func TestTransforms(t *testing.T) {
	t.Parallel()
	s, c := start(t, erpsim.Options{})
	to := `{"subsidiary":{"id":"1"},"location":{"externalId":"s1"},"transferLocation":{"externalId":"s2"},"tranDate":"2026-11-27",
	 "orderStatus":{"id":"B"},"item":{"items":[{"item":{"externalId":"A"},"quantity":3}]}}`
	steps := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"transfer order", http.MethodPut, "/services/rest/record/v1/transferOrder/eid:T-1?replace=item", to, 204, ""},
		{"receipt before shipment", http.MethodPost, "/services/rest/record/v1/transferOrder/eid:T-1/!transform/itemReceipt", `{"externalId":"R-1"}`, 400, "USER_ERROR"},
		{"shipment", http.MethodPost, "/services/rest/record/v1/transferOrder/eid:T-1/!transform/itemFulfillment", `{"externalId":"F-1","tranDate":"2026-11-27"}`, 204, ""},
		{"shipment again", http.MethodPost, "/services/rest/record/v1/transferOrder/eid:T-1/!transform/itemFulfillment", `{"externalId":"F-1"}`, 400, "DUP_RCRD"},
		{"another shipment", http.MethodPost, "/services/rest/record/v1/transferOrder/eid:T-1/!transform/itemFulfillment", `{"externalId":"F-2"}`, 400, "USER_ERROR"},
		{"rewrite the shipped order", http.MethodPut, "/services/rest/record/v1/transferOrder/eid:T-1?replace=item", to, 400, "USER_ERROR"},
		{"receipt", http.MethodPost, "/services/rest/record/v1/transferOrder/eid:T-1/!transform/itemReceipt", `{"externalId":"R-1"}`, 204, ""},
	}
	for _, st := range steps {
		code, body := c.do(st.method, st.path, st.body)
		if got, _ := errorCode(body); code != st.status || got != st.code {
			t.Fatalf("%s: %d %v, want %d %s", st.name, code, body, st.status, st.code)
		}
	}
	rec, _ := s.Record("itemReceipt", "R-1")
	l := rec["item"].(map[string]any)["items"].([]map[string]any)[0]
	if l["quantity"] != json.Number("3") || l["location"].(map[string]any)["externalId"] != "s2" || rec["createdFrom"] == nil {
		t.Errorf("receipt %v", rec)
	}
	if st := s.Sim().Stats(); st.Created != 3 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestCollectionFilter(t *testing.T) {
	t.Parallel()
	_, c := start(t, erpsim.Options{})
	so := strings.Replace(sale, `"tranDate"`, `"otherRefNum":"web-1","orderStatus":{"id":"B"},"tranDate"`, 1)
	if st, body := c.do(http.MethodPut, "/services/rest/record/v1/salesOrder/eid:SO-1", so); st != http.StatusNoContent {
		t.Fatalf("%d %v", st, body)
	}
	for q, want := range map[string]int{`otherRefNum IS "web-1"`: 1, `otherRefNum IS web-1`: 1, `otherRefNum IS "web-2"`: 0, `externalId IS "SO-1"`: 1} {
		st, body := c.do(http.MethodGet, "/services/rest/record/v1/salesOrder?q="+url.QueryEscape(q), "")
		if st != http.StatusOK || body["totalResults"] != float64(want) {
			t.Errorf("q=%s: %d %v", q, st, body)
		}
	}
	if st, _ := c.do(http.MethodGet, "/services/rest/record/v1/salesOrder?q="+url.QueryEscape("otherRefNum LIKE x"), ""); st != http.StatusBadRequest {
		t.Errorf("an unsupported filter: %d", st)
	}
}

func TestGovernanceLimits(t *testing.T) {
	t.Parallel()
	for conc, want := range map[int]float64{9: 9, 0: baseConcurrencyLimit} {
		_, c := start(t, erpsim.Options{Concurrency: conc})
		st, body := c.do(http.MethodGet, "/services/rest/system/v1/governanceLimits", "")
		if st != http.StatusOK || body["accountConcurrencyLimit"] != want || body["integrationLimitType"] != "accountLimit" {
			t.Errorf("concurrency %d: %d %v", conc, st, body)
		}
	}
}

func TestThrottleAndDrop(t *testing.T) {
	t.Parallel()
	s, c := start(t, erpsim.Options{})
	s.Sim().Force(erpsim.ForceThrottle)
	st, body := c.do(http.MethodPut, "/services/rest/record/v1/cashSale/eid:S-9", sale)
	if code, _ := errorCode(body); st != http.StatusTooManyRequests || code != "CONCURRENCY_LIMIT_EXCEEDED" {
		t.Fatalf("forced throttle: %d %v", st, body)
	}
	s.Sim().Force(erpsim.ForceDrop)
	if _, _, err := c.send(http.MethodPut, "/services/rest/record/v1/cashSale/eid:S-9", sale); err == nil {
		t.Fatal("a dropped answer arrived")
	}
	req, _ := http.NewRequest(http.MethodGet, c.ts.URL+"/_sim/stats", nil) //nolint:noctx // test
	resp, err := c.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var stats erpsim.Stats
	_ = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats.Rejections["forced_throttle"] != 1 || stats.Dropped != 1 || stats.Records["S-9"] != 1 {
		t.Errorf("stats %+v", stats)
	}
}
