package sap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
)

// Connector posts documents to one SAP S/4HANA system.
type Connector struct {
	cfg      config
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time
	boundary func() string

	mu sync.Mutex
	// tokens are the CSRF tokens per service, valid for the session
	// cookies in the client's jar.
	tokens map[string]string
	// repeatable marks services seen to honour Repeatability-Request-ID.
	repeatable map[string]bool

	uncertain *memo[struct{}]
	firstSent *memo[time.Time]
}

var (
	_ erp.Connector = (*Connector)(nil)
	_ erp.Checker   = (*Connector)(nil)
)

// memoSize bounds what the connector remembers per external ID.
const memoSize = 1 << 14

// New validates the settings and returns a connector. deps.HTTP is copied,
// not changed: the connector keeps its own cookie jar (SAP ties the CSRF
// token to the session cookies) and sees redirects instead of following
// them to a logon page.
func New(settings map[string]string, deps erp.Deps) (*Connector, error) {
	cfg, err := parseConfig(settings)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 2 * time.Minute}
	if deps.HTTP != nil {
		cp := *deps.HTTP
		hc = &cp
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("sap: cookie jar: %w", err)
	}
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Connector{cfg: cfg, http: hc, log: deps.Log, now: deps.Clock, tokens: map[string]string{},
		repeatable: map[string]bool{}, uncertain: newMemo[struct{}](memoSize), firstSent: newMemo[time.Time](memoSize),
		boundary: randomBoundary}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func randomBoundary() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// MaxBatch implements erp.Connector: documents per $batch request.
func (c *Connector) MaxBatch() int { return c.cfg.maxBatch }

// Check implements erp.Checker: fetching a CSRF token from every service
// proves the URL, the credentials and the user's authorisation for each
// API.
func (c *Connector) Check(ctx context.Context) error {
	for _, svc := range services {
		if _, err := c.token(ctx, svc, true); err != nil {
			return err
		}
	}
	return nil
}

// Post implements erp.Connector. Documents are grouped by service (one
// $batch endpoint each); within a service every document is one change
// set. Change sets are atomic and independent of each other: a document
// SAP refuses rolls back alone and the others are created — one change set
// for the whole batch would let one unknown material lose a whole page of
// sales.
func (c *Connector) Post(ctx context.Context, docs []erp.Document) ([]error, error) {
	errs := make([]error, len(docs))
	plans := make([]*plan, len(docs))
	first := map[string]int{}
	dupOf := map[int]int{}
	var groups []*group
	bySvc := map[*service]*group{}
	planned := 0
	for i := range docs {
		if j, dup := first[docs[i].ExternalID]; dup {
			dupOf[i] = j // the same document twice in one call: post it once
			continue
		}
		first[docs[i].ExternalID] = i
		p, err := c.plan(&docs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		plans[i] = p
		planned++
		g := bySvc[p.svc]
		if g == nil {
			g = &group{svc: p.svc}
			bySvc[p.svc] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	var whole error
	for _, g := range groups {
		if err := c.postGroup(ctx, g, plans, errs); err != nil {
			whole = err
		}
	}
	for i, j := range dupOf {
		errs[i] = errs[j]
	}
	if whole != nil && len(groups) == 1 && planned == len(first) && len(first) == len(docs) {
		return nil, whole // nothing is known about any document
	}
	return errs, nil
}

type group struct {
	svc *service
	idx []int
}

// postGroup posts the documents of one service. It sets errs for each and
// returns an error only when the group failed as a whole, before anything
// was learnt about any of its documents.
func (c *Connector) postGroup(ctx context.Context, g *group, plans []*plan, errs []error) error {
	svc := g.svc
	repeatable := c.isRepeatable(svc)
	var check []int
	for _, i := range g.idx {
		if _, doubt := c.uncertain.get(plans[i].doc.ExternalID); doubt || !repeatable {
			check = append(check, i)
		}
	}
	done := map[int]bool{}
	if len(check) > 0 {
		refs := make([]string, len(check))
		for k, i := range check {
			refs[k] = plans[i].ref
		}
		found, err := c.lookup(ctx, svc, refs)
		if err != nil {
			for _, i := range g.idx {
				errs[i] = err
			}
			return err
		}
		for _, i := range check {
			if key, ok := found[plans[i].ref]; ok {
				done[i] = true
				c.uncertain.del(plans[i].doc.ExternalID)
				c.log.Info("sap: record already exists; not creating it again", "service", svc.name,
					"external_id", plans[i].doc.ExternalID, svc.keyField, key)
			}
		}
	}
	var todo []int
	for _, i := range g.idx {
		if !done[i] {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	var whole error
	for start := 0; start < len(todo); start += c.cfg.maxBatch {
		chunk := todo[start:min(start+c.cfg.maxBatch, len(todo))]
		changeSets := make([][]operation, len(chunk))
		for k, i := range chunk {
			changeSets[k] = c.operations(plans[i])
		}
		results, err := c.postBatch(ctx, svc, changeSets)
		if err == nil && len(results) != len(chunk) {
			err = erp.Retryable(fmt.Errorf("POST %s/$batch: %d answers for %d change sets", svc.name, len(results), len(chunk)))
		}
		if err != nil {
			for _, i := range chunk {
				errs[i] = err
				if uncertain(err) {
					c.uncertain.put(plans[i].doc.ExternalID, struct{}{})
				}
			}
			if len(done) == 0 && len(chunk) == len(g.idx) {
				whole = err
			}
			continue
		}
		for k, i := range chunk {
			errs[i] = c.outcome(svc, plans[i], results[k])
		}
	}
	return whole
}

// operations are the POSTs of a document's change set.
func (c *Connector) operations(p *plan) []operation {
	sent := c.firstSentAt(p.doc.ExternalID).Format(http.TimeFormat)
	ops := make([]operation, len(p.bodies))
	for n, body := range p.bodies {
		ops[n] = operation{method: http.MethodPost, path: p.svc.entitySet, body: body, header: [][2]string{
			{"Content-Type", "application/json"},
			{"Accept", "application/json"},
			{"Repeatability-Request-ID", requestID(p.doc.ExternalID, n)},
			{"Repeatability-First-Sent", sent},
		}}
	}
	return ops
}

// outcome reads the answer to one document's change set.
func (c *Connector) outcome(svc *service, p *plan, r result) error {
	ext := p.doc.ExternalID
	what := fmt.Sprintf("%s %s (%s)", svc.entitySet, ext, p.doc.Kind)
	doubt := func(err error) error {
		c.uncertain.put(ext, struct{}{})
		return err
	}
	if !r.changeSet { // a failed change set answers one response
		err := classify(r.status, r.header, r.body, what)
		if r.status/100 == 2 {
			return doubt(erp.Retryable(fmt.Errorf("%s: HTTP %d outside a change set", what, r.status)))
		}
		if uncertain(err) || rejected(r.header) {
			return doubt(err)
		}
		return err
	}
	if len(r.ops) != len(p.bodies) {
		return doubt(erp.Retryable(fmt.Errorf("%s: %d answers for %d operations", what, len(r.ops), len(p.bodies))))
	}
	accepted := true
	var keys []string
	for _, op := range r.ops {
		if op.status/100 != 2 {
			return doubt(classify(op.status, op.header, op.body, what))
		}
		if rejected(op.header) {
			return doubt(&erp.Error{Class: erp.Retry, Status: op.status,
				Err: fmt.Errorf("%s: the server refused the repeatable request; the retry looks the record up first", what)})
		}
		accepted = accepted && strings.EqualFold(op.header.Get("Repeatability-Result"), "accepted")
		keys = append(keys, createdKey(op.body, svc.keyField))
	}
	if accepted {
		c.setRepeatable(svc)
	}
	c.uncertain.del(ext)
	c.log.Debug("sap: created", "service", svc.name, "external_id", ext, svc.keyField, strings.Join(keys, ","))
	return nil
}

func rejected(h http.Header) bool {
	return strings.EqualFold(h.Get("Repeatability-Result"), "rejected")
}

// createdKey reads the number SAP gave a record from a 201 body
// ({"d":{"SalesOrder":"1234"}}), for the log.
func createdKey(body []byte, field string) string {
	var v struct {
		D map[string]any `json:"d"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	s, _ := v.D[field].(string)
	return s
}

func (c *Connector) isRepeatable(svc *service) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.repeatable[svc.name]
}

func (c *Connector) setRepeatable(svc *service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.repeatable[svc.name] {
		c.repeatable[svc.name] = true
		c.log.Info("sap: service honours Repeatability-Request-ID; looking up only documents in doubt", "service", svc.name)
	}
}

// url is the address of path in a service, with the SAP client.
func (c *Connector) url(svc *service, path, query string) string {
	u := c.cfg.baseURL + "/" + svc.name + "/" + path
	if c.cfg.client != "" {
		if query != "" {
			query += "&"
		}
		query += "sap-client=" + c.cfg.client
	}
	if query != "" {
		u += "?" + query
	}
	return u
}

func (c *Connector) do(req *http.Request) (*http.Response, error) {
	if c.cfg.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.token)
	} else {
		req.SetBasicAuth(c.cfg.user, c.cfg.pass)
	}
	return c.http.Do(req)
}

// maxBody bounds answers read whole (errors, look-ups, batches).
const maxBody = 64 << 20

func readBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return b
}

// token returns the CSRF token for a service, fetching one when there is
// none or when refresh is set. SAP Gateway hands out a token to a GET with
// "X-CSRF-Token: Fetch" and ties it to the session cookies it sets with
// it; every modifying request (a $batch is a POST) must send both, and an
// expired or foreign token is answered "403" with "X-CSRF-Token: Required"
// (help.sap.com "Cross-Site Request Forgery Protection", SAP NetWeaver
// Gateway: saphelp_em92/helpdata/en/b3/5c22518bc72214e10000000a44176d).
func (c *Connector) token(ctx context.Context, svc *service, refresh bool) (string, error) {
	c.mu.Lock()
	tok, ok := c.tokens[svc.name]
	c.mu.Unlock()
	if ok && !refresh {
		return tok, nil
	}
	// The service root with a trailing slash: some on-premise systems
	// hand out no token without it (SAP Cloud SDK, "CSRF Fetching").
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(svc, "", ""), http.NoBody)
	if err != nil {
		return "", erp.PermanentError(fmt.Errorf("sap: %w", err))
	}
	req.Header.Set("X-CSRF-Token", "Fetch")
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return "", erp.Retryable(fmt.Errorf("fetch CSRF token from %s: %w", svc.name, err))
	}
	defer resp.Body.Close()
	body := readBody(resp)
	if resp.StatusCode != http.StatusOK {
		return "", classify(resp.StatusCode, resp.Header, body, "fetch CSRF token from "+svc.name)
	}
	tok = resp.Header.Get("X-CSRF-Token") // none: the system does not check tokens
	c.mu.Lock()
	c.tokens[svc.name] = tok
	c.mu.Unlock()
	return tok, nil
}

// postBatch sends change sets as one $batch and reads the answers,
// fetching a new CSRF token once when SAP says the old one is no longer
// valid.
func (c *Connector) postBatch(ctx context.Context, svc *service, changeSets [][]operation) ([]result, error) {
	var buf bytes.Buffer
	ct, err := writeBatch(&buf, c.boundary(), changeSets)
	if err != nil {
		return nil, erp.PermanentError(fmt.Errorf("sap: write $batch: %w", err))
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, svc, attempt > 0)
		if err != nil {
			return nil, err
		}
		results, retry, err := c.sendBatch(ctx, svc, ct, buf.Bytes(), tok)
		if !retry {
			return results, err
		}
		if attempt > 0 {
			return nil, &erp.Error{Class: erp.Retry, Status: http.StatusForbidden, Code: "CSRF",
				Err: fmt.Errorf("POST %s/$batch: SAP refused a freshly fetched CSRF token", svc.name)}
		}
		c.log.Info("sap: CSRF token expired; fetching a new one", "service", svc.name)
	}
}

// sendBatch makes one $batch request; retry reports a CSRF refusal.
func (c *Connector) sendBatch(ctx context.Context, svc *service, contentType string, body []byte, tok string) (_ []result, retry bool, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(svc, "$batch", ""), bytes.NewReader(body))
	if err != nil {
		return nil, false, erp.PermanentError(fmt.Errorf("sap: %w", err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "multipart/mixed")
	if tok != "" {
		req.Header.Set("X-CSRF-Token", tok)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, false, erp.Retryable(fmt.Errorf("POST %s/$batch: %w", svc.name, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden && strings.EqualFold(resp.Header.Get("X-CSRF-Token"), "Required") {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil, true, nil
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return nil, false, classify(resp.StatusCode, resp.Header, readBody(resp), "POST "+svc.name+"/$batch")
	}
	results, err := parseBatch(resp.Header.Get("Content-Type"), io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// A cut or garbled answer: SAP may have committed.
		return nil, false, erp.Retryable(fmt.Errorf("POST %s/$batch: %w", svc.name, err))
	}
	return results, false, nil
}

// lookupChunk is how many references one look-up asks for (URL length).
const lookupChunk = 20

// lookup returns the references that exist in the service, with the key of
// the record carrying each.
func (c *Connector) lookup(ctx context.Context, svc *service, refs []string) (map[string]string, error) {
	found := map[string]string{}
	for start := 0; start < len(refs); start += lookupChunk {
		chunk := refs[start:min(start+lookupChunk, len(refs))]
		terms := make([]string, len(chunk))
		for i, r := range chunk {
			terms[i] = svc.refField + " eq '" + strings.ReplaceAll(r, "'", "''") + "'"
		}
		q := "$filter=" + queryEscape(strings.Join(terms, " or ")) + "&$select=" + svc.refField + "," + svc.keyField +
			"&$top=" + strconv.Itoa(4*len(chunk)) + "&$format=json"
		if err := c.lookupPage(ctx, svc, c.url(svc, svc.entitySet, q), found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

func (c *Connector) lookupPage(ctx context.Context, svc *service, u string, found map[string]string) error {
	what := "look up " + svc.entitySet + " by " + svc.refField
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return erp.PermanentError(fmt.Errorf("sap: %w", err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return erp.Retryable(fmt.Errorf("%s: %w", what, err))
	}
	defer resp.Body.Close()
	body := readBody(resp)
	if resp.StatusCode != http.StatusOK {
		return classify(resp.StatusCode, resp.Header, body, what)
	}
	var v struct {
		D json.RawMessage `json:"d"`
	}
	var rows []map[string]any
	if err := json.Unmarshal(body, &v); err == nil {
		var page struct {
			Results []map[string]any `json:"results"`
		}
		if json.Unmarshal(v.D, &page) == nil && page.Results != nil {
			rows = page.Results
		} else if err := json.Unmarshal(v.D, &rows); err != nil { // OData V1 form: "d" is the array
			return erp.Retryable(fmt.Errorf("%s: unexpected answer %s", what, snippet(body)))
		}
	} else {
		return erp.Retryable(fmt.Errorf("%s: %w", what, err))
	}
	for _, row := range rows {
		ref, _ := row[svc.refField].(string)
		key, _ := row[svc.keyField].(string)
		if ref != "" {
			found[ref] = key
		}
	}
	return nil
}

// queryEscape escapes a query value with %20 for spaces: SAP's ICF does
// not read "+" as a space in $filter.
func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
