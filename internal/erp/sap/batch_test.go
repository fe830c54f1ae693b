package sap

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newTest returns a connector with a fixed clock and boundary, so that
// what it writes is reproducible.
func newTest(t testing.TB) *Connector {
	t.Helper()
	c, err := New(map[string]string{
		"base_url": "https://s4.example.com:44300", "client": "100", "user": "TILLSYNC_COMM", "password": "secret",
		"sales_org": "1010", "distribution_channel": "10", "division": "00", "sold_to_party": "1000001",
		"plants": "store-1=1010/0001,store-2=1020/0001", "cost_centers": "store-1=10101101",
	}, erp.Deps{Clock: func() time.Time { return time.Date(2026, 11, 27, 9, 0, 5, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c.boundary = func() string { return "tillsync" }
	return c
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// The $batch bodies the connector sends, one golden file per service.
func TestBatchRequestGolden(t *testing.T) {
	t.Parallel()
	c := newTest(t)
	void := erptest.Sample(erp.CashRefund, "evt-0004")
	void.Reverses = "evt-0001"
	cases := []struct {
		file string
		docs []erp.Document
	}{
		{"batch_sales_order.golden", []erp.Document{erptest.Sample(erp.CashSale, "evt-0001"),
			erptest.Sample(erp.SalesOrder, "evt-0002"), erptest.Sample(erp.Summary, "sum-store-1-2026-11-27T09")}},
		{"batch_customer_return.golden", []erp.Document{void}},
		{"batch_material_document.golden", []erp.Document{erptest.Sample(erp.InventoryAdjustment, "evt-0005"),
			erptest.Sample(erp.TransferOrder, "evt-0006"), erptest.Sample(erp.TransferReceipt, "evt-0007")}},
	}
	for _, tc := range cases {
		var sets [][]operation
		for i := range tc.docs {
			p, err := c.plan(&tc.docs[i])
			if err != nil {
				t.Fatal(err)
			}
			sets = append(sets, c.operations(p))
		}
		var buf bytes.Buffer
		ct, err := writeBatch(&buf, c.boundary(), sets)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "multipart/mixed; boundary=batch_tillsync" {
			t.Errorf("content type %q", ct)
		}
		golden(t, tc.file, buf.Bytes())
	}
}

func mixedResponse(t testing.TB, crlf bool) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "batch_response_mixed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if crlf {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	return b
}

// A realistic SAP answer: change set 2 failed (its single 400 response),
// 1 and 3 were created; each maps back to its document, in order.
func TestParseMixedBatchResponse(t *testing.T) {
	t.Parallel()
	for _, crlf := range []bool{true, false} {
		t.Run(fmt.Sprintf("crlf=%v", crlf), func(t *testing.T) {
			t.Parallel()
			res, err := parseBatch("multipart/mixed; boundary=ejjeeffe0", bytes.NewReader(mixedResponse(t, crlf)))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 3 || !res[0].changeSet || res[1].changeSet || !res[2].changeSet {
				t.Fatalf("parts: %+v", res)
			}
			if res[0].ops[0].status != http.StatusCreated || res[1].status != http.StatusBadRequest {
				t.Fatalf("statuses %d, %d", res[0].ops[0].status, res[1].status)
			}
			c := newTest(t)
			var errs []error
			for i, id := range []string{"evt-0001", "evt-0002", "evt-0003"} {
				d := erptest.Sample(erp.CashSale, id)
				p, err := c.plan(&d)
				if err != nil {
					t.Fatal(err)
				}
				errs = append(errs, c.outcome(salesOrders, p, res[i]))
			}
			if errs[0] != nil || errs[2] != nil {
				t.Fatalf("created documents failed: %v, %v", errs[0], errs[2])
			}
			var e *erp.Error
			if !errors.As(errs[1], &e) || e.Class != erp.Permanent || e.Status != 400 || e.Code != "V1/392" ||
				!strings.Contains(e.Error(), "Material NO-SUCH-ITEM does not exist") {
				t.Fatalf("the failed change set: %v", errs[1])
			}
			if strings.Count(e.Error(), "Material NO-SUCH-ITEM does not exist") != 1 {
				t.Errorf("repeated detail message: %v", e)
			}
			if !c.isRepeatable(salesOrders) {
				t.Error("Repeatability-Result: accepted was not noticed")
			}
			if createdKey(res[2].ops[0].body, "SalesOrder") != "1000102" {
				t.Error("the created key was not read")
			}
		})
	}
}

func TestParseBatchRefusesGarbage(t *testing.T) {
	t.Parallel()
	cases := []struct{ ct, body string }{
		{"application/json", `{"d":{}}`},
		{"multipart/mixed", "--x\r\n\r\n--x--"},
		{"multipart/mixed; boundary=x", "--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n"},
		{"multipart/mixed; boundary=x", "--x\r\nContent-Type: application/http\r\n\r\nnot a status line\r\n--x--\r\n"},
		{"multipart/mixed; boundary=x", "--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y--\r\n--x--\r\n"},
		{"multipart/mixed; boundary=x", "--x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 99\r\n\r\n{}"},
	}
	for _, tc := range cases {
		if _, err := parseBatch(tc.ct, strings.NewReader(tc.body)); err == nil {
			t.Errorf("accepted %q / %q", tc.ct, tc.body)
		}
	}
}

// FuzzParseBatch feeds the parser of SAP's $batch answers (outside input)
// arbitrary bytes: it must never panic or hang, and what it accepts must
// be well formed.
func FuzzParseBatch(f *testing.F) {
	f.Add("multipart/mixed; boundary=ejjeeffe0", mixedResponse(f, true))
	f.Add("multipart/mixed; boundary=ejjeeffe0", mixedResponse(f, false))
	f.Add("multipart/mixed; boundary=x", []byte("--x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n--x--\r\n"))
	f.Add("multipart/mixed; boundary=x", []byte("--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}\r\n--y--\r\n--x--\r\n"))
	c := newTest(f)
	d := erptest.Sample(erp.CashSale, "fuzz-1")
	p, err := c.plan(&d)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		res, err := parseBatch(contentType, bytes.NewReader(body))
		if err != nil {
			return
		}
		for _, r := range res {
			if r.changeSet && len(r.ops) == 0 {
				t.Fatal("an accepted change set without operations")
			}
			if !r.changeSet && r.status == 0 {
				t.Fatal("an accepted response without a status")
			}
			err := c.outcome(salesOrders, p, r)
			if err != nil {
				var e *erp.Error
				if !errors.As(err, &e) {
					t.Fatalf("an unclassified error: %v", err)
				}
			}
		}
	})
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		minor int64
		exp   int
		want  string
	}{
		{0, 2, "0.00"}, {5, 2, "0.05"}, {123456, 2, "1234.56"}, {-150, 2, "-1.50"}, {500, 0, "500"},
		{1, 3, "0.001"}, {-9223372036854775808, 2, "-92233720368547758.08"}, {9223372036854775807, 4, "922337203685477.5807"},
	}
	for _, tc := range cases {
		if got := decimal(tc.minor, tc.exp); got != tc.want {
			t.Errorf("decimal(%d, %d) = %s, want %s", tc.minor, tc.exp, got, tc.want)
		}
	}
}

func TestPricingIsExact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		amount    int64
		q         event.Qty
		rate, per int64
	}{
		{2000, event.Units(2), 1000, 1}, // 2 × 10.00
		{1000, event.Units(3), 1000, 3}, // 3 for 10.00
		{1001, event.Units(2), 1001, 2}, // 10.01 for 2
		{500, event.Qty(250), 2000, 1},  // 0.25 kg for 5.00: 20.00 per kg
		{199, event.Qty(333), 199, 1},   // 0.333 for 1.99 → 1.99 per 0.333? no: see below
		{0, event.Units(4), 0, 1},
		{-300, event.Units(1), -300, 1},
	}
	for _, tc := range cases {
		rate, per, err := pricing(tc.amount, tc.q)
		if err != nil {
			if tc.q == 333 { // 0.333 units for 1.99: the pricing unit would be 333 units
				continue
			}
			t.Errorf("pricing(%d, %s): %v", tc.amount, tc.q, err)
			continue
		}
		// SAP's value: rate × quantity ÷ pricing unit, in exact arithmetic.
		if rate*int64(tc.q) != tc.amount*per*event.QtyScale {
			t.Errorf("pricing(%d, %s) = %d per %d: not exact", tc.amount, tc.q, rate, per)
		}
		if tc.q != 333 && (rate != tc.rate || per != tc.per) {
			t.Errorf("pricing(%d, %s) = %d per %d, want %d per %d", tc.amount, tc.q, rate, per, tc.rate, tc.per)
		}
	}
	if _, _, err := pricing(100, 0); err == nil {
		t.Error("a zero quantity was priced")
	}
	if _, _, err := pricing(1, event.Qty(99999999)); err == nil {
		t.Error("a pricing unit over 99999 was accepted")
	}
}

func TestRequestIDIsStableUUIDv5(t *testing.T) {
	t.Parallel()
	a, b := requestID("evt-0001", 0), requestID("evt-0001", 0)
	if a != b || a == requestID("evt-0001", 1) || a == requestID("evt-0002", 0) {
		t.Fatalf("IDs %s %s", a, b)
	}
	if len(a) != 36 || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Fatalf("%s is not a UUIDv5", a)
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	if r := reference("evt-0001", 25); r != "evt-0001" {
		t.Errorf("short ID %q", r)
	}
	long := strings.Repeat("x", 40)
	r := reference(long, 25)
	if len(r) != 25 || r[0] != '~' || r != reference(long, 25) || r == reference(long+"y", 25) {
		t.Errorf("long ID %q", r)
	}
}
