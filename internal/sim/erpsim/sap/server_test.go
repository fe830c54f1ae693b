package sap_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
	"github.com/tillsync/tillsync/internal/sim/erpsim/sap"
)

const root = "/sap/opu/odata/sap/API_SALES_ORDER_SRV/"

type client struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
}

func setup(t *testing.T) (*sap.Server, *client) {
	t.Helper()
	s := sap.New(erpsim.Options{}, sap.DefaultCredentials())
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	hc := srv.Client()
	hc.Jar = jar
	return s, &client{t: t, base: srv.URL, http: hc}
}

// reply is an answer read whole.
type reply struct {
	StatusCode int
	Header     http.Header
	body       []byte
}

func (c *client) do(method, path, contentType, body string, hdr map[string]string) reply {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	creds := sap.DefaultCredentials()
	req.SetBasicAuth(creds.User, creds.Password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply{StatusCode: resp.StatusCode, Header: resp.Header, body: b}
}

func (c *client) fetch() {
	c.t.Helper()
	resp := c.do(http.MethodGet, root, "", "", map[string]string{"X-CSRF-Token": "Fetch"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-CSRF-Token") == "" {
		c.t.Fatalf("fetch: HTTP %d, token %q", resp.StatusCode, resp.Header.Get("X-CSRF-Token"))
	}
	c.token = resp.Header.Get("X-CSRF-Token")
}

func order(ref, material, requestID string) string {
	body := fmt.Sprintf(`{"SalesOrderType":"CS","SalesOrganization":"1010","DistributionChannel":"10","OrganizationDivision":"00",`+
		`"SoldToParty":"1000001","PurchaseOrderByCustomer":%q,"TransactionCurrency":"EUR","to_Item":[{"SalesOrderItem":"10",`+
		`"Material":%q,"RequestedQuantity":"3","RequestedQuantityUnit":"PC","to_PricingElement":[{"ConditionType":"PPR0",`+
		`"ConditionRateValue":"10.00","ConditionCurrency":"EUR","ConditionQuantity":"3","ConditionQuantityUnit":"PC"}]}]}`, ref, material)
	h := "Content-Type: application/json\r\n"
	if requestID != "" {
		h += "Repeatability-Request-ID: " + requestID + "\r\nRepeatability-First-Sent: Fri, 27 Nov 2026 09:00:00 GMT\r\n"
	}
	return fmt.Sprintf("POST A_SalesOrder HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s\r\n", h, len(body), body)
}

func batchBody(changeSets ...string) string {
	var b strings.Builder
	for i, op := range changeSets {
		fmt.Fprintf(&b, "--batch_t\r\nContent-Type: multipart/mixed; boundary=cs_%d\r\n\r\n--cs_%d\r\n"+
			"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n%s\r\n--cs_%d--\r\n\r\n", i, i, op, i)
	}
	b.WriteString("--batch_t--\r\n")
	return b.String()
}

// answer is one top-level part of a $batch answer: its statuses and
// headers (one per operation for a change set that succeeded).
type answer struct {
	changeSet bool
	statuses  []int
	headers   []http.Header
	bodies    []string
}

func (c *client) batch(changeSets ...string) []answer {
	c.t.Helper()
	resp := c.do(http.MethodPost, root+"$batch", "multipart/mixed; boundary=batch_t", batchBody(changeSets...),
		map[string]string{"X-CSRF-Token": c.token})
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("$batch: HTTP %d: %s", resp.StatusCode, resp.body)
	}
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mr := multipart.NewReader(bytes.NewReader(resp.body), params["boundary"])
	var out []answer
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			c.t.Fatal(err)
		}
		var a answer
		read := func(r io.Reader) {
			hr, err := http.ReadResponse(bufio.NewReader(r), nil)
			if err != nil {
				c.t.Fatal(err)
			}
			b, _ := io.ReadAll(hr.Body)
			hr.Body.Close()
			a.statuses, a.headers, a.bodies = append(a.statuses, hr.StatusCode), append(a.headers, hr.Header), append(a.bodies, string(b))
		}
		_, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if cp["boundary"] != "" {
			a.changeSet = true
			cr := multipart.NewReader(p, cp["boundary"])
			for {
				q, err := cr.NextPart()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					c.t.Fatal(err)
				}
				read(q)
			}
		} else {
			read(p)
		}
		out = append(out, a)
	}
}

func TestLogonFailsWithoutCredentials(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, c.base+root, http.NoBody)
	req.SetBasicAuth("TILLSYNC_COMM", "wrong")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("HTTP %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestModifyingRequestsNeedAToken(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	resp := c.do(http.MethodPost, root+"$batch", "multipart/mixed; boundary=batch_t", batchBody(order("r-1", "TEE-1", "")), nil)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-CSRF-Token") != "Required" {
		t.Fatalf("without a token: HTTP %d, X-CSRF-Token %q", resp.StatusCode, resp.Header.Get("X-CSRF-Token"))
	}
	c.fetch()
	if a := c.batch(order("r-1", "TEE-1", "")); a[0].statuses[0] != http.StatusCreated {
		t.Fatalf("with a token: %+v", a)
	}
	s.ExpireTokens()
	resp = c.do(http.MethodPost, root+"$batch", "multipart/mixed; boundary=batch_t", batchBody(order("r-2", "TEE-1", "")),
		map[string]string{"X-CSRF-Token": c.token})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an expired token: HTTP %d", resp.StatusCode)
	}
}

// The answer is 200 whatever happened inside; the failed change set
// answers one 400 with an OData error and leaves nothing behind.
func TestBatchAnswersEachChangeSet(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	c.fetch()
	a := c.batch(order("ok-1", "TEE-1", ""), order("bad-1", sap.InvalidMaterial, ""), order("ok-2", "CAP-2", ""))
	if len(a) != 3 || !a[0].changeSet || a[1].changeSet || !a[2].changeSet {
		t.Fatalf("answers %+v", a)
	}
	if a[0].statuses[0] != http.StatusCreated || a[1].statuses[0] != http.StatusBadRequest || a[2].statuses[0] != http.StatusCreated {
		t.Fatalf("statuses %v %v %v", a[0].statuses, a[1].statuses, a[2].statuses)
	}
	var e struct {
		Error struct {
			Code    string
			Message struct{ Lang, Value string }
		}
	}
	if err := json.Unmarshal([]byte(a[1].bodies[0]), &e); err != nil || e.Error.Code != "M3/305" ||
		!strings.Contains(e.Error.Message.Value, sap.InvalidMaterial) || e.Error.Message.Lang != "en" {
		t.Fatalf("OData error %s", a[1].bodies[0])
	}
	if !strings.Contains(a[0].bodies[0], `"TotalNetAmount":"10.00"`) {
		t.Errorf("created answer %s", a[0].bodies[0])
	}
	st := s.Sim().Stats()
	if st.Records["ok-1"] != 1 || st.Records["ok-2"] != 1 || st.Records["bad-1"] != 0 || st.Rejections["validation"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRepeatabilityAnswersTheFirstResult(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	c.fetch()
	id := "8f2c2c1e-2a4b-5c6d-8e9f-0a1b2c3d4e5f"
	first := c.batch(order("rep-1", "TEE-1", id))
	again := c.batch(order("rep-1", "TEE-1", id))
	if first[0].bodies[0] != again[0].bodies[0] || again[0].headers[0].Get("Repeatability-Result") != "accepted" {
		t.Fatalf("repeated answer %q vs %q", again[0].bodies[0], first[0].bodies[0])
	}
	if n := s.Sim().Stats().Records["rep-1"]; n != 1 {
		t.Fatalf("created %d times", n)
	}

	s.IgnoreRepeatability("API_SALES_ORDER_SRV")
	c.batch(order("rep-2", "TEE-1", id+"0"))
	c.batch(order("rep-2", "TEE-1", id+"0"))
	if st := s.Sim().Stats(); st.Records["rep-2"] != 2 || st.Duplicates != 1 {
		t.Fatalf("an API without repeatability must duplicate: %+v", st)
	}
}

func TestFilterByReference(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	c.fetch()
	c.batch(order("a'1", "TEE-1", ""), order("b-2", "TEE-1", ""))
	q := url.QueryEscape("PurchaseOrderByCustomer eq 'a''1' or PurchaseOrderByCustomer eq 'zzz'")
	resp := c.do(http.MethodGet, root+"A_SalesOrder?$filter="+q+"&$format=json", "", "", nil)
	var v struct {
		D struct {
			Results []map[string]any `json:"results"`
		} `json:"d"`
	}
	if err := json.Unmarshal(resp.body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.D.Results) != 1 || v.D.Results[0]["PurchaseOrderByCustomer"] != "a'1" || v.D.Results[0]["SalesOrder"] == "" {
		t.Fatalf("results %+v", v.D.Results)
	}
	resp = c.do(http.MethodGet, root+"A_SalesOrder?$filter="+url.QueryEscape("SoldToParty eq '1'"), "", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unsupported filter: HTTP %d", resp.StatusCode)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	resp, err := c.http.Get(c.base + "/_sim/stats") //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st erpsim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Records == nil {
		t.Fatalf("stats: %v %+v", err, st)
	}
}
