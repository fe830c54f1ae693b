package hub_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/tillsync/tillsync/internal/config"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inventory"
	shopifysim "github.com/tillsync/tillsync/internal/sim/shopify"
)

// A Shopify shop configured in the hub posts signed webhooks to its route;
// a POS order lands in the log as a sale and moves stock, a bad signature
// is refused, and a redelivery changes nothing.
func TestShopifyWebhooksThroughTheHub(t *testing.T) {
	t.Setenv("TEST_SHOPIFY_SECRET", "shpss_test_secret")
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Name: "Berlin", Zone: et.Zone, TokenSHA256: "0000000000000000000000000000000000000000000000000000000000000000"}}
	cfg.Shopify = []config.ShopifySource{{Name: "main", Shop: "tillsync-test.myshopify.com", SecretEnv: "TEST_SHOPIFY_SECRET",
		Locations: map[string]string{"64001": "s1"}, DefaultLocation: "s1", Zone: et.Zone, Currency: "EUR"}}
	h := runHub(t, cfg)

	shop := shopifysim.New(shopifysim.Config{Domain: "tillsync-test.myshopify.com", Currency: "EUR"})
	em := &shopifysim.Emitter{URL: h.url + "/v1/sources/shopify/main", Domain: shop.Domain(), Secret: "shpss_test_secret", Client: http.DefaultClient}
	_, ds := shop.POSOrder(64001, shopifysim.Line{SKU: "JKT-M", Qty: 2, Price: 12900})
	ctx := context.Background()
	for _, d := range ds {
		status, err := em.Send(ctx, d, "wh-1")
		if err != nil || status != http.StatusOK {
			t.Fatalf("webhook %s: status %d, err %v", d.Topic, status, err)
		}
		if status, _ := em.Send(ctx, d, "wh-1"); status != http.StatusOK { // a redelivery
			t.Fatalf("redelivery of %s: status %d", d.Topic, status)
		}
	}
	bad := &shopifysim.Emitter{URL: em.URL, Domain: shop.Domain(), Secret: "wrong", Client: http.DefaultClient}
	if status, _ := bad.Send(ctx, ds[0], "wh-2"); status != http.StatusUnauthorized {
		t.Fatalf("a wrong signature got %d, want 401", status)
	}
	ps, err := h.Store().PositionsByKey(ctx, []inventory.Key{{SKU: "JKT-M", Location: "s1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ps[inventory.Key{SKU: "JKT-M", Location: "s1"}].OnHand(); got != -2000 {
		t.Fatalf("on hand after a POS order of 2 (sent twice): %s, want -2", got)
	}
}
