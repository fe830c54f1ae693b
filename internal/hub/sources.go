package hub

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	shopifych "github.com/tillsync/tillsync/internal/channel/shopify"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/source/csv"
	"github.com/tillsync/tillsync/internal/source/shopify"
	"github.com/tillsync/tillsync/internal/source/square"
)

// sourceRoutes mounts the cloud POS webhook endpoints, each authenticated
// by its vendor's signature over the raw body (not by tillsync tokens).
func (h *Hub) sourceRoutes(mux *router) error {
	submit := tracedSubmitter{next: h.committer, trace: h.trace}
	for i, s := range h.cfg.Shopify {
		cfg := shopify.Config{Shop: s.Shop, Secrets: s.Secrets(), Locations: s.Locations, DefaultLocation: s.DefaultLocation,
			POSSources: s.POSSources, WebChannel: s.WebChannel, Zone: s.Zone, Zones: s.Zones, Currency: s.Currency,
			TaxesIncluded: s.TaxesIncluded, InventoryLevels: s.InventoryLevels, SKUs: s.SKUs, StaleAfter: s.StaleAfter}
		handler, err := shopify.New(cfg, shopify.Deps{Submit: submit, Prepare: h.prepare, Log: h.log.With("source", "shopify:"+s.Name),
			Now: h.now, Lookup: h.lookupTypes})
		if err != nil {
			return fmt.Errorf("hub config: shopify[%d]: %w", i, err)
		}
		h.reg.MustRegister(handler)
		mux.Handle("POST /v1/sources/shopify/"+s.Name, handler)
	}
	for i, s := range h.cfg.Square {
		cfg := s.Resolve()
		if err := checkOutbound(context.Background(), fmt.Sprintf("square[%d].api_base_url", i), cfg.APIBaseURL, h.cfg.AllowPrivateDestinations); err != nil {
			return err
		}
		gov := destination.NewGovernor(destination.GovernorConfig{Name: "square:" + s.Name, Concurrency: max(cfg.Concurrency, 1), RatePerSecond: cfg.RatePerSecond})
		handler, err := square.NewHandler(cfg, square.Deps{Submit: submit, Prepare: h.prepare, Log: h.log.With("source", "square:"+s.Name),
			Now: h.now, HTTP: &http.Client{Timeout: 10 * time.Second}, Governor: gov})
		if err != nil {
			return fmt.Errorf("hub config: square[%d]: %w", i, err)
		}
		mux.Handle("POST /v1/sources/square/"+s.Name, handler)
	}
	return nil
}

// csvWatchers returns the CSV import folders to run.
func (h *Hub) csvWatchers() []*csv.Watcher {
	var out []*csv.Watcher
	for _, c := range h.cfg.CSVImports {
		out = append(out, &csv.Watcher{Dir: c.Dir, Done: c.Done, Failed: c.Failed, Pattern: c.Pattern, Interval: c.Interval,
			Mapping: c.Mapping, Submit: h.committer, Prepare: h.prepare, Log: h.log.With("source", "csv:"+c.Name), Now: h.now})
	}
	return out
}

// lookupTypes tells a source which events the log already holds.
func (h *Hub) lookupTypes(ctx context.Context, ids []string) (map[string]event.Type, error) {
	m, err := h.store.EventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]event.Type, len(m))
	for id, s := range m {
		out[id] = s.Event.Type
	}
	return out, nil
}

var _ intake.Submitter = (*intake.Committer)(nil)

// prepare runs on every event at the hub's first hop (cloud POS webhooks,
// CSV imports, POS posting straight to the hub): redaction of card data
// and personal data before anything is written, queued or logged.
func (h *Hub) prepare(e *event.Event) {
	if h.redact != nil && !h.redactOff.Load() {
		h.redact(e)
	}
}

// MeasureWithoutRedaction turns first-hop redaction off (true) or back on,
// for the benchmark that measures what redaction costs intake. It exists
// for that alone: no configuration reaches it.
func (h *Hub) MeasureWithoutRedaction(off bool) { h.redactOff.Store(off) }

// buildShopifyChannels makes the Shopify inventory destinations, each with
// the cost-point governor of its plan.
func (h *Hub) buildShopifyChannels(dm *destination.Metrics) error {
	if len(h.cfg.ShopifyChannels) == 0 {
		return nil
	}
	sm := shopifych.NewMetrics(h.reg)
	for i, c := range h.cfg.ShopifyChannels {
		if err := checkOutbound(context.Background(), fmt.Sprintf("shopify_channels[%d].endpoint", i), c.Endpoint, h.cfg.AllowPrivateDestinations); err != nil {
			return err
		}
		var ch *availability.Channel
		for j := range h.channels {
			if h.channels[j].Name == c.Channel {
				ch = &h.channels[j]
			}
		}
		if ch == nil {
			return fmt.Errorf("hub config: shopify_channels[%d].channel: %q is not a channel", i, c.Channel)
		}
		token := os.Getenv(c.AccessTokenEnv)
		cfg := shopifych.Config{Name: c.Name, Shop: c.Shop, AccessToken: token, APIVersion: c.APIVersion, Endpoint: c.Endpoint,
			Channel: *ch, Locations: c.Locations, Items: c.Items, LookupSKUs: c.LookupSKUs, Plan: c.Plan, RestoreRate: c.RestoreRate,
			BatchSize: c.BatchSize, Mode: shopifych.Mode(c.Mode), SettleAfter: c.SettleAfter, Timeout: c.Timeout}
		d, err := shopifych.New(cfg, shopifych.Deps{Store: h.store, Notifier: h.notify, Client: &http.Client{Timeout: 30 * time.Second},
			Metrics: dm, Shopify: sm, Log: h.log})
		if err != nil {
			return fmt.Errorf("hub config: shopify_channels[%d]: %w", i, err)
		}
		h.shopifyChannels = append(h.shopifyChannels, d)
	}
	return nil
}
