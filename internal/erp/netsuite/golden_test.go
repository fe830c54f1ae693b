package netsuite_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// recorder keeps the requests a connector sends (method, URL, JSON body),
// once switched on; the Authorization header, which holds a nonce and a
// timestamp, is tested on its own.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	on   bool
	out  bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.on {
		r.out.WriteString(req.Method + " " + req.URL.RequestURI() + "\n")
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err == nil {
				raw, _ := io.ReadAll(body)
				var pretty bytes.Buffer
				if json.Indent(&pretty, raw, "", "  ") == nil {
					r.out.Write(pretty.Bytes())
					r.out.WriteString("\n")
				}
			}
		}
		r.out.WriteString("\n")
	}
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// The requests each document kind becomes, against a fresh simulated
// account (internal IDs in URLs are the simulator's), are kept in
// testdata/<kind>.golden; run with -update to rewrite them after a
// deliberate change.
func TestGoldenRequests(t *testing.T) {
	t.Parallel()
	for _, kind := range []erp.Kind{erp.CashSale, erp.CashRefund, erp.SalesOrder, erp.Fulfilment, erp.OrderCancel,
		erp.InventoryAdjustment, erp.InventoryCount, erp.TransferOrder, erp.TransferReceipt, erp.Summary} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := nssim.New(erpsim.Options{}, nssim.DefaultCredentials())
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			rec := &recorder{next: ts.Client().Transport}
			c, err := netsuite.New(settings(ts.URL, nssim.DefaultCredentials()), erp.Deps{HTTP: &http.Client{Transport: rec}})
			if err != nil {
				t.Fatal(err)
			}
			id := "golden-" + string(kind)
			switch kind {
			case erp.Fulfilment, erp.OrderCancel, erp.TransferReceipt:
				mustPost(t, c, parents(id)...)
			}
			d := erptest.Sample(kind, id)
			if kind == erp.CashSale {
				// A sale as tills send them in Europe: a discount, VAT included.
				d.Lines[0].Discount, d.Lines[0].Amount, d.Lines[0].Tax, d.Lines[0].TaxCode = 300, 1700, 271, "DE-VAT-19"
				d.Memo = "loyalty card 1234"
			}
			rec.mu.Lock()
			rec.on = true
			rec.mu.Unlock()
			mustPost(t, c, d)

			rec.mu.Lock()
			got := strings.ReplaceAll(rec.out.String(), ts.URL, "")
			rec.mu.Unlock()
			path := filepath.Join("testdata", string(kind)+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenRequests -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("requests for %s differ from %s (run with -update if the change is deliberate)\n got:\n%s\nwant:\n%s", kind, path, got, want)
			}
		})
	}
}
