package odoo_test

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
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/odoo"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	odoosim "github.com/tillsync/tillsync/internal/sim/erpsim/odoo"
)

var update = flag.Bool("update", false, "rewrite the golden request payloads in testdata/")

var kinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.SalesOrder, erp.InventoryAdjustment,
	erp.TransferOrder, erp.TransferReceipt, erp.Summary}

func settings(url string) map[string]string {
	return map[string]string{
		"base_url": url, "api_key": odoosim.DefaultCredentials().APIKey, "database": "tillsync",
		"warehouses": "store-1=ST1,store-2=ST2", "customer_id": "7",
		"adjustment_location_id": "14", "transit_location_id": "15",
		"summary_journal_id": "3", "sales_account_id": "400",
		"tax_account_ids": "DE-VAT-19=251", "payment_account_ids": "card=101,cash=102",
		"max_batch": "10",
	}
}

// recorder keeps every request the connector sends, for golden files.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") != nil {
		pretty.Write(body)
	}
	auth := strings.Replace(r.Header.Get("Authorization"), odoosim.DefaultCredentials().APIKey, "<api_key>", 1)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, fmt.Sprintf("%s %s\nAuthorization: %s\nX-Odoo-Database: %s\n%s\n",
		r.Method, r.URL.Path, auth, r.Header.Get("X-Odoo-Database"), pretty.String()))
	rc.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.next.ServeHTTP(w, r)
}

func (rc *recorder) transcript() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return strings.Join(rc.reqs, "\n")
}

func (rc *recorder) count(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, r := range rc.reqs {
		if strings.HasPrefix(r, "POST "+path+"\n") {
			n++
		}
	}
	return n
}

type bundle struct {
	sim  *odoosim.Server
	rec  *recorder
	conn *odoo.Connector
	url  string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sim := odoosim.New(erpsim.Options{}, odoosim.DefaultCredentials())
	rec := &recorder{next: sim}
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	conn, err := odoo.New(settings(hs.URL), erp.Deps{HTTP: hs.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{sim: sim, rec: rec, conn: conn, url: hs.URL}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	erptest.Run(t, func(t *testing.T) *erptest.Target {
		b := setup(t)
		return &erptest.Target{
			Connector:       b.conn,
			Kinds:           kinds,
			Records:         func() map[string]int { return b.sim.Sim().Stats().Records },
			Throttle:        func() { b.sim.Sim().Force(erpsim.ForceThrottle) },
			DropAfterCommit: func() { b.sim.Sim().Force(erpsim.ForceDrop) },
			Invalid: func(id string) erp.Document {
				d := erptest.Sample(erp.CashSale, id)
				d.Lines[0].SKU = odoosim.InvalidSKU
				return d
			},
		}
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

// The requests one batch of every kind sends, as golden files: run with
// -update after a deliberate change of the mapping.
func TestGoldenRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var docs []erp.Document
	for _, k := range kinds {
		docs = append(docs, erptest.Sample(k, "g-"+string(k)))
	}
	for i, err := range post(t, b.conn, docs...) {
		if err != nil {
			t.Fatalf("%s: %v", docs[i].Kind, err)
		}
	}
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
	s["api_key"] = "revoked"
	conn, err := odoo.New(s, erp.Deps{HTTP: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = conn.Post(ctx, []erp.Document{erptest.Sample(erp.CashSale, "a-1")})
	checkCredentials(t, err)
	checkCredentials(t, conn.Check(ctx))
	if n := b.sim.Sim().Stats().Rejections["auth"]; n != 2 {
		t.Errorf("auth rejections %d, want 2", n)
	}
}

func checkCredentials(t *testing.T, err error) {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.Permanent || e.Status != http.StatusUnauthorized {
		t.Fatalf("auth failure: %v, want permanent HTTP 401", err)
	}
	if !strings.Contains(err.Error(), "api_key") || !strings.Contains(err.Error(), "Invalid apikey") {
		t.Errorf("auth failure does not say what to fix: %v", err)
	}
}

// A product archived after the connector cached it makes Odoo refuse the
// whole create call (one transaction): the connector finds the bad record
// by creating one by one, so the good documents still go through.
func TestPartialBatchFindsTheBadRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	warm := erptest.Sample(erp.CashSale, "warm") // caches TEE-1 and CAP-2
	if errs := post(t, b.conn, warm); errs[0] != nil {
		t.Fatal(errs[0])
	}
	b.sim.ArchiveProduct("CAP-2")
	good1 := erptest.Sample(erp.CashRefund, "good-1") // TEE-1 only
	bad := erptest.Sample(erp.CashSale, "bad")        // TEE-1 and CAP-2
	good2 := erptest.Sample(erp.CashRefund, "good-2")
	errs := post(t, b.conn, good1, bad, good2)
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("good documents failed: %v, %v", errs[0], errs[2])
	}
	if c, _ := erp.Classify(errs[1]); errs[1] == nil || c != erp.Permanent || !strings.Contains(errs[1].Error(), "archived") {
		t.Fatalf("bad document: %v, want permanent with Odoo's message", errs[1])
	}
	if n := b.rec.count("/json/2/sale.order/create"); n != 1+1+3 {
		t.Errorf("%d create calls, want 5 (warm-up, refused batch, three singles)", n)
	}
	recs := b.sim.Sim().Stats().Records
	if recs["good-1"] != 1 || recs["good-2"] != 1 || recs["bad"] != 0 {
		t.Errorf("records %v", recs)
	}
	// The refusal dropped CAP-2 from the cache: the retry says why plainly.
	errs = post(t, b.conn, bad)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), `no active product with internal reference "CAP-2"`) {
		t.Errorf("retry of the bad document: %v", errs[0])
	}
}

// Create and confirm are two transactions: an order created, then lost
// with the answer, is confirmed by the retry, never created again.
func TestRetryFinishesWhatWasCreated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := erptest.Sample(erp.CashSale, "drop-2")
	b.sim.Sim().Force(erpsim.ForceDrop)
	if errs := post(t, b.conn, d); errs[0] == nil {
		t.Fatal("a dropped answer reported success")
	}
	if rec, _ := b.sim.Record("sale.order", "drop-2"); rec["state"] != "draft" {
		t.Fatalf("after the drop: %v, want a draft order", rec["state"])
	}
	if errs := post(t, b.conn, d); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if rec, _ := b.sim.Record("sale.order", "drop-2"); rec["state"] != "sale" {
		t.Fatalf("after the retry: %v, want a confirmed order", rec["state"])
	}
	if n := b.rec.count("/json/2/sale.order/create"); n != 1 {
		t.Errorf("%d create calls, want 1", n)
	}
}

func TestMixedAdjustmentBecomesTwoPickings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := erptest.Sample(erp.InventoryAdjustment, "adj-1") // TEE-1 -1, CAP-2 +3
	if errs := post(t, b.conn, d); errs[0] != nil {
		t.Fatal(errs[0])
	}
	out, ok1 := b.sim.Record("stock.picking", "adj-1")
	in, ok2 := b.sim.Record("stock.picking", "adj-1#2")
	if !ok1 || !ok2 {
		t.Fatal("want the losses under adj-1 and the gains under adj-1#2")
	}
	if fmt.Sprint(out["location_dest_id"]) != "14" || fmt.Sprint(in["location_id"]) != "14" {
		t.Errorf("losses go to and gains come from the adjustment location: %v → %v, %v → %v",
			out["location_id"], out["location_dest_id"], in["location_id"], in["location_dest_id"])
	}
	if out["state"] != "done" || in["state"] != "done" {
		t.Errorf("pickings not validated: %v, %v", out["state"], in["state"])
	}
}

func TestUnsupportedKindsArePermanentWithAReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i, err := range post(t, b.conn, erptest.Sample(erp.InventoryCount, "c"), erptest.Sample(erp.Fulfilment, "f")) {
		if c, _ := erp.Classify(err); err == nil || c != erp.Permanent || !strings.Contains(err.Error(), "exclude") {
			t.Errorf("document %d: %v", i, err)
		}
	}
}

func TestSummaryMustBalance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := erptest.Sample(erp.Summary, "sum-bad")
	d.Payments[1].Amount++
	errs := post(t, b.conn, d)
	if c, _ := erp.Classify(errs[0]); errs[0] == nil || c != erp.Permanent || !strings.Contains(errs[0].Error(), "does not balance") {
		t.Fatalf("unbalanced summary: %v", errs[0])
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
		{"base_url", "mycompany.odoo.com", "base_url"},
		{"api_key", "", "api_key is required"},
		{"warehouses", "store-1", "warehouses"},
		{"customer_id", "walk-in", "customer_id"},
		{"tax_account_ids", "DE-VAT-19=x", "tax_account_ids (DE-VAT-19)"},
		{"max_batch", "0", "max_batch"},
	} {
		s := settings("https://example.odoo.com")
		s[tc.field] = tc.value
		if _, err := odoo.New(s, erp.Deps{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: %v, want an error naming %q", tc.field, tc.value, err, tc.want)
		}
	}
	if _, err := odoo.Spec.New(settings("https://example.odoo.com/json/2/"), erp.Deps{}); err != nil {
		t.Errorf("Spec.New: %v", err)
	}
}
