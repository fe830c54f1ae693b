package hub_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	shopifysim "github.com/tillsync/tillsync/internal/sim/shopify"
	"github.com/tillsync/tillsync/internal/source/square"
)

const adminKey = "admin-key-openapi"

// apiHub is a hub with every route mounted: a store, an admin API key, an
// ERP destination on a simulated NetSuite, a Shopify shop "main" and a
// Square account "sq".
func apiHub(t *testing.T) *liveHub {
	t.Helper()
	t.Setenv("TEST_SHOPIFY_SECRET", "shpss_test_secret")
	ns := startNetSuite(t, erpsim.Options{})
	cfg := nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), ns.url, nssim.DefaultCredentials())
	cfg.APIKeys = []config.APIKey{{Name: "ops", Role: "admin", KeySHA256: intake.HashToken(adminKey)}}
	cfg.Shopify = []config.ShopifySource{{Name: "main", Shop: "tillsync-test.myshopify.com", SecretEnv: "TEST_SHOPIFY_SECRET",
		Locations: map[string]string{"64001": "s1"}, DefaultLocation: "s1", Zone: et.Zone, Currency: "EUR"}}
	cfg.Square = []config.SquareSource{{Config: square.Config{Name: "sq", SignatureKeys: []string{"sig-key"},
		NotificationURL: "https://hub.example.com/v1/sources/square/sq", AccessToken: "tok", APIBaseURL: "http://127.0.0.1:1",
		Locations: map[string]string{"L1": "s1"}, Zone: et.Zone, Currency: "EUR"}}}
	return runHub(t, cfg)
}

// docOps reads the document's operations as "METHOD /path".
func docOps(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			switch method {
			case "get", "post", "put", "patch", "delete", "head", "options":
				ops[strings.ToUpper(method)+" "+path] = op.(map[string]any)
			}
		}
	}
	return ops
}

func loadDoc(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("openapi.json does not decode: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi is %q, want 3.1.x", v)
	}
	return doc
}

// routeTemplate turns a registered pattern into the document's form: the
// per-source webhook routes are one templated path each.
func routeTemplate(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	for _, prefix := range []string{"/v1/sources/shopify/", "/v1/sources/square/"} {
		if strings.HasPrefix(path, prefix) {
			path = prefix + "{name}"
		}
	}
	return strings.TrimSpace(method + " " + path)
}

// TestOpenAPIMatchesRoutes: every route the hub registers is in the
// document with the same method, and every documented operation is a real
// route — the document cannot drift from the mux.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := apiHub(t)
	doc := loadDoc(t, hub.OpenAPI())
	ops := docOps(t, doc)
	registered := map[string]bool{}
	for _, p := range h.Routes() {
		r := routeTemplate(p)
		p := r
		if i := strings.IndexByte(r, ' '); i >= 0 {
			p = r[i+1:]
		}
		if !strings.HasPrefix(p, "/v1/") && p != "/metrics" {
			continue // not part of the JSON API (the dashboard)
		}
		if !strings.Contains(r, " ") {
			// A route for every method (intake answers 405 itself): the
			// document must name exactly one method for its path.
			var methods []string
			for op := range ops {
				if strings.HasSuffix(op, " "+r) {
					methods = append(methods, op)
				}
			}
			if len(methods) != 1 {
				t.Errorf("route %q (any method) is documented as %v; want exactly one operation", p, methods)
				continue
			}
			r = methods[0]
		}
		registered[r] = true
		if ops[r] == nil {
			t.Errorf("route %q is registered but not in internal/hub/openapi.json", p)
		}
	}
	for op := range ops {
		if !registered[op] {
			t.Errorf("openapi.json documents %q, but the hub registers no such route", op)
		}
	}
}

// apiCall is one representative request.
type apiCall struct {
	method, path, auth string
	body               any
	header             map[string]string
	want               int
}

// TestOpenAPIAnswersMatchSchemas runs a representative request for every
// documented operation against a real hub and checks the answer's status
// is documented and its body validates against the documented schema.
func TestOpenAPIAnswersMatchSchemas(t *testing.T) {
	h := apiHub(t)
	ctx := context.Background()
	// Some data: a sale that oversells (stock goes negative), then an
	// unknown route's worth of calls.
	sale := et.Sale("oa-sale-1", "s1", time.Now().UTC(), et.L("SKU-OA", 2))
	raw, _ := json.Marshal(sale)
	shop := shopifysim.New(shopifysim.Config{Domain: "tillsync-test.myshopify.com", Currency: "EUR"})
	_, deliveries := shop.POSOrder(64001, shopifysim.Line{SKU: "JKT-M", Qty: 1, Price: 12900})

	calls := []apiCall{
		{method: "GET", path: "/v1/openapi.json", want: 200},
		{method: "POST", path: "/v1/events", auth: tokS1, body: map[string]any{"events": []json.RawMessage{raw}}, want: 200},
		{method: "POST", path: "/v1/events", auth: tokS1, body: map[string]any{"events": []any{}}, want: 400},
		{method: "POST", path: "/v1/events", auth: "wrong", body: map[string]any{"events": []json.RawMessage{raw}}, want: 401},
		{method: "GET", path: "/v1/events", auth: tokS1, want: 405},
		{method: "POST", path: "/v1/edge/status", auth: tokS1, body: intake.EdgeReport{ID: "edge-1", Backlog: 3}, want: 204},
		{method: "GET", path: "/v1/edge/snapshot", auth: tokS1, want: 200},
		{method: "GET", path: "/v1/stores", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/stores", want: 401},
		{method: "GET", path: "/v1/stock/SKU-OA", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/oversells", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/oversells?limit=x", auth: adminKey, want: 400},
		{method: "GET", path: "/v1/health", want: 200},
		{method: "GET", path: "/metrics", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/destinations", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/destinations/" + nsDest + "/dead-letters", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/destinations/nope/dead-letters", auth: adminKey, want: 404},
		{method: "POST", path: "/v1/destinations/" + nsDest + "/pause", auth: adminKey, want: 202},
		{method: "POST", path: "/v1/destinations/" + nsDest + "/resume", auth: adminKey, want: 202},
		{method: "POST", path: "/v1/destinations/" + nsDest + "/replay", auth: adminKey, body: map[string]any{"from_seq": 0}, want: 202},
		{method: "POST", path: "/v1/destinations/" + nsDest + "/replay", auth: adminKey, body: map[string]any{"dead_letters": true}, want: 202},
		{method: "POST", path: "/v1/destinations/" + nsDest + "/replay", auth: adminKey, body: map[string]any{}, want: 400},
		{method: "GET", path: "/v1/audit", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/inbox", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/inbox?limit=0", auth: adminKey, want: 400},
		{method: "GET", path: "/v1/inbox/999", auth: adminKey, want: 404},
		{method: "POST", path: "/v1/inbox/999/actions", auth: adminKey, body: map[string]any{"action": "acknowledge"}, want: 404},
		{method: "GET", path: "/v1/quarantine", auth: adminKey, want: 200},
		{method: "GET", path: "/v1/quarantine?state=lost", auth: adminKey, want: 400},
		{method: "POST", path: "/v1/quarantine/rules", auth: adminKey, body: map[string]any{"source": "pos", "code": "X", "sku": "Y"}, want: 409},
		{method: "POST", path: "/v1/sources/square/sq", body: map[string]any{}, want: 401},
	}
	doc := loadDoc(t, hub.OpenAPI())
	ops := docOps(t, doc)
	exercised := map[string]bool{}
	for _, c := range calls {
		got, ct, body := sendCall(t, h.url, c)
		op := opFor(ops, c.method, c.path)
		if op == "" {
			t.Errorf("%s %s: no documented operation", c.method, c.path)
			continue
		}
		exercised[op] = true
		checkAnswer(t, doc, ops[op], fmt.Sprintf("%s %s", c.method, c.path), c.want, got, ct, body)
	}
	// A Shopify webhook, signed as Shopify signs it; its answer captured.
	capture := &capturer{}
	em := &shopifysim.Emitter{URL: h.url + "/v1/sources/shopify/main", Domain: shop.Domain(), Secret: "shpss_test_secret",
		Client: &http.Client{Transport: capture}}
	status, err := em.Send(ctx, deliveries[0], "wh-oa")
	if err != nil {
		t.Fatal(err)
	}
	op := "POST /v1/sources/shopify/{name}"
	exercised[op] = true
	checkAnswer(t, doc, ops[op], "shopify webhook", 200, status, capture.ct, capture.body)
	// The availability stream: its data lines are AvailabilityUpdates.
	op = "GET /v1/availability/stream"
	exercised[op] = true
	checkStream(t, doc, ops[op], h.url+"/v1/availability/stream?snapshot=true&sku=SKU-OA")
	var missed []string
	for op := range ops {
		if !exercised[op] {
			missed = append(missed, op)
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Errorf("documented operations with no representative request in this test: %v", missed)
	}
}

func sendCall(t *testing.T, base string, c apiCall) (int, string, []byte) {
	t.Helper()
	var r io.Reader
	if c.body != nil {
		b, _ := json.Marshal(c.body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), c.method, base+c.path, r)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", "Bearer "+c.auth)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// opFor finds the documented operation a concrete request is for.
func opFor(ops map[string]map[string]any, method, rawPath string) string {
	path, _, _ := strings.Cut(rawPath, "?")
	got := strings.Split(path, "/")
	// 405 answers belong to the path's documented operation.
	var candidates []string
	for op := range ops {
		m, p, _ := strings.Cut(op, " ")
		want := strings.Split(p, "/")
		if len(want) != len(got) {
			continue
		}
		match := true
		for i := range want {
			if want[i] != got[i] && !strings.HasPrefix(want[i], "{") {
				match = false
			}
		}
		if match && m == method {
			return op
		}
		if match {
			candidates = append(candidates, op)
		}
	}
	if len(candidates) == 1 {
		return candidates[0]
	}
	return ""
}

// checkAnswer asserts that status is one the operation documents (or its
// default) and that body validates against that response's schema.
func checkAnswer(t *testing.T, doc, op map[string]any, what string, want, status int, ct string, body []byte) {
	t.Helper()
	if status != want {
		t.Errorf("%s: status %d, want %d (body %s)", what, status, want, body)
		return
	}
	responses := op["responses"].(map[string]any)
	r, ok := responses[fmt.Sprint(status)]
	if !ok && status == http.StatusMethodNotAllowed {
		r, ok = responses["default"]
	}
	if !ok && status >= 400 {
		r, ok = responses["default"]
	}
	if !ok {
		t.Errorf("%s: status %d is not documented", what, status)
		return
	}
	resp := resolveRef(doc, r.(map[string]any))
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			t.Errorf("%s: documented without a body, answered %q", what, body)
		}
		return
	}
	mt, _, _ := strings.Cut(ct, ";")
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Errorf("%s: answered Content-Type %q; documented %v", what, ct, sortedKeys(content))
		return
	}
	if mt != "application/json" {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s: body is not JSON: %v", what, err)
		return
	}
	for _, p := range validateSchema(doc, media["schema"].(map[string]any), v, "$") {
		t.Errorf("%s: %s", what, p)
	}
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func resolveRef(doc, s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		s = cur.(map[string]any)
	}
}

// validateSchema checks v against the JSON-schema subset the document uses:
// $ref, type (one or a list), required, properties, additionalProperties,
// items, enum. It returns every problem, with its path.
func validateSchema(doc, s map[string]any, v any, path string) []string {
	s = resolveRef(doc, s)
	var out []string
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return hasJSONType(v, t) }) {
			return []string{fmt.Sprintf("%s: %v is not of type %v", path, shortValue(v), types)}
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		out = append(out, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := v[r]; !ok {
				out = append(out, fmt.Sprintf("%s: required property %q is missing", path, r))
			}
		}
		for k, x := range v {
			if ps, ok := props[k].(map[string]any); ok {
				out = append(out, validateSchema(doc, ps, x, path+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					out = append(out, fmt.Sprintf("%s: property %q is not documented", path, k))
				}
			case map[string]any:
				out = append(out, validateSchema(doc, ap, x, path+"."+k)...)
			default:
				if props != nil {
					out = append(out, fmt.Sprintf("%s: property %q is not documented", path, k))
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range v {
				out = append(out, validateSchema(doc, items, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return out
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, x.(string))
		}
	}
	return out
}

func hasJSONType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func shortValue(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// The validator must catch what drift looks like, or the tests above
// prove nothing.
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	doc := loadDoc(t, hub.OpenAPI())
	schema := map[string]any{"$ref": "#/components/schemas/Destination"}
	good := map[string]any{"name": "n", "mode": "detail", "cursor": json.Number("1"), "paused": false, "kind": "netsuite", "account": "a",
		"lag_events": json.Number("0"), "dead_letters": json.Number("0"), "governor": map[string]any{"ceiling": json.Number("1"), "limit": json.Number("1.5"), "in_flight": json.Number("0")}}
	if p := validateSchema(doc, schema, good, "$"); len(p) > 0 {
		t.Fatalf("a valid destination fails: %v", p)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"missing required":   func(m map[string]any) { delete(m, "cursor") },
		"wrong type":         func(m map[string]any) { m["paused"] = "no" },
		"not in enum":        func(m map[string]any) { m["mode"] = "bulk" },
		"undocumented field": func(m map[string]any) { m["surprise"] = true },
		"nested wrong type":  func(m map[string]any) { m["governor"].(map[string]any)["ceiling"] = json.Number("1.5") },
	} {
		bad := map[string]any{}
		for k, v := range good {
			bad[k] = v
		}
		bad["governor"] = map[string]any{"ceiling": json.Number("1"), "limit": json.Number("1.5"), "in_flight": json.Number("0")}
		mutate(bad)
		if p := validateSchema(doc, schema, bad, "$"); len(p) == 0 {
			t.Errorf("%s: validator found nothing", name)
		}
	}
}

// capturer is a transport that keeps the last answer's body.
type capturer struct {
	ct   string
	body []byte
}

func (c *capturer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c.body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	c.ct = resp.Header.Get("Content-Type")
	resp.Body = io.NopCloser(bytes.NewReader(c.body))
	return resp, nil
}

// checkStream opens the SSE stream and validates its first data line.
func checkStream(t *testing.T, doc, op map[string]any, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := resolveRef(doc, op["responses"].(map[string]any)["200"].(map[string]any))
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || r["content"].(map[string]any)[ct] == nil {
		t.Fatalf("stream answered %d %q", resp.StatusCode, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("stream data is not JSON: %v", err)
		}
		for _, p := range validateSchema(doc, map[string]any{"$ref": "#/components/schemas/AvailabilityUpdate"}, v, "$") {
			t.Errorf("stream: %s", p)
		}
		return
	}
	t.Fatalf("the stream sent no data line: %v", sc.Err())
}
