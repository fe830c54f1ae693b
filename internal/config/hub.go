package config

import (
	"net/url"
	"os"
	"time"

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
	Commit   Commit    `yaml:"commit"`
	Limits   Limits    `yaml:"limits"`
	Log      Log       `yaml:"log"`
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

// Commit tunes the group committer.
type Commit struct {
	Linger   time.Duration `yaml:"linger"`
	MaxBatch int           `yaml:"max_batch"`
}

// Limits bound one intake request.
type Limits struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	MaxEvents    int   `yaml:"max_events"`
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
		Limits:   Limits{MaxBodyBytes: 16 << 20, MaxEvents: 5000},
		Log:      Log{Level: "info", Format: "json"},
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

// Validate checks the whole config and names every field at fault.
func (c *Hub) Validate() error {
	var p Problems
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
	if c.Commit.Linger < 0 || c.Commit.Linger > time.Second {
		p.add("commit.linger", "is %s; use 0 to 1s (a millisecond or two is right)", c.Commit.Linger)
	}
	if c.Commit.MaxBatch < 0 {
		p.add("commit.max_batch", "must not be negative")
	}
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
