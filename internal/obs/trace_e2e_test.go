package obs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	shopifysim "github.com/tillsync/tillsync/internal/sim/shopify"
)

// headerLog records the traceparent of every request an ERP simulator got.
type headerLog struct {
	mu  sync.Mutex
	tps []string
}

func (l *headerLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp := r.Header.Get("traceparent"); tp != "" {
			l.mu.Lock()
			l.tps = append(l.tps, tp)
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (l *headerLog) has(traceID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, tp := range l.tps {
		if sc, ok := obs.ParseTraceparent(tp); ok && sc.TraceID().String() == traceID {
			return true
		}
	}
	return false
}

// serve runs a hub or an edge on a random local port until the test ends.
func serve(t *testing.T, run func(context.Context, net.Listener) error, closeFn func() error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := closeFn(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func spanTraces(exp *tracetest.InMemoryExporter, name string) map[string]bool {
	out := map[string]bool{}
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			out[s.SpanContext.TraceID().String()] = true
		}
	}
	return out
}

// TestTraceEdgeHubDestination: one sale taken at a store's edge is traced
// through the edge, the hub's intake and the delivery to the ERP in one
// trace, and the ERP's HTTP request carries that trace's traceparent.
func TestTraceEdgeHubDestination(t *testing.T) {
	creds := nssim.DefaultCredentials()
	erpHeaders := &headerLog{}
	erp := httptest.NewServer(erpHeaders.wrap(nssim.New(erpsim.Options{}, creds)))
	t.Cleanup(erp.Close)

	hubSpans, edgeSpans := tracetest.NewInMemoryExporter(), tracetest.NewInMemoryExporter()
	hc := config.DefaultHub()
	hc.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	hc.Stores = []config.Store{{ID: "s1", Name: "Berlin", Zone: et.Zone, TokenSHA256: intake.HashToken("tok-s1")}}
	hc.AllowPrivateDestinations = true
	hc.ERPAccounts = []config.ERPAccount{{Name: "ns", Kind: "netsuite", Concurrency: 2, Settings: map[string]string{
		"account_id": creds.AccountID, "base_url": erp.URL, "consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret, "subsidiary": "1", "customer": "1", "adjustment_account": "1",
	}}}
	hc.Destinations = []config.ERPDestination{{Name: "netsuite", Account: "ns", Mode: "detail", Timeout: 5 * time.Second,
		Retry: config.Retry{Attempts: 5, BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}}}
	hc.Telemetry.Exporter = hubSpans
	h, err := hub.New(context.Background(), hc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hubURL := serve(t, h.Serve, h.Close)

	ec := config.DefaultEdge()
	ec.Location, ec.Zone, ec.Data = "s1", et.Zone, filepath.Join(t.TempDir(), "edge.db")
	ec.Hub = config.EdgeHub{URL: hubURL, Token: "tok-s1", InsecurePlaintext: true}
	ec.Uplink.BackoffMin, ec.Uplink.BackoffMax = 5*time.Millisecond, 50*time.Millisecond
	ec.Telemetry.Exporter = edgeSpans
	e, err := edge.New(context.Background(), ec, slog.New(slog.DiscardHandler), edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	edgeURL := serve(t, e.Serve, e.Close)

	body, _ := json.Marshal(map[string]any{"events": []any{et.Sale("trace-sale-1", "s1", time.Now().UTC(), et.L("SKU-1", 1))}})
	postEvents(t, edgeURL, body)
	var traceID string
	for id := range spanTraces(edgeSpans, "POST /v1/events") {
		traceID = id
	}
	if traceID == "" {
		t.Fatalf("the edge recorded no span for the POS request; spans: %v", names(edgeSpans))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		uplink := spanTraces(edgeSpans, "tillsync.edge.uplink")[traceID]
		intakeEvent := spanTraces(hubSpans, "tillsync.intake.event")[traceID]
		hubRequest := spanTraces(hubSpans, "POST /v1/events")[traceID]
		deliver := spanTraces(hubSpans, "tillsync.destination.deliver")[traceID]
		erpGot := erpHeaders.has(traceID)
		if uplink && intakeEvent && hubRequest && deliver && erpGot {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: edge uplink span %v, hub request span %v, hub event span %v, delivery span %v, ERP got its traceparent %v\nedge spans: %v\nhub spans: %v",
				traceID, uplink, hubRequest, intakeEvent, deliver, erpGot, names(edgeSpans), names(hubSpans))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postEvents posts a batch to an edge's intake and wants it stored.
func postEvents(t *testing.T, edgeURL string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, edgeURL+"/v1/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("edge answered %d", resp.StatusCode)
	}
}

func names(exp *tracetest.InMemoryExporter) string {
	var out []string
	for _, s := range exp.GetSpans() {
		out = append(out, s.Name+"@"+s.SpanContext.TraceID().String()[:8])
	}
	return strings.Join(out, " ")
}

// headerTransport adds a header to every request.
type headerTransport struct{ key, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set(h.key, h.value)
	return http.DefaultTransport.RoundTrip(r2)
}

// TestTraceWebhookToERP: an order from a cloud POS webhook that came with
// a traceparent is delivered to the ERP in the webhook's trace.
func TestTraceWebhookToERP(t *testing.T) {
	t.Setenv("TEST_SHOPIFY_SECRET", "shpss_trace")
	creds := nssim.DefaultCredentials()
	erpHeaders := &headerLog{}
	erp := httptest.NewServer(erpHeaders.wrap(nssim.New(erpsim.Options{}, creds)))
	t.Cleanup(erp.Close)
	spans := tracetest.NewInMemoryExporter()
	hc := config.DefaultHub()
	hc.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	hc.Stores = []config.Store{{ID: "s1", Name: "Berlin", Zone: et.Zone, TokenSHA256: intake.HashToken("tok-s1")}}
	hc.AllowPrivateDestinations = true
	hc.ERPAccounts = []config.ERPAccount{{Name: "ns", Kind: "netsuite", Concurrency: 2, Settings: map[string]string{
		"account_id": creds.AccountID, "base_url": erp.URL, "consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret, "subsidiary": "1", "customer": "1", "adjustment_account": "1",
	}}}
	hc.Destinations = []config.ERPDestination{{Name: "netsuite", Account: "ns", Mode: "detail", Timeout: 5 * time.Second,
		Retry: config.Retry{Attempts: 5, BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}}}
	hc.Shopify = []config.ShopifySource{{Name: "main", Shop: "trace.myshopify.com", SecretEnv: "TEST_SHOPIFY_SECRET",
		Locations: map[string]string{"64001": "s1"}, DefaultLocation: "s1", Zone: et.Zone, Currency: "EUR"}}
	hc.Telemetry.Exporter = spans
	h, err := hub.New(context.Background(), hc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hubURL := serve(t, h.Serve, h.Close)

	const traceID = "0af7651916cd43dd8448eb211c80319c"
	shop := shopifysim.New(shopifysim.Config{Domain: "trace.myshopify.com", Currency: "EUR"})
	_, ds := shop.POSOrder(64001, shopifysim.Line{SKU: "JKT-M", Qty: 1, Price: 12900})
	em := &shopifysim.Emitter{URL: hubURL + "/v1/sources/shopify/main", Domain: shop.Domain(), Secret: "shpss_trace",
		Client: &http.Client{Transport: headerTransport{"traceparent", "00-" + traceID + "-b7ad6b7169203331-01"}}}
	for i, d := range ds {
		if status, err := em.Send(context.Background(), d, fmt.Sprintf("wh-%d", i)); err != nil || status != http.StatusOK {
			t.Fatalf("webhook %s: %d %v", d.Topic, status, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !spanTraces(spans, "tillsync.destination.deliver")[traceID] || !erpHeaders.has(traceID) {
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: delivery span %v, ERP got its traceparent %v; spans: %v", traceID,
				spanTraces(spans, "tillsync.destination.deliver")[traceID], erpHeaders.has(traceID), names(spans))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
