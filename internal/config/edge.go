package config

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

func itoa(i int) string { return strconv.Itoa(i) }

// Edge configures `tillsync edge`, the agent in one store.
type Edge struct {
	// Location is the store's ID, as the hub knows it.
	Location string `yaml:"location"`
	// Zone is the store's IANA time zone, stamped on events that lack one.
	Zone   string `yaml:"zone"`
	Listen string `yaml:"listen"`
	// Data is the path of the edge's local SQLite log.
	Data string  `yaml:"data"`
	Hub  EdgeHub `yaml:"hub"`
	// TerminalTokenSHA256, if set, is the hex SHA-256 of the bearer token
	// the store's POS terminals must send. Empty: the store network is
	// trusted.
	TerminalTokenSHA256 string `yaml:"terminal_token_sha256"`
	Uplink              Uplink `yaml:"uplink"`
	// Redact is the redaction at the store's first hop, before anything is
	// written to the local log.
	Redact Redact `yaml:"redact"`
	Commit Commit `yaml:"commit"`
	Limits Limits `yaml:"limits"`
	Log    Log    `yaml:"log"`
	// Telemetry is OpenTelemetry tracing (off by default).
	Telemetry Telemetry `yaml:"telemetry"`
}

// EdgeHub is where the edge sends events.
type EdgeHub struct {
	URL string `yaml:"url"`
	// Token is the store's bearer token; prefer TokenEnv, the name of an
	// environment variable that holds it.
	Token    string `yaml:"token"`
	TokenEnv string `yaml:"token_env"`
	// TokenFile names a file holding the token (a mounted secret).
	TokenFile string `yaml:"token_file"`
	// CAFile is a PEM bundle to verify the hub's certificate with, instead
	// of the system's roots.
	CAFile string `yaml:"ca_file"`
	// ClientCertFile and ClientKeyFile authenticate the edge to the hub
	// with mutual TLS.
	ClientCertFile string `yaml:"client_cert_file"`
	ClientKeyFile  string `yaml:"client_key_file"`
	// InsecurePlaintext allows an http:// hub URL — on a loopback address
	// only, for development. There is no insecure fallback otherwise.
	InsecurePlaintext bool `yaml:"insecure_plaintext"`
}

// BearerToken resolves the store's token.
func (h EdgeHub) BearerToken() string {
	if h.TokenFile != "" {
		b, err := os.ReadFile(h.TokenFile)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return secret(h.Token, h.TokenEnv)
}

// Uplink tunes how the edge drains its log to the hub.
type Uplink struct {
	// Batch is the most events per request. Default 2000.
	Batch int `yaml:"batch"`
	// LiveShare is the share of each batch kept for the newest events while
	// a backlog drains, so new sales are not stuck behind old ones.
	LiveShare float64 `yaml:"live_share"`
	// BackoffMin and BackoffMax bound the retry delay when the hub is
	// unreachable (exponential, with jitter).
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// Timeout per uplink request.
	Timeout time.Duration `yaml:"timeout"`
	// SnapshotInterval is how often the edge refreshes its copy of the
	// hub's stock for its location.
	SnapshotInterval time.Duration `yaml:"snapshot_interval"`
	// Retention is how long synced events stay in the local log, so a POS
	// retry of an old event is still recognised as a duplicate locally.
	Retention time.Duration `yaml:"retention"`
}

// DefaultEdge returns the edge defaults.
func DefaultEdge() Edge {
	return Edge{
		Listen: ":8081",
		Data:   "data/edge.db",
		Uplink: Uplink{
			Batch: 2000, LiveShare: 0.25, BackoffMin: 200 * time.Millisecond, BackoffMax: 5 * time.Second,
			Timeout: 30 * time.Second, SnapshotInterval: 10 * time.Second, Retention: 72 * time.Hour,
		},
		Commit: Commit{Linger: time.Millisecond, MaxBatch: 5000},
		Limits: Limits{MaxBodyBytes: 16 << 20, MaxEvents: 5000},
		Log:    Log{Level: "info", Format: "json"},
	}
}

// LoadEdge reads defaults, then the file, then the environment
// (TILLSYNC_EDGE_LISTEN, TILLSYNC_EDGE_HUB_URL, TILLSYNC_EDGE_DATA), and
// validates.
func LoadEdge(path string) (Edge, error) {
	c := DefaultEdge()
	if path != "" {
		if err := load(path, &c); err != nil {
			return c, err
		}
	}
	for env, dst := range map[string]*string{
		"TILLSYNC_EDGE_LISTEN": &c.Listen, "TILLSYNC_EDGE_HUB_URL": &c.Hub.URL, "TILLSYNC_EDGE_DATA": &c.Data,
	} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	return c, c.Validate()
}

// Validate checks the whole config and names every field at fault.
func (c *Edge) Validate() error {
	var p Problems
	checkTelemetry(c.Telemetry, &p)
	if c.Location == "" {
		p.add("location", "is required: the store's ID as the hub knows it")
	}
	if c.Zone == "" {
		p.add("zone", "is required: the store's IANA time zone, e.g. Europe/Berlin")
	} else if _, err := event.LoadZone(c.Zone); err != nil {
		p.add("zone", "%q is not an IANA time zone (e.g. Europe/Berlin)", c.Zone)
	}
	if c.Listen == "" {
		p.add("listen", "is empty; set an address such as :8081")
	}
	if c.Data == "" {
		p.add("data", "is empty; set the path of the local log, e.g. data/edge.db")
	}
	if u, err := url.Parse(c.Hub.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("hub.url", "%q is not an http(s) URL of the hub", c.Hub.URL)
	} else if u.Scheme == "http" {
		switch {
		case !IsLoopbackHost(u.Hostname()):
			p.add("hub.url", "%q is plain HTTP to another machine: use https (card-holder data environment traffic must be encrypted, PCI DSS Req. 4.2.1)", c.Hub.URL)
		case !c.Hub.InsecurePlaintext:
			p.add("hub.url", "%q is plain HTTP: use https, or for development on this machine set hub.insecure_plaintext: true", c.Hub.URL)
		}
	}
	if (c.Hub.ClientCertFile == "") != (c.Hub.ClientKeyFile == "") {
		p.add("hub.client_cert_file", "and hub.client_key_file go together")
	}
	if c.Hub.BearerToken() == "" && c.Hub.ClientCertFile == "" {
		switch {
		case c.Hub.TokenFile != "":
			p.add("hub.token_file", "%s is missing or empty", c.Hub.TokenFile)
		case c.Hub.TokenEnv != "":
			p.add("hub.token_env", "environment variable %s is empty; set it to the store's token", c.Hub.TokenEnv)
		default:
			p.add("hub.token_env", "is required: name an environment variable holding the store's token")
		}
	}
	if c.TerminalTokenSHA256 != "" && !isHexSHA256(c.TerminalTokenSHA256) {
		p.add("terminal_token_sha256", "must be 64 hex digits: run `tillsync token` and paste the hash")
	}
	u := c.Uplink
	if u.Batch < 1 || u.Batch > 5000 {
		p.add("uplink.batch", "is %d; use 1 to 5000", u.Batch)
	}
	if u.LiveShare < 0 || u.LiveShare > 0.9 {
		p.add("uplink.live_share", "is %g; use 0 to 0.9", u.LiveShare)
	}
	if u.BackoffMin <= 0 || u.BackoffMax < u.BackoffMin {
		p.add("uplink.backoff_min", "and backoff_max must be positive with min ≤ max (now %s, %s)", u.BackoffMin, u.BackoffMax)
	}
	if u.Timeout <= 0 {
		p.add("uplink.timeout", "must be positive")
	}
	if u.SnapshotInterval <= 0 {
		p.add("uplink.snapshot_interval", "must be positive")
	}
	if u.Retention < 0 {
		p.add("uplink.retention", "must not be negative")
	}
	checkLog(&p, c.Log)
	return p.Err("edge")
}

// IsLoopbackHost reports whether a host name or address is this machine.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
