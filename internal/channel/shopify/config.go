package shopify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/destination"
)

// Mode is how quantities are written.
type Mode string

// Modes.
const (
	// ModeCAS sets Shopify's available quantity to the channel's
	// available-to-promise with inventorySetQuantities, compare-and-set
	// against the value tillsync believes Shopify holds. The default.
	ModeCAS Mode = "cas"
	// ModeAdjust sends the ledger's movement since the last write as a
	// delta with inventoryAdjustQuantities and an idempotency key. Keys
	// with no baseline yet (first contact, after a restart) go through the
	// compare-and-set path once.
	ModeAdjust Mode = "adjust"
)

// Plans and their restore rates in points per second
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
var plans = map[string]float64{
	"standard":   100,
	"advanced":   200,
	"plus":       1000,
	"enterprise": 2000,
}

// DefaultAPIVersion is the Admin API version used when none is configured:
// the stable version current when this destination was written.
const DefaultAPIVersion = "2026-10"

// MaxBatch is the most quantities one mutation may carry: "Input arguments
// that accept an array have a maximum size of 250"
// (https://shopify.dev/docs/api/usage/limits).
const MaxBatch = 250

// Config describes one Shopify channel destination: one shop, one
// availability channel.
type Config struct {
	// Name names the destination (metrics, logs, the cursor
	// "shopify:<name>").
	Name string
	// Shop is the shop's myshopify domain, e.g. "tillsync-demo.myshopify.com".
	Shop string
	// AccessToken is the Admin API access token (a secret; needs the
	// write_inventory scope, and read_products for SKU lookup).
	AccessToken string
	// APIVersion is the Admin API version (default DefaultAPIVersion).
	APIVersion string
	// Endpoint overrides "https://<Shop>" (tests and the simulator).
	Endpoint string
	// Channel is the availability channel pushed to the shop.
	Channel availability.Channel
	// Locations maps tillsync locations to Shopify location GIDs
	// ("gid://shopify/Location/…"). Positions at other locations are
	// skipped and counted as unmapped.
	Locations map[string]string
	// Items maps SKUs to Shopify inventory item GIDs
	// ("gid://shopify/InventoryItem/…").
	Items map[string]string
	// LookupSKUs looks up SKUs missing from Items with productVariants(query:
	// "sku:…") and caches the answer (a SKU not found, or found on several
	// variants, is looked up again after LookupRetry).
	LookupSKUs  bool
	LookupRetry time.Duration
	// Plan is the shop's plan (standard, advanced, plus, enterprise;
	// default standard); RestoreRate and BucketSize override the assumed
	// bucket until Shopify reports its own in the first answer.
	Plan        string
	RestoreRate float64
	BucketSize  float64
	// Reserve is cost points left unspent for other users of the same app
	// on the shop (default 0).
	Reserve float64
	// BatchSize is the most quantities per mutation (default and maximum
	// 250).
	BatchSize int
	// PageSize is how many changed positions one cursor read covers at most
	// (default 1000).
	PageSize int
	// Mode is cas (default) or adjust.
	Mode Mode
	// Reason is the inventory change reason Shopify records (default
	// "correction").
	Reason string
	// SettleAfter is how long a decrease made in Shopify behind tillsync's
	// back is kept on top of the ledger's value before tillsync trusts the
	// ledger to include it (default 2 minutes; see the package
	// documentation). It also delays raising a value Shopify shows below
	// the ledger's at first contact. Negative: offsets are kept until the
	// process restarts.
	SettleAfter time.Duration
	// Timeout bounds one HTTP request (default 30 s).
	Timeout time.Duration
	// Backoff spaces retries after 5xx answers and network errors.
	Backoff destination.Backoff
}

var (
	shopRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)
	versionRE = regexp.MustCompile(`^(\d{4}-(01|04|07|10)|unstable)$`)
	locGIDRE  = regexp.MustCompile(`^gid://shopify/Location/\d+$`)
	itemGIDRE = regexp.MustCompile(`^gid://shopify/InventoryItem/\d+$`)
)

// reasons Shopify accepts for inventory changes
// (https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps/quantities-states).
var reasons = map[string]bool{
	"correction": true, "cycle_count_available": true, "damaged": true, "movement_created": true,
	"movement_updated": true, "movement_received": true, "movement_canceled": true, "other": true,
	"promotion": true, "quality_control": true, "received": true, "reservation_created": true,
	"reservation_deleted": true, "reservation_updated": true, "restock": true, "safety_stock": true,
	"shrinkage": true,
}

func (c *Config) defaults() {
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.Plan == "" {
		c.Plan = "standard"
	}
	c.Plan = strings.ToLower(c.Plan)
	if c.RestoreRate <= 0 {
		c.RestoreRate = plans[c.Plan]
	}
	if c.BatchSize <= 0 {
		c.BatchSize = MaxBatch
	}
	if c.PageSize <= 0 {
		c.PageSize = 1000
	}
	if c.Mode == "" {
		c.Mode = ModeCAS
	}
	if c.Reason == "" {
		c.Reason = "correction"
	}
	if c.SettleAfter == 0 {
		c.SettleAfter = 2 * time.Minute
	}
	if c.LookupRetry <= 0 {
		c.LookupRetry = 10 * time.Minute
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Backoff.Min <= 0 {
		c.Backoff.Min = 500 * time.Millisecond
	}
	if c.Backoff.Max < c.Backoff.Min {
		c.Backoff.Max = max(time.Minute, c.Backoff.Min)
	}
}

// Validate checks the configuration (after defaults) and names the field
// and the fix of every problem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("shopify %s: %s: %s", c.Name, field, fmt.Sprintf(format, args...)))
	}
	if c.Name == "" {
		bad("name", "is empty; name the destination")
	}
	if !shopRE.MatchString(c.Shop) {
		bad("shop", "%q is not a myshopify domain; use the shop's <name>.myshopify.com", c.Shop)
	}
	if c.AccessToken == "" {
		bad("access_token", "is empty; set the Admin API access token of the app")
	}
	if !versionRE.MatchString(c.APIVersion) {
		bad("api_version", "%q is not an Admin API version (YYYY-01, -04, -07 or -10)", c.APIVersion)
	}
	if c.Channel.Name == "" {
		bad("channel", "is empty; name the availability channel to push")
	}
	if len(c.Locations) == 0 {
		bad("locations", "is empty; map each tillsync location to a Shopify location GID")
	}
	for loc, gid := range c.Locations {
		if !locGIDRE.MatchString(gid) {
			bad("locations."+loc, "%q is not a location GID (gid://shopify/Location/<id>)", gid)
		}
	}
	for sku, gid := range c.Items {
		if !itemGIDRE.MatchString(gid) {
			bad("items."+sku, "%q is not an inventory item GID (gid://shopify/InventoryItem/<id>)", gid)
		}
	}
	if len(c.Items) == 0 && !c.LookupSKUs {
		bad("items", "is empty and lookup_skus is off; map SKUs to inventory items or turn on lookup")
	}
	if _, ok := plans[c.Plan]; !ok {
		bad("plan", "%q is unknown; use standard, advanced, plus or enterprise, or set restore_rate", c.Plan)
	}
	if c.BatchSize > MaxBatch {
		bad("batch_size", "%d is above Shopify's limit of %d quantities per mutation", c.BatchSize, MaxBatch)
	}
	switch c.Mode {
	case ModeCAS:
	case ModeAdjust:
		if versionBefore(c.APIVersion, "2026-01") {
			bad("mode", "adjust needs the @idempotent directive, which API version %s lacks; use 2026-01 or later, or mode cas", c.APIVersion)
		}
	default:
		bad("mode", "%q is unknown; use cas or adjust", c.Mode)
	}
	if !reasons[c.Reason] {
		bad("reason", "%q is not an inventory change reason Shopify accepts (e.g. correction)", c.Reason)
	}
	return errors.Join(errs...)
}

// versionBefore reports whether API version v is older than w ("unstable"
// is newest).
func versionBefore(v, w string) bool {
	if v == "unstable" {
		return false
	}
	return v < w
}
