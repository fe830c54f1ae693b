package obs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

const dashboardFile = "../../deploy/grafana/tillsync.json"

// dashboardSeries returns every metric series name the dashboard queries.
func dashboardSeries(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s does not decode: %v", dashboardFile, err)
	}
	name := regexp.MustCompile(`\b(?:tillsync|go|process)_[a-z0-9_]+\b`)
	out := map[string][]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				out[n] = append(out[n], p.Title)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the dashboard queries no metric")
	}
	return out
}

// scrape returns the series names in a /metrics answer.
func scrape(t *testing.T, url, token string) map[string]bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.IndexAny(l, "{ "); i > 0 {
			out[l[:i]] = true
		}
	}
	return out
}

// TestDashboardQueriesRealMetrics: every series the Grafana dashboard
// queries is exported by a real hub or edge once they have done their
// work (a sale through an edge to an ERP and a Shopify shop, a card
// number redacted, a SKU Shopify does not know, a stale compare), so the
// dashboard cannot drift from the code.
func TestDashboardQueriesRealMetrics(t *testing.T) {
	want := dashboardSeries(t)

	creds := nssim.DefaultCredentials()
	erp := httptest.NewServer(nssim.New(erpsim.Options{}, creds))
	t.Cleanup(erp.Close)
	shop, err := shopifyadmin.New(shopifyadmin.Config{Token: "shpat_dash", Plan: shopifyadmin.Standard})
	if err != nil {
		t.Fatal(err)
	}
	loc := shop.AddLocation()
	item := shop.AddVariant("DASH-1", loc)
	shop.SetAvailable(item, loc, 20)
	shopSrv := httptest.NewServer(shop)
	t.Cleanup(shopSrv.Close)
	t.Setenv("TEST_SHOPIFY_ADMIN_TOKEN", "shpat_dash")

	hc := config.DefaultHub()
	hc.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	hc.Stores = []config.Store{{ID: "s1", Name: "Berlin", Zone: et.Zone, TokenSHA256: intake.HashToken("tok-s1")}}
	hc.APIKeys = []config.APIKey{{Name: "prom", Role: "viewer", KeySHA256: intake.HashToken("prom-key")}}
	hc.AllowPrivateDestinations = true
	hc.ERPAccounts = []config.ERPAccount{{Name: "ns", Kind: "netsuite", Concurrency: 2, Settings: map[string]string{
		"account_id": creds.AccountID, "base_url": erp.URL, "consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret, "subsidiary": "1", "customer": "1", "adjustment_account": "1",
	}}}
	hc.Destinations = []config.ERPDestination{{Name: "netsuite", Account: "ns", Mode: "detail", Timeout: 5 * time.Second,
		Retry: config.Retry{Attempts: 5, BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}}}
	hc.ShopifyChannels = []config.ShopifyChannel{{Name: "shop", Shop: "dash.myshopify.com", AccessTokenEnv: "TEST_SHOPIFY_ADMIN_TOKEN",
		Endpoint: shopSrv.URL, Channel: "default", Locations: map[string]string{"s1": loc}, Items: map[string]string{"DASH-1": item}}}
	h, err := hub.New(context.Background(), hc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hubURL := serve(t, h.Serve, h.Close)

	ec := config.DefaultEdge()
	ec.Location, ec.Zone, ec.Data = "s1", et.Zone, filepath.Join(t.TempDir(), "edge.db")
	ec.Hub = config.EdgeHub{URL: hubURL, Token: "tok-s1", InsecurePlaintext: true}
	ec.Uplink.BackoffMin, ec.Uplink.BackoffMax = 5*time.Millisecond, 50*time.Millisecond
	e, err := edge.New(context.Background(), ec, slog.New(slog.DiscardHandler), edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	edgeURL := serve(t, e.Serve, e.Close)

	sell := func(id string, lines ...event.Line) {
		now := time.Now().UTC()
		sale := et.Sale(id, "s1", now, lines...)
		sale.Body.(*event.Sale).Notes = "customer paid with 4111 1111 1111 1111"
		stock := et.Adjust(id+"-stock", "s1", now.Add(-time.Second), et.L("DASH-1", 10))
		body, _ := json.Marshal(map[string]any{"events": []any{stock, sale}})
		postEvents(t, edgeURL, body)
	}
	metrics := func() map[string]bool {
		have := scrape(t, hubURL+"/metrics", "prom-key")
		for n := range scrape(t, edgeURL+"/metrics", "") {
			have[n] = true
		}
		return have
	}
	sell("dash-sale-1", et.L("DASH-1", 1), et.L("DASH-UNMAPPED", 1))
	// Once Shopify confirmed a quantity, its number changes behind
	// tillsync (a sale on Shopify POS): the next compare-and-set is stale.
	for deadline := time.Now().Add(10 * time.Second); !metrics()["tillsync_shopify_quantities_total"]; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Shopify never confirmed a quantity")
		}
	}
	shop.AdjustAvailable(item, loc, -1)
	sell("dash-sale-2", et.L("DASH-1", 1))

	var missing []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		have := metrics()
		missing = missing[:0]
		for n, panels := range want {
			if !have[n] {
				missing = append(missing, n+" (in "+strings.Join(panels, ", ")+")")
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			t.Fatalf("the dashboard queries series no hub or edge exports:\n  %s", strings.Join(missing, "\n  "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
