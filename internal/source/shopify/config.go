package shopify

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Config configures the webhook source of one Shopify shop.
type Config struct {
	// Shop is the shop's myshopify.com domain ("tillsync-demo.myshopify.com").
	// Deliveries whose X-Shopify-Shop-Domain differs are refused, and the
	// shop's handle ("tillsync-demo") is part of every canonical event ID.
	Shop string
	// Secrets are the app's client secrets that may sign deliveries: the
	// current one and, during a rotation, the previous one. Shopify can take
	// up to an hour to sign with a new secret after a rotation
	// (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries), so
	// keep both until then. At most two.
	Secrets []string
	// Locations maps Shopify location IDs (decimal text) to tillsync
	// locations.
	Locations map[string]string
	// DefaultLocation is where web orders reserve stock when the order names
	// no location, and where documents without a location happen (refunds
	// without restock or POS transaction, fulfillments without location).
	DefaultLocation string
	// POSSources are the order source_name values that mean a till sale;
	// default ["pos"].
	POSSources []string
	// WebChannel is the channel name of web orders; default "shopify".
	WebChannel string
	// Zone is the IANA zone of locations not in Zones; Zones gives a
	// location its own.
	Zone  string
	Zones map[string]string
	// Currency is the shop's currency, used only when a refund carries no
	// currency of its own.
	Currency string
	// TaxesIncluded says whether prices include tax, for refunds (their
	// payload does not say) whose transactions do not settle it.
	TaxesIncluded bool
	// StaleAfter is the delivery age (now − X-Shopify-Triggered-At) past
	// which a delivery counts as a stale retry; default 15m.
	StaleAfter time.Duration
	// WaitFor is how long, after it was triggered, a delivery that refers to
	// a document or inventory item tillsync has not seen yet is answered 503
	// so that Shopify retries it; past that it is mapped as best it can be or
	// parked. Default 30m (Shopify retries for about 4 h).
	WaitFor time.Duration
	// SubmitTimeout bounds the commit so the answer comes well inside
	// Shopify's 5 s; default 4s.
	SubmitTimeout time.Duration
	// MaxBodyBytes bounds a delivery; default 8 MiB.
	MaxBodyBytes int64
	// RecentEvents is how many X-Shopify-Event-Id values are remembered for
	// fast duplicate answers; default 10000. The log's dedupe on canonical
	// IDs is what makes redeliveries harmless; this only saves work.
	RecentEvents int
	// Gateways maps payment gateway names to tender kinds (card, cash,
	// gift_card, store_credit), over the defaults: cash → cash,
	// gift_card → gift_card, shopify_store_credit → store_credit, anything
	// else → card.
	Gateways map[string]string
	// NonStockSKU is the SKU that charges without stock take on sales and
	// returns — shipping, custom sale items, amounts the lines do not
	// explain — so that tenders still balance. Book it as a non-inventory
	// item in the ERP. Default "shopify-non-stock".
	NonStockSKU string
	// InventoryLevels is "count" (inventory_levels/update becomes a stock
	// count; the default) or "ignore". See the package documentation for
	// when to ignore them.
	InventoryLevels string
	// SKUs maps inventory item IDs to SKUs for inventory level payloads
	// (which carry no SKU), over what inventory_items/* and products/*
	// deliveries teach the handler.
	SKUs map[string]string
}

// Inventory level modes.
const (
	LevelsCount  = "count"
	LevelsIgnore = "ignore"
)

func (c *Config) defaults() {
	if len(c.POSSources) == 0 {
		c.POSSources = []string{"pos"}
	}
	if c.WebChannel == "" {
		c.WebChannel = "shopify"
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = 15 * time.Minute
	}
	if c.WaitFor <= 0 {
		c.WaitFor = 30 * time.Minute
	}
	if c.SubmitTimeout <= 0 {
		c.SubmitTimeout = 4 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.RecentEvents <= 0 {
		c.RecentEvents = 10000
	}
	if c.NonStockSKU == "" {
		c.NonStockSKU = "shopify-non-stock"
	}
	if c.InventoryLevels == "" {
		c.InventoryLevels = LevelsCount
	}
}

// handle is the shop's name without ".myshopify.com": the part of the
// domain that goes into canonical IDs, keeping them short.
func (c *Config) handle() string {
	return strings.TrimSuffix(strings.ToLower(c.Shop), ".myshopify.com")
}

// Validate checks the configuration (after defaults) and names every field
// at fault.
func (c *Config) Validate() error {
	var p []string
	add := func(field, format string, args ...any) {
		p = append(p, field+": "+fmt.Sprintf(format, args...))
	}
	h := c.handle()
	switch {
	case c.Shop == "":
		add("shop", "is required: the shop's myshopify.com domain, e.g. tillsync-demo.myshopify.com")
	case len(h) > 40 || !idSafe(h):
		add("shop", "%q must be a myshopify.com domain of at most 40 letters, digits and dashes before .myshopify.com", c.Shop)
	}
	switch n := nonEmpty(c.Secrets); {
	case n == 0:
		add("secrets", "at least one app client secret is required (two during a rotation)")
	case n > 2 || len(c.Secrets) > 2:
		add("secrets", "at most two secrets (the current and the previous one during a rotation)")
	}
	if c.DefaultLocation == "" {
		add("default_location", "is required: the tillsync location web orders reserve at when they name none")
	}
	keys := make([]string, 0, len(c.Locations))
	for k := range c.Locations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !digits(k) {
			add("locations", "key %q is not a Shopify location ID (digits only)", k)
		}
		if c.Locations[k] == "" {
			add("locations."+k, "maps to an empty location")
		}
	}
	if c.Zone == "" {
		add("zone", "is required: the IANA zone of the shop's locations, e.g. Europe/Berlin")
	} else if _, err := event.LoadZone(c.Zone); err != nil {
		add("zone", "%q is not an IANA time zone (e.g. Europe/Berlin)", c.Zone)
	}
	for loc, z := range c.Zones {
		if _, err := event.LoadZone(z); err != nil {
			add("zones."+loc, "%q is not an IANA time zone (e.g. Europe/Berlin)", z)
		}
	}
	if c.Currency != "" {
		if _, ok := event.MinorUnits(c.Currency); !ok {
			add("currency", "%q is not an ISO 4217 currency code", c.Currency)
		}
	}
	for g, k := range c.Gateways {
		if !knownTender(event.TenderKind(k)) {
			add("gateways."+g, "%q is not one of card, cash, gift_card, store_credit", k)
		}
	}
	if !idSafe(c.NonStockSKU) {
		add("non_stock_sku", "%q may hold only letters, digits and . _ : / @ # -", c.NonStockSKU)
	}
	if c.InventoryLevels != LevelsCount && c.InventoryLevels != LevelsIgnore {
		add("inventory_levels", "%q is not count or ignore", c.InventoryLevels)
	}
	for item, sku := range c.SKUs {
		if !digits(item) || sku == "" {
			add("skus", "%q → %q: keys are inventory item IDs, values SKUs", item, sku)
		}
	}
	if len(p) == 0 {
		return nil
	}
	sort.Strings(p)
	return errors.New("shopify source config is not valid:\n  - " + strings.Join(p, "\n  - "))
}

func nonEmpty(ss []string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

func knownTender(k event.TenderKind) bool {
	switch k {
	case event.TenderCard, event.TenderCash, event.TenderGiftCard, event.TenderStoreCredit:
		return true
	}
	return false
}

// idSafe reports whether s is usable inside a canonical event ID.
func idSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("._:/@#-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// zone returns the IANA zone of a tillsync location.
func (c *Config) zone(loc string) string {
	if z := c.Zones[loc]; z != "" {
		return z
	}
	return c.Zone
}

// location maps a Shopify location ID; ok is false for an ID that is not
// configured. An empty ID maps to the default location.
func (c *Config) location(id ID) (string, bool) {
	if id == "" {
		return c.DefaultLocation, true
	}
	l, ok := c.Locations[string(id)]
	return l, ok
}

func (c *Config) isPOS(sourceName string) bool {
	for _, s := range c.POSSources {
		if strings.EqualFold(s, sourceName) {
			return true
		}
	}
	return false
}

// tender maps a payment gateway name to a tender kind.
func (c *Config) tender(gateway string) event.TenderKind {
	if k, ok := c.Gateways[gateway]; ok {
		return event.TenderKind(k)
	}
	switch strings.ToLower(gateway) {
	case "cash":
		return event.TenderCash
	case "gift_card":
		return event.TenderGiftCard
	case "shopify_store_credit", "store_credit":
		return event.TenderStoreCredit
	}
	return event.TenderCard
}
