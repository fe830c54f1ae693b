package erpnext_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpnext"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	erpnextsim "github.com/tillsync/tillsync/internal/sim/erpsim/erpnext"
)

var update = flag.Bool("update", false, "rewrite the golden request payloads in testdata/")

var kinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.SalesOrder, erp.Fulfilment, erp.InventoryAdjustment,
	erp.InventoryCount, erp.TransferOrder, erp.TransferReceipt, erp.Summary}

func settings(url string) map[string]string {
	creds := erpnextsim.DefaultCredentials()
	return map[string]string{
		"base_url": url, "api_key": creds.APIKey, "api_secret": creds.APISecret,
		"company": "Tillsync Retail", "customer": "Walk-in Customer",
		"warehouses":  "store-1=Store 1 - TR,store-2=Store 2 - TR",
		"pos_profile": "Tills", "transit_warehouse": "Goods In Transit - TR",
		"sales_account": "Sales - TR", "tax_accounts": "DE-VAT-19=VAT 19% - TR",
		"payment_accounts": "card=Card Clearing - TR,cash=Cash - TR",
		"max_batch":        "10",
	}
}

// recorder keeps every request the connector sends, for golden files.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []string
	// before, when set, runs before a request is served.
	before func(r *http.Request)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") != nil {
		pretty.Write(body)
	}
	line := r.Method + " " + r.URL.Path
	if q := r.URL.Query(); len(q) > 0 {
		for _, k := range []string{"filters", "fields", "limit_page_length"} {
			line += "\n  " + k + "=" + q.Get(k)
		}
	}
	creds := erpnextsim.DefaultCredentials()
	auth := strings.Replace(r.Header.Get("Authorization"), creds.APIKey+":"+creds.APISecret, "<api_key>:<api_secret>", 1)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, fmt.Sprintf("%s\nAuthorization: %s\n%s\n", line, auth, pretty.String()))
	before := rc.before
	rc.mu.Unlock()
	if before != nil {
		before(r)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.next.ServeHTTP(w, r)
}

func (rc *recorder) transcript() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return strings.Join(rc.reqs, "\n")
}

func (rc *recorder) count(prefix string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, r := range rc.reqs {
		if strings.HasPrefix(r, prefix+"\n") {
			n++
		}
	}
	return n
}

type bundle struct {
	sim  *erpnextsim.Server
	rec  *recorder
	conn *erpnext.Connector
	url  string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sim := erpnextsim.New(erpsim.Options{}, erpnextsim.DefaultCredentials())
	rec := &recorder{next: sim}
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	conn, err := erpnext.New(settings(hs.URL), erp.Deps{HTTP: hs.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{sim: sim, rec: rec, conn: conn, url: hs.URL}
}

func target(b *bundle) *erptest.Target {
	return &erptest.Target{
		Connector:       b.conn,
		Kinds:           kinds,
		Records:         func() map[string]int { return b.sim.Sim().Stats().Records },
		Throttle:        func() { b.sim.Sim().Force(erpsim.ForceThrottle) },
		DropAfterCommit: func() { b.sim.Sim().Force(erpsim.ForceDrop) },
		Invalid: func(id string) erp.Document {
			d := erptest.Sample(erp.CashSale, id)
			d.Lines[0].SKU = erpnextsim.InvalidSKU
			return d
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	erptest.Run(t, func(t *testing.T) *erptest.Target { return target(setup(t)) })
}

// Without Unique ticked on the custom field, only the connector's own
// look-up stands between a redelivery and a duplicate: it must be enough.
func TestConformanceWithoutUniqueField(t *testing.T) {
	t.Parallel()
	erptest.Run(t, func(t *testing.T) *erptest.Target {
		b := setup(t)
		b.sim.SetUniqueRef(false)
		return target(b)
	})
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
		if errs[i] != nil {
			t.Fatalf("%s %s: %v", d.Kind, d.ExternalID, errs[i])
		}
	}
}

// The requests one batch of every kind sends, as golden files: run with
// -update after a deliberate change of the mapping.
func TestGoldenRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var docs []erp.Document
	for _, k := range kinds {
		docs = append(docs, erptest.Sample(k, "g-"+string(k)))
	}
	mustPost(t, b.conn, docs...)
	golden(t, filepath.Join("testdata", "batch.golden"), b.rec.transcript())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("requests differ from %s (run go test -update if the change is intended):\n%s", path, got)
	}
}

func TestAuthFailureIsPermanentAndSaysWhatToFix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := settings(b.url)
	s["api_secret"] = "rotated"
	conn, err := erpnext.New(s, erp.Deps{HTTP: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = conn.Post(ctx, []erp.Document{erptest.Sample(erp.CashSale, "a-1")})
	checkCredentials(t, err)
	checkCredentials(t, conn.Check(ctx))
}

func checkCredentials(t *testing.T, err error) {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.Permanent || e.Status != http.StatusUnauthorized || e.Code != "AuthenticationError" {
		t.Fatalf("auth failure: %v, want permanent HTTP 401 AuthenticationError", err)
	}
	if !strings.Contains(err.Error(), "api_key and api_secret") {
		t.Errorf("auth failure does not say what to fix: %v", err)
	}
}

// insert_many is one transaction: one unknown item refuses the whole call,
// and the connector inserts one by one to let the good documents through.
func TestPartialBatchInsertsOneByOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := erptest.Sample(erp.InventoryAdjustment, "bad")
	bad.Lines[1].SKU = erpnextsim.InvalidSKU
	errs := post(t, b.conn, erptest.Sample(erp.InventoryCount, "good-1"), bad, erptest.Sample(erp.TransferOrder, "good-2"))
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("good documents failed: %v, %v", errs[0], errs[2])
	}
	var e *erp.Error
	if !errors.As(errs[1], &e) || e.Class != erp.Permanent || e.Code != "LinkValidationError" ||
		!strings.Contains(errs[1].Error(), "Could not find Row #1: Item Code: NO-SUCH-ITEM") {
		t.Fatalf("bad document: %v, want permanent with Frappe's message", errs[1])
	}
	if n := b.rec.count("POST /api/method/frappe.client.insert_many"); n != 1 {
		t.Errorf("%d insert_many calls, want 1", n)
	}
	// Four singles: the count, the bad adjustment's issue (fine), its
	// receipt (refused), the transfer.
	if n := b.rec.count("POST /api/resource/Stock Entry") + b.rec.count("POST /api/resource/Stock Reconciliation"); n != 4 {
		t.Errorf("%d single inserts, want 4", n)
	}
	recs := b.sim.Sim().Stats().Records
	if recs["good-1"] != 1 || recs["good-2"] != 1 || recs["bad#2"] != 0 {
		t.Errorf("records %v", recs)
	}
	// The issue half went in; the retry (after the item is fixed) adds only
	// the receipt.
	bad.Lines[1].SKU = "CAP-2"
	mustPost(t, b.conn, bad)
	if recs := b.sim.Sim().Stats().Records; recs["bad"] != 1 || recs["bad#2"] != 1 {
		t.Errorf("after the fix: %v", recs)
	}
}

// A refund and the sale it reverses in one batch: the sale goes first and
// the return refers to it by the name ERPNext gave it.
func TestReturnAgainstASaleOfTheSameBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sale := erptest.Sample(erp.CashSale, "s-1")
	refund := erptest.Sample(erp.CashRefund, "r-1")
	refund.Reverses = "s-1"
	mustPost(t, b.conn, sale, refund)
	si, _ := b.sim.Doc("Sales Invoice", "s-1")
	ret, _ := b.sim.Doc("Sales Invoice", "r-1")
	if ret["return_against"] != si["name"] || fmt.Sprint(ret["is_return"]) != "1" {
		t.Fatalf("return %v against %v, want against %v", ret["return_against"], ret["is_return"], si["name"])
	}
	// A later refund finds the sale by its reference.
	refund2 := erptest.Sample(erp.CashRefund, "r-2")
	refund2.Reverses = "s-1"
	mustPost(t, b.conn, refund2)
	if ret2, _ := b.sim.Doc("Sales Invoice", "r-2"); ret2["return_against"] != si["name"] {
		t.Errorf("second return against %v", ret2["return_against"])
	}
	// One reversing a sale ERPNext does not have waits for it.
	orphan := erptest.Sample(erp.CashRefund, "r-3")
	orphan.Reverses = "never-posted"
	errs := post(t, b.conn, orphan)
	if c, _ := erp.Classify(errs[0]); errs[0] == nil || c != erp.Retry {
		t.Errorf("refund of an unknown sale: %v, want retry", errs[0])
	}
}

// Another poster inserts the same document between the look-up and the
// insert: the unique field refuses the second, and that is success.
func TestConcurrentInsertIsSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := erptest.Sample(erp.CashSale, "race-1")
	direct := httptest.NewServer(b.sim) // the other poster, unrecorded
	defer direct.Close()
	other, err := erpnext.New(settings(direct.URL), erp.Deps{HTTP: direct.Client()})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var otherErrs []error
	var otherErr error
	b.rec.mu.Lock()
	b.rec.before = func(r *http.Request) {
		if r.Method == http.MethodPost {
			once.Do(func() { otherErrs, otherErr = other.Post(r.Context(), []erp.Document{d}) })
		}
	}
	b.rec.mu.Unlock()
	mustPost(t, b.conn, d)
	if otherErr != nil || otherErrs[0] != nil {
		t.Fatalf("the other poster: %v %v", otherErr, otherErrs)
	}
	if n := b.sim.Sim().Stats().Records["race-1"]; n != 1 {
		t.Errorf("race-1 created %d times", n)
	}
	if n := b.sim.Sim().Stats().Rejections["validation"]; n != 1 {
		t.Errorf("%d refusals, want the one UniqueValidationError", n)
	}
	if n := b.rec.count("GET /api/resource/Sales Invoice"); n != 2 {
		t.Errorf("%d look-ups, want 2 (before inserting, after the refusal)", n)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.conn.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ field, value, want string }{
		{"base_url", "", "base_url is required"},
		{"base_url", "erp.example.com", "base_url"},
		{"api_secret", "", "api_secret is required"},
		{"api_key", "key:secret", "api_key and api_secret"},
		{"company", "", "company is required"},
		{"warehouses", "store-1", "warehouses"},
		{"modes_of_payment", "card", "modes_of_payment"},
		{"max_batch", "500", "max_batch"},
	} {
		s := settings("https://erp.example.com")
		s[tc.field] = tc.value
		if _, err := erpnext.New(s, erp.Deps{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: %v, want an error naming %q", tc.field, tc.value, err, tc.want)
		}
	}
	if _, err := erpnext.Spec.New(settings("https://erp.example.com/"), erp.Deps{}); err != nil {
		t.Errorf("Spec.New: %v", err)
	}
}
