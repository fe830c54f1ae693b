package square

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// Defaults.
const (
	// DefaultAPIBaseURL is Square's production API; the sandbox is
	// https://connect.squareupsandbox.com.
	DefaultAPIBaseURL = "https://connect.squareup.com"
	// DefaultSquareVersion is the Square-Version sent with API calls. Square
	// answers every call in the version the application is pinned to unless
	// the header overrides it
	// (https://developer.squareup.com/docs/build-basics/versioning-overview);
	// pinning it here keeps the order shape we map from stable.
	DefaultSquareVersion = "2025-10-16"
	// Synthetic SKUs for order lines that are not catalog items.
	DefaultCustomAmountSKU  = "SQUARE-CUSTOM-AMOUNT"
	DefaultGiftCardSKU      = "SQUARE-GIFT-CARD"
	DefaultServiceChargeSKU = "SQUARE-SERVICE-CHARGE"
	DefaultRoundingSKU      = "SQUARE-ROUNDING"
)

// Config configures one Square source: one webhook subscription of one
// Square seller account.
type Config struct {
	// Name names the source in logs ("square-main").
	Name string `yaml:"name"`
	// SignatureKeys are the subscription's signature keys (Developer
	// Console → Webhooks → Subscriptions → Signature key). A notification is
	// accepted if it is signed with any of them, so a key can be rotated
	// without downtime. Secret.
	SignatureKeys []string `yaml:"signature_keys"`
	// NotificationURL is the notification URL exactly as configured in the
	// Square subscription. Square signs this string, not the URL the
	// request arrived on (which differs behind a proxy), so it must match
	// byte for byte: scheme, host, port, path, query and trailing slash.
	NotificationURL string `yaml:"notification_url"`
	// AccessToken is the seller's access token (ORDERS_READ), sent as a
	// bearer token to RetrieveOrder. Secret.
	AccessToken string `yaml:"access_token"`
	// APIBaseURL is Square's API root (default DefaultAPIBaseURL).
	APIBaseURL string `yaml:"api_base_url"`
	// SquareVersion is the Square-Version header (default
	// DefaultSquareVersion).
	SquareVersion string `yaml:"square_version"`
	// Locations maps Square location IDs to tillsync locations. A
	// notification for a location in neither Locations nor IgnoreLocations
	// is refused (422) so that Square redelivers it — for up to 72 hours —
	// once the mapping is fixed.
	Locations map[string]string `yaml:"locations"`
	// IgnoreLocations are Square location IDs that tillsync does not track:
	// their notifications are acknowledged and dropped.
	IgnoreLocations []string `yaml:"ignore_locations"`
	// Zone is the stores' IANA time zone (Europe/Berlin).
	Zone string `yaml:"zone"`
	// Currency is the seller's ISO 4217 currency; money in any other
	// currency is refused.
	Currency string `yaml:"currency"`
	// SKUs maps Square catalog object IDs (item variations) to tillsync
	// SKUs; an ID not listed is used as the SKU itself.
	SKUs map[string]string `yaml:"skus"`
	// Synthetic SKUs for lines that are not catalog items: custom amounts,
	// gift card sales, service charges and cash rounding. Map them to
	// non-inventory items at the ERP. Defaults: the Default*SKU constants.
	CustomAmountSKU  string `yaml:"custom_amount_sku"`
	GiftCardSKU      string `yaml:"gift_card_sku"`
	ServiceChargeSKU string `yaml:"service_charge_sku"`
	RoundingSKU      string `yaml:"rounding_sku"`

	// RatePerSecond and Burst limit RetrieveOrder calls (default 10/s,
	// burst 10); Concurrency caps calls in flight (default 4). Square does
	// not publish its limits and answers 429 RATE_LIMITED beyond them
	// (https://developer.squareup.com/reference/square/objects/ErrorCategory).
	RatePerSecond float64 `yaml:"rate_per_second"`
	Burst         int     `yaml:"burst"`
	Concurrency   int     `yaml:"concurrency"`
	// Attempts is how often one RetrieveOrder is tried (default 4), waiting
	// between BackoffMin and BackoffMax (defaults 200 ms, 2 s) with jitter,
	// or Square's Retry-After.
	Attempts   int           `yaml:"attempts"`
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// Deadline bounds the handling of one notification (default 8 s):
	// Square counts a delivery as failed unless it is acknowledged within
	// 10 s (https://developer.squareup.com/docs/webhooks-api/delivery-sla),
	// so past the deadline the handler answers 503 and Square redelivers.
	Deadline time.Duration `yaml:"deadline"`
	// CompletionWait is how long after a payment completed the handler
	// still expects its order (with no fulfillments, i.e. a till sale) to
	// complete: until then a completed payment on an open order answers 503
	// so Square redelivers it. Default 10 min.
	CompletionWait time.Duration `yaml:"completion_wait"`
	// DedupeSize is how many notification event_ids (and completed order
	// IDs) are remembered to skip redeliveries (default 10000). Older ones
	// are forgotten; the log's dedupe on event IDs still holds.
	DedupeSize int `yaml:"dedupe_size"`
	// MaxBodyBytes limits a notification's body (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Deps are what the handler needs from the process.
type Deps struct {
	// Submit commits events durably (the hub's group committer).
	Submit intake.Submitter
	// Prepare, if set, runs on every event before validation: the first
	// hop's redaction.
	Prepare func(*event.Event)
	Log     *slog.Logger
	// Now stamps received_at (default time.Now).
	Now func() time.Time
	// HTTP calls Square's API (default: a client with a 5 s timeout).
	HTTP *http.Client
	// Governor, if set, paces RetrieveOrder calls instead of one built from
	// the config: share one between sources using the same Square account.
	Governor *destination.Governor
}

var squareVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = "square"
	}
	if c.APIBaseURL == "" {
		c.APIBaseURL = DefaultAPIBaseURL
	}
	c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
	if c.SquareVersion == "" {
		c.SquareVersion = DefaultSquareVersion
	}
	for _, d := range []struct {
		v   *string
		def string
	}{{&c.CustomAmountSKU, DefaultCustomAmountSKU}, {&c.GiftCardSKU, DefaultGiftCardSKU},
		{&c.ServiceChargeSKU, DefaultServiceChargeSKU}, {&c.RoundingSKU, DefaultRoundingSKU}} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = 10
	}
	if c.Burst <= 0 {
		c.Burst = 10
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 200 * time.Millisecond
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(2*time.Second, c.BackoffMin)
	}
	if c.Deadline <= 0 {
		c.Deadline = 8 * time.Second
	}
	if c.CompletionWait <= 0 {
		c.CompletionWait = 10 * time.Minute
	}
	if c.DedupeSize <= 0 {
		c.DedupeSize = 10000
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
}

// Validate checks the configuration, with defaults applied, and names the
// field at fault and the fix.
func (c Config) Validate() error {
	c.defaults()
	var errs []error
	bad := func(field, msg string) {
		errs = append(errs, fmt.Errorf("square source %q: %s: %s", c.Name, field, msg))
	}
	if len(c.SignatureKeys) == 0 {
		bad("signature_keys", "is required: copy the signature key of the webhook subscription from the Square Developer Console")
	}
	for i, k := range c.SignatureKeys {
		if k == "" {
			bad(fmt.Sprintf("signature_keys[%d]", i), "is empty")
		}
	}
	if u, err := url.Parse(c.NotificationURL); c.NotificationURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
		bad("notification_url", "must be the absolute notification URL exactly as configured in the Square subscription (https://…)")
	}
	if c.AccessToken == "" {
		bad("access_token", "is required to fetch orders (RetrieveOrder needs ORDERS_READ)")
	}
	if u, err := url.Parse(c.APIBaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		bad("api_base_url", "must be an absolute URL such as "+DefaultAPIBaseURL)
	}
	if !squareVersion.MatchString(c.SquareVersion) {
		bad("square_version", "must be a Square API version date such as "+DefaultSquareVersion)
	}
	if len(c.Locations) == 0 {
		bad("locations", "map at least one Square location ID to a tillsync location")
	}
	for sq, loc := range c.Locations {
		if sq == "" || loc == "" {
			bad("locations", fmt.Sprintf("%q → %q: both the Square location ID and the tillsync location are required", sq, loc))
		}
	}
	if _, err := event.LoadZone(c.Zone); err != nil {
		bad("zone", fmt.Sprintf("%q is not an IANA time zone (Europe/Berlin)", c.Zone))
	}
	if _, ok := event.MinorUnits(c.Currency); !ok {
		bad("currency", fmt.Sprintf("%q is not an ISO 4217 currency code (EUR)", c.Currency))
	}
	return errors.Join(errs...)
}
