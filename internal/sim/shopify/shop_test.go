package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// docExample maps a topic to the doc-shaped example its payloads follow.
var docExample = map[string][]string{
	"orders/create":           {"orders_create_web.json", "orders_create_pos.json"},
	"orders/paid":             {"orders_create_web.json", "orders_create_pos.json"},
	"orders/cancelled":        {"orders_create_web.json", "orders_create_pos.json"},
	"refunds/create":          {"refunds_create.json"},
	"fulfillments/create":     {"fulfillments_create.json"},
	"inventory_levels/update": {"inventory_levels_update.json"},
	"inventory_items/create":  {"inventory_items_update.json"},
}

// paths lists every key path of a JSON value; arrays are [].
func paths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := prefix + "." + k
			out[p] = true
			paths(p, c, out)
		}
	case []any:
		for _, c := range x {
			paths(prefix+"[]", c, out)
		}
	}
}

func keyPaths(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	paths("", v, out)
	return out
}

func testShop() *Shop {
	return New(Config{Domain: "tillsync-demo.myshopify.com", Currency: "EUR"})
}

func allDeliveries(t *testing.T, s *Shop) []Delivery {
	t.Helper()
	var ds []Delivery
	ds = append(ds, s.Item("SKU-A"), s.Level("SKU-A", 24826418, 5))
	pos, d := s.POSOrder(24826418, Line{SKU: "SKU-A", Qty: 2, Price: 1299})
	ds = append(ds, d...)
	web, wd := s.WebOrder(Line{SKU: "SKU-A", Qty: 1, Price: 1299}, Line{SKU: "SKU-B", Qty: 3, Price: 500})
	ds = append(ds, wd, s.Paid(web), s.Cancel(web, "customer"))
	for _, f := range []func() (Delivery, error){
		func() (Delivery, error) { return s.Fulfil(web, 24826418, Line{SKU: "SKU-B", Qty: 1}) },
		func() (Delivery, error) { return s.Refund(pos, 24826418, RestockReturn, Line{SKU: "SKU-A", Qty: 1}) },
		func() (Delivery, error) { return s.Refund(web, 0, RestockNone) },
	} {
		d, err := f()
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ds
}

// TestPayloadsFollowDocShapes: every key the simulator writes exists at the
// same place in Shopify's documented example of the topic.
func TestPayloadsFollowDocShapes(t *testing.T) {
	t.Parallel()
	for _, d := range allDeliveries(t, testShop()) {
		doc := map[string]bool{}
		for _, f := range docExample[d.Topic] {
			b, err := os.ReadFile(filepath.Join("testdata", f))
			if err != nil {
				t.Fatal(err)
			}
			for p := range keyPaths(t, b) {
				doc[p] = true
			}
		}
		if len(doc) == 0 {
			t.Fatalf("no doc example for %s", d.Topic)
		}
		var extra []string
		for p := range keyPaths(t, d.Body) {
			if !doc[p] {
				extra = append(extra, p)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			t.Errorf("%s writes keys the doc example does not have: %v", d.Topic, extra)
		}
	}
}

// TestIDsPast2to53: generated IDs are 19-digit JSON numbers that float64
// cannot hold.
func TestIDsPast2to53(t *testing.T) {
	t.Parallel()
	s := testShop()
	_, d := s.WebOrder(Line{SKU: "SKU-A", Qty: 1, Price: 100})
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	dec.UseNumber()
	var o struct {
		ID        json.Number `json:"id"`
		LineItems []struct {
			ID json.Number `json:"id"`
		} `json:"line_items"`
	}
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	limit := new(big.Int).Lsh(big.NewInt(1), 53)
	for _, n := range []json.Number{o.ID, o.LineItems[0].ID} {
		v, ok := new(big.Int).SetString(string(n), 10)
		if !ok || len(n) < 18 || v.Cmp(limit) <= 0 {
			t.Errorf("ID %s is not an integer past 2^53", n)
		}
		if f, _ := n.Float64(); big.NewFloat(f).String() == v.String() {
			t.Errorf("ID %s survives float64; pick one that does not", n)
		}
	}
}

func TestMoney(t *testing.T) {
	t.Parallel()
	eur := New(Config{Currency: "EUR"})
	jpy := New(Config{Currency: "JPY"})
	kwd := New(Config{Currency: "KWD"})
	for _, c := range []struct {
		s    *Shop
		in   int64
		want string
	}{{eur, 1299, "12.99"}, {eur, 5, "0.05"}, {eur, -250, "-2.50"}, {jpy, 1000, "1000"}, {kwd, 1234, "1.234"}} {
		if got := c.s.Money(c.in); got != c.want {
			t.Errorf("Money(%d) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	var sum time.Duration
	for i, d := range RetrySchedule {
		sum += d
		if i > 0 && d != 2*RetrySchedule[i-1] {
			t.Errorf("wait %d is %s, not double %s", i, d, RetrySchedule[i-1])
		}
	}
	if len(RetrySchedule) != 8 || sum < 4*time.Hour-time.Second || sum > 4*time.Hour {
		t.Fatalf("%d retries over %s, want 8 over 4h", len(RetrySchedule), sum)
	}
}

type received struct {
	topic, event, webhook, triggered, hmac, shop, version string
	body                                                  []byte
}

// endpoint records requests and answers with fail(n) for the n-th one.
func endpoint(t *testing.T, secret string, fail func(n int) int) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(r.Body)
		mu.Lock()
		got = append(got, received{
			topic: r.Header.Get("X-Shopify-Topic"), event: r.Header.Get("X-Shopify-Event-Id"),
			webhook: r.Header.Get("X-Shopify-Webhook-Id"), triggered: r.Header.Get("X-Shopify-Triggered-At"),
			hmac: r.Header.Get("X-Shopify-Hmac-Sha256"), shop: r.Header.Get("X-Shopify-Shop-Domain"),
			version: r.Header.Get("X-Shopify-API-Version"), body: b.Bytes(),
		})
		n := len(got)
		mu.Unlock()
		if Sign(secret, b.Bytes()) != r.Header.Get("X-Shopify-Hmac-Sha256") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(fail(n))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestEmitterRetriesAndHeaders(t *testing.T) {
	t.Parallel()
	srv, got := endpoint(t, "s3cret", func(n int) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	s := testShop()
	d := s.Level("SKU-A", 1, 3)
	em := &Emitter{URL: srv.URL, Domain: s.Domain(), Secret: "s3cret", Client: srv.Client(), Speedup: 1e6}
	var tries []int
	rep, err := em.Deliver(context.Background(), []Delivery{d}, Options{OnAttempt: func(a Attempt) { tries = append(tries, a.Try) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Attempts != 4 || rep.Retries != 3 || rep.Delivered != 1 || len(rep.Dropped) != 0 {
		t.Fatalf("report %v", rep)
	}
	rs := got()
	for i, r := range rs {
		if r.topic != "inventory_levels/update" || r.shop != s.Domain() || r.version == "" || r.hmac == "" {
			t.Errorf("attempt %d headers %+v", i, r)
		}
		// A retry is the same delivery: same IDs, same trigger time, same bytes.
		if r.event != d.EventID || r.webhook != rs[0].webhook || r.triggered != rs[0].triggered || !bytes.Equal(r.body, d.Body) {
			t.Errorf("attempt %d differs from the first: %+v", i, r)
		}
	}
	if strings.Join(strings.Fields(strings.Trim(jsonOf(tries), "[]")), "") != "0,1,2,3" {
		t.Errorf("tries %v", tries)
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestEmitterGivesUpAfterEightRetries(t *testing.T) {
	t.Parallel()
	srv, got := endpoint(t, "s3cret", func(int) int { return http.StatusInternalServerError })
	s := testShop()
	em := &Emitter{URL: srv.URL, Domain: s.Domain(), Secret: "s3cret", Client: srv.Client(), Speedup: 1e6}
	rep, err := em.Deliver(context.Background(), []Delivery{s.Item("SKU-A")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Attempts != 9 || len(rep.Dropped) != 1 || len(got()) != 9 {
		t.Fatalf("report %v", rep)
	}
}

func TestEmitterDuplicatesAndShuffle(t *testing.T) {
	t.Parallel()
	srv, got := endpoint(t, "s3cret", func(int) int { return http.StatusOK })
	s := testShop()
	ds := allDeliveries(t, s)
	em := &Emitter{URL: srv.URL, Domain: s.Domain(), Secret: "s3cret", Client: srv.Client()}
	rep, err := em.Deliver(context.Background(), ds, Options{Seed: 3, Shuffle: true, Duplicates: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != 2*len(ds) {
		t.Fatalf("report %v, want every delivery twice", rep)
	}
	byEvent := map[string][]received{}
	inOrder := true
	for i, r := range got() {
		byEvent[r.event] = append(byEvent[r.event], r)
		if i%2 == 0 && r.event != ds[i/2].EventID {
			inOrder = false
		}
	}
	for id, rs := range byEvent {
		if len(rs) != 2 || rs[0].webhook == rs[1].webhook || !bytes.Equal(rs[0].body, rs[1].body) {
			t.Errorf("event %s: %d copies; a duplicate is a new delivery (webhook ID) of the same event", id, len(rs))
		}
	}
	if inOrder {
		t.Error("shuffled delivery arrived in order")
	}
}
