package webhook_test

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
	"github.com/tillsync/tillsync/internal/erp/webhook"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	whsim "github.com/tillsync/tillsync/internal/sim/erpsim/webhook"
)

var update = flag.Bool("update", false, "rewrite the golden request payloads in testdata/")

var allKinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.InventoryCount,
	erp.TransferOrder, erp.TransferReceipt, erp.SalesOrder, erp.Fulfilment, erp.OrderCancel, erp.Summary}

func settings(url string) map[string]string {
	return map[string]string{"url": url + "/erp/tillsync", "secret": whsim.DefaultCredentials().Secret, "max_batch": "10"}
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
	var h strings.Builder
	for _, k := range []string{"Content-Type", "Idempotency-Key", "X-Tillsync-Delivery", "X-Tillsync-Timestamp", "X-Tillsync-Signature"} {
		fmt.Fprintf(&h, "%s: %s\n", k, r.Header.Get(k))
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, fmt.Sprintf("%s %s\n%s%s\n", r.Method, r.URL.Path, h.String(), pretty.String()))
	rc.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.next.ServeHTTP(w, r)
}

type bundle struct {
	sim  *whsim.Server
	rec  *recorder
	conn *webhook.Connector
	url  string
}

func setup(t *testing.T, clock func() time.Time) *bundle {
	t.Helper()
	sim := whsim.New(erpsim.Options{}, whsim.DefaultCredentials())
	if clock != nil {
		sim.SetClock(clock)
	}
	rec := &recorder{next: sim}
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	conn, err := webhook.New(settings(hs.URL), erp.Deps{HTTP: hs.Client(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{sim: sim, rec: rec, conn: conn, url: hs.URL}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	erptest.Run(t, func(t *testing.T) *erptest.Target {
		b := setup(t, nil)
		return &erptest.Target{
			Connector:       b.conn,
			Kinds:           allKinds,
			Records:         func() map[string]int { return b.sim.Sim().Stats().Records },
			Throttle:        func() { b.sim.Sim().Force(erpsim.ForceThrottle) },
			DropAfterCommit: func() { b.sim.Sim().Force(erpsim.ForceDrop) },
			Invalid: func(id string) erp.Document {
				d := erptest.Sample(erp.CashSale, id)
				d.Lines[0].SKU = whsim.InvalidSKU
				return d
			},
		}
	})
}

func post(t *testing.T, c erp.Connector, docs ...erp.Document) ([]error, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Post(ctx, docs)
}

var fixed = func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }

// The exact request, headers and signature included, as a golden file:
// receivers are written against it. Run with -update after a deliberate
// change of the wire format.
func TestGoldenRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, fixed)
	docs := []erp.Document{erptest.Sample(erp.CashSale, "g-1"), erptest.Sample(erp.Summary, "g-2")}
	errs, err := post(t, b.conn, docs...)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatal(err, errs)
	}
	b.rec.mu.Lock()
	got := strings.Join(b.rec.reqs, "\n")
	b.rec.mu.Unlock()
	path := filepath.Join("testdata", "delivery.golden")
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
		t.Errorf("request differs from %s (run go test -update if the change is intended):\n%s", path, got)
	}
}

// A retry of the same batch is the same delivery: same X-Tillsync-Delivery,
// and the receiver answers "exists".
func TestRetryIsTheSameDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	docs := []erp.Document{erptest.Sample(erp.CashSale, "d-1"), erptest.Sample(erp.InventoryCount, "d-2")}
	b.sim.Sim().Force(erpsim.ForceDrop)
	if _, err := post(t, b.conn, docs...); err == nil {
		t.Fatal("a dropped answer reported success")
	}
	errs, err := post(t, b.conn, docs...)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatal(err, errs)
	}
	ds := b.sim.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("deliveries %v, want one delivery ID twice", ds)
	}
	for id, n := range ds {
		if n != 2 || !strings.HasPrefix(id, "erp-") {
			t.Errorf("delivery %s seen %d times", id, n)
		}
	}
}

func TestBadSecretIsPermanentAndSaysWhatToFix(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	s := settings(b.url)
	s["secret"] = "not-the-receivers-secret"
	conn, err := webhook.New(s, erp.Deps{HTTP: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{conn.Check(context.Background()), second(post(t, conn, erptest.Sample(erp.CashSale, "x")))} {
		var e *erp.Error
		if !errors.As(err, &e) || e.Class != erp.Permanent || e.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "secret setting") {
			t.Errorf("bad secret: %v, want permanent 401 naming the secret setting", err)
		}
	}
	// A stale timestamp is refused the same way (replay protection).
	stale, err := webhook.New(settings(b.url), erp.Deps{HTTP: http.DefaultClient, Clock: func() time.Time { return time.Now().Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := stale.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("stale delivery: %v", err)
	}
}

func second(_ []error, err error) error { return err }

// How the connector reads every answer of the contract.
func TestResponseContract(t *testing.T) {
	t.Parallel()
	docs := []erp.Document{erptest.Sample(erp.CashSale, "a"), erptest.Sample(erp.CashSale, "b"), erptest.Sample(erp.CashSale, "c")}
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		body       string
		whole      erp.Class // for a whole-batch answer
		each       []string  // per document: "", "retry", "permanent"
		wait       time.Duration
	}{
		{name: "per document", status: 200, body: `{"results":[{"external_id":"a","status":"created"},` +
			`{"external_id":"b","status":"error","error":"ledger locked"},{"external_id":"c","status":"error","error":"no such customer","permanent":true}]}`,
			each: []string{"", "retry", "permanent"}},
		{name: "missing result", status: 200, body: `{"results":[{"external_id":"a","status":"exists"},{"external_id":"c","status":"created"}]}`,
			each: []string{"", "retry", ""}},
		{name: "not the contract", status: 200, body: `OK`, whole: erp.Retry},
		{name: "429", status: 429, retryAfter: "7", body: `{"error":"slow down"}`, whole: erp.RateLimited, wait: 7 * time.Second},
		{name: "503 with Retry-After", status: 503, retryAfter: "3", whole: erp.RateLimited, wait: 3 * time.Second},
		{name: "503", status: 503, whole: erp.Retry},
		{name: "500", status: 500, whole: erp.Retry},
		{name: "408", status: 408, whole: erp.Retry},
		{name: "403", status: 403, whole: erp.Permanent},
		{name: "422", status: 422, body: `{"error":"unknown kind"}`, whole: erp.Permanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer hs.Close()
			conn, err := webhook.New(settings(hs.URL), erp.Deps{HTTP: hs.Client()})
			if err != nil {
				t.Fatal(err)
			}
			errs, err := post(t, conn, docs...)
			if tc.each == nil {
				c, wait := erp.Classify(err)
				if err == nil || c != tc.whole || wait != tc.wait {
					t.Fatalf("%v: class %s wait %s, want %s %s", err, c, wait, tc.whole, tc.wait)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.each {
				got := ""
				if errs[i] != nil {
					c, _ := erp.Classify(errs[i])
					got = c.String()
				}
				if got != want {
					t.Errorf("document %d: %v (%q), want %q", i, errs[i], got, want)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if err := b.conn.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ field, value, want string }{
		{"url", "", "url is required"},
		{"url", "ftp://x", "url"},
		{"secret", "", "secret is required"},
		{"secret", "short", "at least 16"},
		{"max_batch", "x", "max_batch"},
	} {
		s := settings("https://erp.example.com")
		s[tc.field] = tc.value
		if _, err := webhook.New(s, erp.Deps{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: %v, want an error naming %q", tc.field, tc.value, err, tc.want)
		}
	}
	if _, err := webhook.Spec.New(settings("https://erp.example.com"), erp.Deps{}); err != nil {
		t.Errorf("Spec.New: %v", err)
	}
}
