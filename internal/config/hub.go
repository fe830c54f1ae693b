package config

import (
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
)

// Hub configures `tillsync hub`.
type Hub struct {
	// Listen is the address of the HTTP API.
	Listen string `yaml:"listen"`
	// Database is "sqlite:PATH" (default) or a postgres:// URL.
	Database string    `yaml:"database"`
	Stores   []Store   `yaml:"stores"`
	Sources  []Source  `yaml:"sources"`
	Channels []Channel `yaml:"channels"`
	Webhooks []Webhook `yaml:"webhooks"`
	// ERPAccounts are ERP logins; each has one governor shared by every
	// destination that posts through it.
	ERPAccounts []ERPAccount `yaml:"erp_accounts"`
	// Shopify shops and Square sellers post webhooks to
	// /v1/sources/shopify/{name} and /v1/sources/square/{name}; CSVImports
	// watch folders for legacy POS exports.
	Shopify    []ShopifySource `yaml:"shopify"`
	Square     []SquareSource  `yaml:"square"`
	CSVImports []CSVSource     `yaml:"csv_imports"`
	// ShopifyChannels push availability to Shopify inventory.
	ShopifyChannels []ShopifyChannel `yaml:"shopify_channels"`
	Destinations    []ERPDestination `yaml:"destinations"`
	Commit          Commit           `yaml:"commit"`
	Limits          Limits           `yaml:"limits"`
	Log             Log              `yaml:"log"`
	// Telemetry is OpenTelemetry tracing (off by default).
	Telemetry Telemetry `yaml:"telemetry"`
	// AdminTokenSHA256 is the hash of an admin API key (a shorthand for
	// one api_keys entry named "admin").
	AdminTokenSHA256 string `yaml:"admin_token_sha256"`
	// APIKeys are the keys of people and tools using the JSON API, each
	// with a role: viewer (reads), operator (pause, resume, replay), admin
	// (also the audit trail). With no keys at all, reads are open to this
	// machine only and actions are CLI-only.
	APIKeys []APIKey `yaml:"api_keys"`
	// TLS serves the API over HTTPS (TLS 1.2+). Without it the hub serves
	// plain HTTP only on a loopback address, and only with
	// insecure_plaintext: true — for development.
	TLS               TLS  `yaml:"tls"`
	InsecurePlaintext bool `yaml:"insecure_plaintext"`
	// AllowPrivateDestinations lets webhooks and ERPs be on loopback,
	// link-local or private addresses (simulators, an on-premises ERP) and
	// over plain HTTP there. Off, outbound URLs must be public HTTPS.
	AllowPrivateDestinations bool `yaml:"allow_private_destinations"`
	// Audit keeps the audit trail.
	Audit Audit `yaml:"audit"`
	// Redact is the redaction at the hub's first hop (cloud POS webhooks,
	// CSV imports, POS posting straight to the hub).
	Redact Redact `yaml:"redact"`
	// Close is the end-of-day close and its checks.
	Close Close `yaml:"close"`
	// Catalog turns on SKU mapping and the quarantine at intake.
	Catalog Catalog `yaml:"catalog"`
}

// APIKey is one API key, kept as the SHA-256 of its secret.
type APIKey struct {
	Name      string `yaml:"name"`
	Role      string `yaml:"role"`
	KeySHA256 string `yaml:"key_sha256"`
}

// TLS is the hub's certificate, and optionally the CA that signs store
// edges' client certificates (mutual TLS: a certificate whose common name
// is a store ID authenticates that store).
type TLS struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether a certificate is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Audit configures the audit trail.
type Audit struct {
	// Retention is how long audit lines are kept: at least 12 months
	// (PCI DSS Req. 10.5.1); default 13 months.
	Retention time.Duration `yaml:"retention"`
}

// Store is a location that may send events, with the SHA-256 of its token.
type Store struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	Zone string `yaml:"zone"`
	// TokenSHA256 is the hex SHA-256 of the store's bearer token
	// (`tillsync token` makes one). The hub never stores the token itself.
	TokenSHA256 string `yaml:"token_sha256"`
}

// Source is a system other than a store's edge that posts events to the hub
// (a web shop's order service, a warehouse system), for the locations
// listed.
type Source struct {
	ID          string   `yaml:"id"`
	TokenSHA256 string   `yaml:"token_sha256"`
	Locations   []string `yaml:"locations"`
}

// Channel is a sales channel that gets available-to-promise.
type Channel struct {
	Name string `yaml:"name"`
	// SafetyBuffer is held back from what the channel may sell, per SKU and
	// location, to absorb miscounts and in-flight sales.
	SafetyBuffer event.Qty `yaml:"safety_buffer"`
	// Locations the channel sells from; empty means all.
	Locations []string `yaml:"locations"`
}

// Webhook is an outbound availability webhook.
type Webhook struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Secret signs each delivery (HMAC-SHA256). Prefer SecretEnv, the name
	// of an environment variable holding it.
	Secret    string   `yaml:"secret"`
	SecretEnv string   `yaml:"secret_env"`
	Channels  []string `yaml:"channels"`
	// Timeout per delivery attempt; default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// SigningSecret resolves the webhook's secret.
func (w Webhook) SigningSecret() string { return secret(w.Secret, w.SecretEnv) }

// ERPAccount is one ERP login and its limits.
type ERPAccount struct {
	Name string `yaml:"name"`
	// Kind is the connector: netsuite, sap, odoo, erpnext or webhook.
	Kind string `yaml:"kind"`
	// Settings are the connector's fields (see `tillsync erp kinds`).
	// A secret field is given as NAME_env: the environment variable that
	// holds it.
	Settings map[string]string `yaml:"settings"`
	// Concurrency is the most requests in flight for the account, shared
	// by every integration (NetSuite: 5–20 by tier plus 10 per SuiteCloud
	// Plus licence). Leave it for the others: set what tillsync may use.
	Concurrency int `yaml:"concurrency"`
	// RatePerSecond caps request starts (0: no cap).
	RatePerSecond float64 `yaml:"rate_per_second"`
	// ReadLimits asks the ERP for its concurrency limit at start (NetSuite
	// governanceLimits); Concurrency then caps it.
	ReadLimits bool `yaml:"read_limits"`
}

// ERPDestination posts the log to an ERP account.
type ERPDestination struct {
	Name    string `yaml:"name"`
	Account string `yaml:"account"`
	// Mode is detail (one record per POS document) or summary (periodic
	// totals per store; stock documents still in detail).
	Mode     string        `yaml:"mode"`
	Interval time.Duration `yaml:"interval"`
	Grace    time.Duration `yaml:"grace"`
	// Types and Locations filter events (empty: all).
	Types     []string `yaml:"types"`
	Locations []string `yaml:"locations"`
	// Fields is the destination's field allow-list: the optional document
	// fields its mapping names (erp.OptionalFields). Absent: all of them;
	// [] only what every record needs (SKU, quantity, IDs, dates).
	Fields []string `yaml:"fields"`
	// Start is where a new destination begins: beginning (the whole log,
	// the default: nothing is missed) or end (new events only; feed history
	// later with `tillsync replay --from 0`).
	Start   string        `yaml:"start"`
	Retry   Retry         `yaml:"retry"`
	Timeout time.Duration `yaml:"timeout"`
	// HoldMax is how long a document waits for the one it settles when
	// an offline store synced them the wrong way round (default 2h).
	HoldMax time.Duration `yaml:"hold_max"`
}

// Retry bounds retries of one document before it is parked.
type Retry struct {
	Attempts   int           `yaml:"attempts"`
	MaxAge     time.Duration `yaml:"max_age"`
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
}

// Commit tunes the group committer.
type Commit struct {
	Linger   time.Duration `yaml:"linger"`
	MaxBatch int           `yaml:"max_batch"`
}

// Limits bound intake: one request's size, and each token's request rate.
type Limits struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	MaxEvents    int   `yaml:"max_events"`
	// RequestsPerSecond and Burst limit each token's requests at the hub
	// (default 1,000/s with bursts of 2,000: far above any store's edge, well
	// below what would starve the others). The edge does not limit its
	// own terminals.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// DefaultHub returns the hub defaults: embedded SQLite, port 8080.
func DefaultHub() Hub {
	return Hub{
		Listen:   ":8080",
		Database: "sqlite:data/hub.db",
		Commit:   Commit{Linger: time.Millisecond, MaxBatch: 5000},
		Limits:   Limits{MaxBodyBytes: 16 << 20, MaxEvents: 5000, RequestsPerSecond: 1000, Burst: 2000},
		Log:      Log{Level: "info", Format: "json"},
		Audit:    Audit{Retention: 13 * 30 * 24 * time.Hour},
	}
}

// LoadHub reads defaults, then the file (if path is not empty), then the
// environment (TILLSYNC_HUB_LISTEN, TILLSYNC_HUB_DATABASE), and validates.
func LoadHub(path string) (Hub, error) {
	c := DefaultHub()
	if path != "" {
		if err := load(path, &c); err != nil {
			return c, err
		}
	}
	if v := os.Getenv("TILLSYNC_HUB_LISTEN"); v != "" {
		c.Listen = v
	}
	if v := os.Getenv("TILLSYNC_HUB_DATABASE"); v != "" {
		c.Database = v
	}
	return c, c.Validate()
}

// Zones maps each configured store's ID to its IANA zone.
func (c *Hub) Zones() map[string]string {
	zones := make(map[string]string, len(c.Stores))
	for _, s := range c.Stores {
		zones[s.ID] = s.Zone
	}
	return zones
}

// Validate checks the whole config and names every field at fault.
func (c *Hub) Validate() error {
	var p Problems
	checkTelemetry(c.Telemetry, &p)
	if c.Listen == "" {
		p.add("listen", "is empty; set an address such as :8080")
	}
	if c.Database == "" {
		p.add("database", "is empty; use sqlite:PATH or a postgres:// URL")
	}
	seen := map[string]bool{}
	for i, s := range c.Stores {
		f := field("stores", i)
		switch {
		case s.ID == "":
			p.add(f+".id", "is required")
		case seen[s.ID]:
			p.add(f+".id", "%q is listed twice", s.ID)
		}
		seen[s.ID] = true
		if s.Zone != "" {
			if _, err := event.LoadZone(s.Zone); err != nil {
				p.add(f+".zone", "%q is not an IANA time zone (e.g. Europe/Berlin)", s.Zone)
			}
		}
		if !isHexSHA256(s.TokenSHA256) {
			p.add(f+".token_sha256", "must be 64 hex digits: run `tillsync token` and paste the hash it prints")
		}
	}
	for i, s := range c.Sources {
		f := field("sources", i)
		switch {
		case s.ID == "":
			p.add(f+".id", "is required")
		case seen[s.ID]:
			p.add(f+".id", "%q is already used by a store or source", s.ID)
		}
		seen[s.ID] = true
		if !isHexSHA256(s.TokenSHA256) {
			p.add(f+".token_sha256", "must be 64 hex digits: run `tillsync token` and paste the hash it prints")
		}
		if len(s.Locations) == 0 {
			p.add(f+".locations", "is empty; list the locations this source may write events for")
		}
	}
	chans := map[string]bool{}
	for i, ch := range c.Channels {
		f := field("channels", i)
		if ch.Name == "" {
			p.add(f+".name", "is required")
		}
		if chans[ch.Name] {
			p.add(f+".name", "%q is listed twice", ch.Name)
		}
		chans[ch.Name] = true
		if ch.SafetyBuffer < 0 {
			p.add(f+".safety_buffer", "must not be negative")
		}
	}
	for i, w := range c.Webhooks {
		f := field("webhooks", i)
		if w.Name == "" {
			p.add(f+".name", "is required")
		}
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(f+".url", "%q is not an http(s) URL", w.URL)
		}
		if w.SigningSecret() == "" {
			if w.SecretEnv != "" {
				p.add(f+".secret_env", "environment variable %s is empty; set it to the signing secret", w.SecretEnv)
			} else {
				p.add(f+".secret_env", "is required: name an environment variable holding the signing secret")
			}
		}
		for _, ch := range w.Channels {
			if !chans[ch] {
				p.add(f+".channels", "%q is not a channel defined under channels", ch)
			}
		}
	}
	accounts := map[string]bool{}
	for i, a := range c.ERPAccounts {
		f := field("erp_accounts", i)
		switch {
		case a.Name == "":
			p.add(f+".name", "is required")
		case accounts[a.Name]:
			p.add(f+".name", "%q is listed twice", a.Name)
		}
		accounts[a.Name] = true
		if a.Kind == "" {
			p.add(f+".kind", "is required: netsuite, sap, odoo, erpnext or webhook")
		}
		if a.Concurrency < 0 {
			p.add(f+".concurrency", "must not be negative")
		}
		if a.RatePerSecond < 0 {
			p.add(f+".rate_per_second", "must not be negative")
		}
	}
	dests := map[string]bool{}
	for i, d := range c.Destinations {
		f := field("destinations", i)
		switch {
		case d.Name == "":
			p.add(f+".name", "is required")
		case dests[d.Name]:
			p.add(f+".name", "%q is listed twice", d.Name)
		}
		dests[d.Name] = true
		if !accounts[d.Account] {
			p.add(f+".account", "%q is not an account under erp_accounts", d.Account)
		}
		switch d.Mode {
		case "", "detail", "summary":
		default:
			p.add(f+".mode", "%q: use detail or summary", d.Mode)
		}
		switch d.Start {
		case "", "beginning", "end":
		default:
			p.add(f+".start", "%q: use beginning or end", d.Start)
		}
		if d.Interval < 0 || (d.Interval > 0 && d.Interval < time.Minute && d.Mode == "summary") {
			p.add(f+".interval", "is %s; summaries need at least 1m", d.Interval)
		}
		for _, t := range d.Types {
			if !knownType(t) {
				p.add(f+".types", "%q is not an event type (%v)", t, event.Types)
			}
		}
		if _, err := erp.ParseFields(d.Fields); err != nil {
			p.add(f+".fields", "%v", err)
		}
		if d.Retry.Attempts < 0 || d.Retry.MaxAge < 0 || d.Retry.BackoffMin < 0 || d.Retry.BackoffMax < 0 {
			p.add(f+".retry", "values must not be negative")
		}
	}
	if c.Commit.Linger < 0 || c.Commit.Linger > time.Second {
		p.add("commit.linger", "is %s; use 0 to 1s (a millisecond or two is right)", c.Commit.Linger)
	}
	if c.Commit.MaxBatch < 0 {
		p.add("commit.max_batch", "must not be negative")
	}
	for i, k := range c.APIKeys {
		f := field("api_keys", i)
		if k.Name == "" {
			p.add(f+".name", "is required (it names the key in the audit trail)")
		}
		switch k.Role {
		case "viewer", "operator", "admin":
		default:
			p.add(f+".role", "%q: use viewer, operator or admin", k.Role)
		}
		if !isHexSHA256(k.KeySHA256) {
			p.add(f+".key_sha256", "must be 64 hex digits: run `tillsync token` and paste the hash it prints")
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		p.add("tls", "needs both cert_file and key_file")
	}
	if c.TLS.ClientCAFile != "" && c.TLS.CertFile == "" {
		p.add("tls.client_ca_file", "needs cert_file and key_file: mutual TLS runs over TLS")
	}
	if c.Audit.Retention != 0 && c.Audit.Retention < 365*24*time.Hour {
		p.add("audit.retention", "is %s; PCI DSS Req. 10.5.1 asks for at least 12 months (8760h)", c.Audit.Retention)
	}
	if c.Limits.RequestsPerSecond < 0 || c.Limits.Burst < 0 {
		p.add("limits", "requests_per_second and burst must not be negative")
	}
	if c.AdminTokenSHA256 != "" && !isHexSHA256(c.AdminTokenSHA256) {
		p.add("admin_token_sha256", "must be 64 hex digits: run `tillsync token` and paste the hash it prints")
	}
	c.validateSources(&p)
	c.validateClose(&p)
	c.validateCatalog(&p)
	checkLog(&p, c.Log)
	return p.Err("hub")
}

func checkLog(p *Problems, l Log) {
	switch l.Level {
	case "", "debug", "info", "warn", "error":
	default:
		p.add("log.level", "%q: use debug, info, warn or error", l.Level)
	}
	switch l.Format {
	case "", "json", "text":
	default:
		p.add("log.format", "%q: use json or text", l.Format)
	}
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func field(list string, i int) string { return list + "[" + itoa(i) + "]" }

func knownType(t string) bool {
	for _, k := range event.Types {
		if string(k) == t {
			return true
		}
	}
	return false
}

// Resolve returns an account's settings with secrets read from the
// environment: a field NAME given as NAME_env is looked up there.
func (a ERPAccount) Resolve() map[string]string {
	out := make(map[string]string, len(a.Settings))
	for k, v := range a.Settings {
		if name, ok := strings.CutSuffix(k, "_env"); ok {
			out[name] = os.Getenv(v)
			continue
		}
		out[k] = v
	}
	return out
}
