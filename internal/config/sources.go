package config

import (
	"os"
	"time"

	"github.com/tillsync/tillsync/internal/source/csv"
	"github.com/tillsync/tillsync/internal/source/square"
)

// ShopifySource is one shop's webhooks.
type ShopifySource struct {
	Name string `yaml:"name"`
	Shop string `yaml:"shop"`
	// SecretEnv names the environment variable holding the app's webhook
	// secret; PreviousSecretEnv the one before it, during a rotation.
	SecretEnv         string            `yaml:"secret_env"`
	PreviousSecretEnv string            `yaml:"previous_secret_env"`
	Locations         map[string]string `yaml:"locations"`
	DefaultLocation   string            `yaml:"default_location"`
	POSSources        []string          `yaml:"pos_sources"`
	WebChannel        string            `yaml:"web_channel"`
	Zone              string            `yaml:"zone"`
	Zones             map[string]string `yaml:"zones"`
	Currency          string            `yaml:"currency"`
	TaxesIncluded     bool              `yaml:"taxes_included"`
	InventoryLevels   string            `yaml:"inventory_levels"`
	SKUs              map[string]string `yaml:"skus"`
	StaleAfter        time.Duration     `yaml:"stale_after"`
}

// Secrets resolves the shop's webhook secrets.
func (s ShopifySource) Secrets() []string {
	var out []string
	for _, env := range []string{s.SecretEnv, s.PreviousSecretEnv} {
		if env != "" {
			if v := os.Getenv(env); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// SquareSource is one Square seller's webhooks; secrets may be given as
// environment variable names.
type SquareSource struct {
	square.Config `yaml:",inline"`
	// SignatureKeyEnv and AccessTokenEnv name environment variables
	// holding the signature key and the access token.
	SignatureKeyEnv string `yaml:"signature_key_env"`
	AccessTokenEnv  string `yaml:"access_token_env"`
}

// Resolve returns the Square config with secrets read from the environment.
func (s SquareSource) Resolve() square.Config {
	c := s.Config
	if s.SignatureKeyEnv != "" {
		if v := os.Getenv(s.SignatureKeyEnv); v != "" {
			c.SignatureKeys = append([]string{v}, c.SignatureKeys...)
		}
	}
	if s.AccessTokenEnv != "" {
		c.AccessToken = os.Getenv(s.AccessTokenEnv)
	}
	return c
}

// CSVSource watches a folder for export files.
type CSVSource struct {
	Name     string        `yaml:"name"`
	Dir      string        `yaml:"dir"`
	Done     string        `yaml:"done"`
	Failed   string        `yaml:"failed"`
	Pattern  string        `yaml:"pattern"`
	Interval time.Duration `yaml:"interval"`
	Mapping  csv.Mapping   `yaml:"mapping"`
}

func (c *Hub) validateSources(p *Problems) {
	names := map[string]bool{}
	for i, s := range c.Shopify {
		f := field("shopify", i)
		if s.Name == "" || names["shopify/"+s.Name] {
			p.add(f+".name", "is required and must be unique (it is the webhook path /v1/sources/shopify/NAME)")
		}
		names["shopify/"+s.Name] = true
		if len(s.Secrets()) == 0 {
			p.add(f+".secret_env", "must name a set environment variable holding the app's webhook secret")
		}
	}
	for i, s := range c.Square {
		f := field("square", i)
		if s.Name == "" || names["square/"+s.Name] {
			p.add(f+".name", "is required and must be unique (it is the webhook path /v1/sources/square/NAME)")
		}
		names["square/"+s.Name] = true
		if err := s.Resolve().Validate(); err != nil {
			p.add(f, "%v", err)
		}
	}
	for i, s := range c.CSVImports {
		f := field("csv_imports", i)
		if s.Dir == "" {
			p.add(f+".dir", "is required: the folder exports are dropped into")
		}
	}
}

// ShopifyChannel pushes a channel's availability to a Shopify shop's
// inventory with compare-and-set.
type ShopifyChannel struct {
	Name string `yaml:"name"`
	Shop string `yaml:"shop"`
	// AccessTokenEnv names the environment variable holding the Admin API
	// access token (write_inventory, read_products).
	AccessTokenEnv string `yaml:"access_token_env"`
	APIVersion     string `yaml:"api_version"`
	// Endpoint overrides the Admin API URL (a simulator).
	Endpoint string `yaml:"endpoint"`
	// Channel is the availability channel pushed.
	Channel string `yaml:"channel"`
	// Locations maps tillsync locations to Shopify Location GIDs; Items
	// maps SKUs to InventoryItem GIDs (or LookupSKUs finds them).
	Locations   map[string]string `yaml:"locations"`
	Items       map[string]string `yaml:"items"`
	LookupSKUs  bool              `yaml:"lookup_skus"`
	Plan        string            `yaml:"plan"`
	RestoreRate float64           `yaml:"restore_rate"`
	BatchSize   int               `yaml:"batch_size"`
	Mode        string            `yaml:"mode"`
	SettleAfter time.Duration     `yaml:"settle_after"`
	Timeout     time.Duration     `yaml:"timeout"`
}
