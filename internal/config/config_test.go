package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
)

// hash is a valid token_sha256 (of "t").
const hash = "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadHubDefaults(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{"empty file": "", "comments only": "# nothing set\n"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := config.LoadHub(writeFile(t, "hub.yaml", content))
			if err != nil {
				t.Fatal(err)
			}
			want := config.DefaultHub()
			if c.Listen != ":8080" || c.Database != want.Database || c.Commit != want.Commit || c.Limits != want.Limits || c.Log != want.Log {
				t.Errorf("LoadHub of an empty file = %+v, want the defaults %+v", c, want)
			}
		})
	}
}

func TestLoadHubNoFile(t *testing.T) {
	t.Parallel()
	if _, err := config.LoadHub(""); err != nil {
		t.Errorf("LoadHub without a file: %v", err)
	}
	if _, err := config.LoadHub(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("LoadHub of a missing file succeeded")
	}
}

func TestLoadHubFileOverridesDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.LoadHub(writeFile(t, "hub.yaml", `
listen: "127.0.0.1:9000"
stores:
  - id: s1
    name: Berlin
    zone: Europe/Berlin
    token_sha256: "`+hash+`"
sources:
  - id: web-shop
    token_sha256: "`+hash+`"
    locations: [s1, wh]
channels:
  - name: web
    safety_buffer: "1.5"
  - name: market
    safety_buffer: 2
    locations: [s1]
commit:
  linger: 2ms
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" || c.Commit.Linger != 2*time.Millisecond {
		t.Errorf("listen %q linger %s", c.Listen, c.Commit.Linger)
	}
	if c.Commit.MaxBatch != 5000 || c.Database != "sqlite:data/hub.db" {
		t.Errorf("defaults not kept beside the file's values: max_batch %d database %q", c.Commit.MaxBatch, c.Database)
	}
	if len(c.Stores) != 1 || c.Stores[0].Name != "Berlin" || c.Stores[0].TokenSHA256 != hash {
		t.Errorf("stores %+v", c.Stores)
	}
	if len(c.Sources) != 1 || strings.Join(c.Sources[0].Locations, ",") != "s1,wh" {
		t.Errorf("sources %+v", c.Sources)
	}
	if len(c.Channels) != 2 {
		t.Fatalf("channels %+v", c.Channels)
	}
	if c.Channels[0].SafetyBuffer != event.Qty(1500) {
		t.Errorf(`safety_buffer "1.5" = %d, want 1500`, c.Channels[0].SafetyBuffer)
	}
	if c.Channels[1].SafetyBuffer != event.Units(2) || strings.Join(c.Channels[1].Locations, ",") != "s1" {
		t.Errorf("market channel %+v", c.Channels[1])
	}
}

func TestLoadRejectsBadYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content string
		edge          bool
		want          []string
	}{
		{"unknown top-level key", "listen: \":8080\"\nlisen: \":9\"\n", false, []string{"lisen", "line 2"}},
		{"unknown nested key", "commit:\n  linger: 1ms\n  max_bach: 10\n", false, []string{"max_bach", "line 3"}},
		{"unknown key in a list item", "channels:\n  - name: web\n    buffer: 1\n", false, []string{"buffer", "line 3"}},
		{"unknown edge key", "location: s1\nuplnk:\n  batch: 1\n", true, []string{"uplnk", "line 2"}},
		{"bad duration", "commit:\n  linger: soon\n", false, []string{"soon"}},
		{"bad quantity", "channels:\n  - name: web\n    safety_buffer: 1.2345\n", false, []string{"1.2345"}},
		{"not a mapping", "- a\n- b\n", false, []string{"line 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "c.yaml", tc.content)
			var err error
			if tc.edge {
				_, err = config.LoadEdge(path)
			} else {
				_, err = config.LoadHub(path)
			}
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// No t.Parallel: t.Setenv.
func TestLoadHubEnvOverrides(t *testing.T) {
	path := writeFile(t, "hub.yaml", "listen: \":7000\"\ndatabase: \"sqlite:file.db\"\n")
	t.Setenv("TILLSYNC_HUB_LISTEN", "127.0.0.1:7001")
	t.Setenv("TILLSYNC_HUB_DATABASE", "postgres://tillsync@db:5432/tillsync")
	c, err := config.LoadHub(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7001" || c.Database != "postgres://tillsync@db:5432/tillsync" {
		t.Errorf("environment did not win over the file: listen %q database %q", c.Listen, c.Database)
	}
}

func TestLoadHubEmptyEnvIsIgnored(t *testing.T) {
	t.Setenv("TILLSYNC_HUB_LISTEN", "")
	c, err := config.LoadHub(writeFile(t, "hub.yaml", "listen: \":7000\"\n"))
	if err != nil || c.Listen != ":7000" {
		t.Errorf("listen %q, err %v; an empty variable must not clear the file's value", c.Listen, err)
	}
}

const edgeYAML = `
location: s1
zone: Europe/Berlin
data: data/s1.db
hub:
  url: https://hub.internal:8443
  token_env: TEST_EDGE_TOKEN
`

func TestLoadEdgeDefaultsAndEnv(t *testing.T) {
	path := writeFile(t, "edge.yaml", edgeYAML)
	t.Setenv("TEST_EDGE_TOKEN", "secret")
	c, err := config.LoadEdge(path)
	if err != nil {
		t.Fatal(err)
	}
	d := config.DefaultEdge()
	if c.Listen != d.Listen || c.Uplink != d.Uplink || c.Commit != d.Commit || c.Limits != d.Limits {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.Hub.BearerToken() != "secret" {
		t.Errorf("token %q, want it from TEST_EDGE_TOKEN", c.Hub.BearerToken())
	}

	t.Setenv("TILLSYNC_EDGE_LISTEN", ":9999")
	t.Setenv("TILLSYNC_EDGE_HUB_URL", "https://hub.example.com")
	t.Setenv("TILLSYNC_EDGE_DATA", "/var/lib/tillsync/edge.db")
	c, err = config.LoadEdge(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9999" || c.Hub.URL != "https://hub.example.com" || c.Data != "/var/lib/tillsync/edge.db" {
		t.Errorf("environment overrides: listen %q hub %q data %q", c.Listen, c.Hub.URL, c.Data)
	}
}

func TestLoadEdgeMissingToken(t *testing.T) {
	t.Setenv("TEST_EDGE_TOKEN", "")
	_, err := config.LoadEdge(writeFile(t, "edge.yaml", edgeYAML))
	if err == nil || !strings.Contains(err.Error(), "hub.token_env") || !strings.Contains(err.Error(), "TEST_EDGE_TOKEN") {
		t.Errorf("error %v, want one naming hub.token_env and the empty variable", err)
	}
}

func TestExampleConfigs(t *testing.T) {
	t.Setenv("TILLSYNC_HUB_LISTEN", "")
	t.Setenv("TILLSYNC_HUB_DATABASE", "")
	t.Setenv("TILLSYNC_EDGE_TOKEN", "demo-berlin-token")
	hub, err := config.LoadHub(filepath.Join("..", "..", "examples", "hub.yaml"))
	if err != nil {
		t.Fatalf("examples/hub.yaml: %v", err)
	}
	if len(hub.Stores) == 0 || len(hub.Channels) == 0 {
		t.Errorf("examples/hub.yaml configures %d stores and %d channels", len(hub.Stores), len(hub.Channels))
	}
	edge, err := config.LoadEdge(filepath.Join("..", "..", "examples", "edge.yaml"))
	if err != nil {
		t.Fatalf("examples/edge.yaml: %v", err)
	}
	// The two examples describe one store talking to that hub.
	found := false
	for _, s := range hub.Stores {
		found = found || s.ID == edge.Location
	}
	if !found {
		t.Errorf("examples/edge.yaml is for %q, which examples/hub.yaml does not list", edge.Location)
	}
}

func validHub() config.Hub {
	c := config.DefaultHub()
	c.Stores = []config.Store{{ID: "s1", Zone: "Europe/Berlin", TokenSHA256: hash}}
	c.Sources = []config.Source{{ID: "shop", TokenSHA256: hash, Locations: []string{"s1"}}}
	c.Channels = []config.Channel{{Name: "web", SafetyBuffer: event.Units(1)}}
	c.Webhooks = []config.Webhook{{Name: "shop", URL: "https://shop.example.com/hook", Secret: "s", Channels: []string{"web"}}}
	return c
}

func TestHubValidate(t *testing.T) {
	t.Parallel()
	if err := (func() *config.Hub { c := validHub(); return &c })().Validate(); err != nil {
		t.Fatalf("the valid config: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*config.Hub)
		field string
	}{
		{"listen empty", func(c *config.Hub) { c.Listen = "" }, "listen:"},
		{"database empty", func(c *config.Hub) { c.Database = "" }, "database:"},
		{"store id missing", func(c *config.Hub) { c.Stores[0].ID = "" }, "stores[0].id:"},
		{"store id twice", func(c *config.Hub) { c.Stores = append(c.Stores, c.Stores[0]) }, "stores[1].id:"},
		{"store zone", func(c *config.Hub) { c.Stores[0].Zone = "Mars/Olympus" }, "stores[0].zone:"},
		{"store token hash", func(c *config.Hub) { c.Stores[0].TokenSHA256 = "demo-token" }, "stores[0].token_sha256:"},
		{"store token hash uppercase", func(c *config.Hub) { c.Stores[0].TokenSHA256 = strings.ToUpper(hash) }, "stores[0].token_sha256:"},
		{"source id missing", func(c *config.Hub) { c.Sources[0].ID = "" }, "sources[0].id:"},
		{"source id used by a store", func(c *config.Hub) { c.Sources[0].ID = "s1" }, "sources[0].id:"},
		{"source token hash", func(c *config.Hub) { c.Sources[0].TokenSHA256 = "" }, "sources[0].token_sha256:"},
		{"source without locations", func(c *config.Hub) { c.Sources[0].Locations = nil }, "sources[0].locations:"},
		{"channel name missing", func(c *config.Hub) { c.Channels[0].Name, c.Webhooks[0].Channels = "", nil }, "channels[0].name:"},
		{"channel twice", func(c *config.Hub) { c.Channels = append(c.Channels, c.Channels[0]) }, "channels[1].name:"},
		{"negative buffer", func(c *config.Hub) { c.Channels[0].SafetyBuffer = -1 }, "channels[0].safety_buffer:"},
		{"webhook name", func(c *config.Hub) { c.Webhooks[0].Name = "" }, "webhooks[0].name:"},
		{"webhook url", func(c *config.Hub) { c.Webhooks[0].URL = "ftp://x" }, "webhooks[0].url:"},
		{"webhook url without host", func(c *config.Hub) { c.Webhooks[0].URL = "https://" }, "webhooks[0].url:"},
		{"webhook secret", func(c *config.Hub) { c.Webhooks[0].Secret = "" }, "webhooks[0].secret_env:"},
		{"webhook unknown channel", func(c *config.Hub) { c.Webhooks[0].Channels = []string{"nope"} }, "webhooks[0].channels:"},
		{"linger negative", func(c *config.Hub) { c.Commit.Linger = -1 }, "commit.linger:"},
		{"linger too long", func(c *config.Hub) { c.Commit.Linger = 2 * time.Second }, "commit.linger:"},
		{"max batch negative", func(c *config.Hub) { c.Commit.MaxBatch = -1 }, "commit.max_batch:"},
		{"log level", func(c *config.Hub) { c.Log.Level = "loud" }, "log.level:"},
		{"log format", func(c *config.Hub) { c.Log.Format = "xml" }, "log.format:"},
		{"destination field not in the allow-list vocabulary", func(c *config.Hub) {
			c.ERPAccounts = []config.ERPAccount{{Name: "ns", Kind: "webhook"}}
			c.Destinations = []config.ERPDestination{{Name: "ns-detail", Account: "ns", Fields: []string{"memo", "card_number"}}}
		}, "destinations[0].fields:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validHub()
			c.Stores = append([]config.Store(nil), c.Stores...)
			c.Sources = append([]config.Source(nil), c.Sources...)
			c.Channels = append([]config.Channel(nil), c.Channels...)
			c.Webhooks = append([]config.Webhook(nil), c.Webhooks...)
			tc.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate passed")
			}
			if !strings.Contains(err.Error(), "  - "+tc.field) {
				t.Errorf("error does not name %s:\n%v", tc.field, err)
			}
			if n := strings.Count(err.Error(), "\n  - "); n != 1 {
				t.Errorf("%d problems reported for one mistake:\n%v", n, err)
			}
		})
	}
}

func TestHubValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := validHub()
	c.Listen, c.Database, c.Log.Level = "", "", "loud"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate passed")
	}
	for _, f := range []string{"listen:", "database:", "log.level:"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error does not name %s:\n%v", f, err)
		}
	}
}

func TestWebhookSecretEnv(t *testing.T) {
	c := validHub()
	c.Webhooks[0].Secret = "inline-is-ignored-when-env-is-named"
	c.Webhooks[0].SecretEnv = "TEST_WEBHOOK_SECRET"
	t.Setenv("TEST_WEBHOOK_SECRET", "")
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "webhooks[0].secret_env: environment variable TEST_WEBHOOK_SECRET is empty") {
		t.Fatalf("error %v, want one naming the empty variable", err)
	}
	t.Setenv("TEST_WEBHOOK_SECRET", "from-env")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Webhooks[0].SigningSecret(); got != "from-env" {
		t.Errorf("secret %q, want the environment's", got)
	}
}

func validEdge() config.Edge {
	c := config.DefaultEdge()
	c.Location, c.Zone = "s1", "Europe/Berlin"
	c.Hub = config.EdgeHub{URL: "https://hub:8443", Token: "inline"}
	return c
}

func TestEdgeValidate(t *testing.T) {
	t.Parallel()
	if c := validEdge(); c.Validate() != nil {
		t.Fatalf("the valid config: %v", c.Validate())
	}
	for _, tc := range []struct {
		name  string
		edit  func(*config.Edge)
		field string
	}{
		{"location", func(c *config.Edge) { c.Location = "" }, "location:"},
		{"zone missing", func(c *config.Edge) { c.Zone = "" }, "zone:"},
		{"zone unknown", func(c *config.Edge) { c.Zone = "Berlin" }, "zone:"},
		{"listen", func(c *config.Edge) { c.Listen = "" }, "listen:"},
		{"data", func(c *config.Edge) { c.Data = "" }, "data:"},
		{"hub url", func(c *config.Edge) { c.Hub.URL = "hub:8080" }, "hub.url:"},
		{"hub token", func(c *config.Edge) { c.Hub.Token = "" }, "hub.token_env:"},
		{"terminal token hash", func(c *config.Edge) { c.TerminalTokenSHA256 = "abc" }, "terminal_token_sha256:"},
		{"batch zero", func(c *config.Edge) { c.Uplink.Batch = 0 }, "uplink.batch:"},
		{"batch too big", func(c *config.Edge) { c.Uplink.Batch = 5001 }, "uplink.batch:"},
		{"live share", func(c *config.Edge) { c.Uplink.LiveShare = 0.95 }, "uplink.live_share:"},
		{"backoff min", func(c *config.Edge) { c.Uplink.BackoffMin = 0 }, "uplink.backoff_min:"},
		{"backoff max below min", func(c *config.Edge) { c.Uplink.BackoffMax = time.Millisecond }, "uplink.backoff_min:"},
		{"timeout", func(c *config.Edge) { c.Uplink.Timeout = 0 }, "uplink.timeout:"},
		{"snapshot interval", func(c *config.Edge) { c.Uplink.SnapshotInterval = 0 }, "uplink.snapshot_interval:"},
		{"retention", func(c *config.Edge) { c.Uplink.Retention = -time.Hour }, "uplink.retention:"},
		{"log level", func(c *config.Edge) { c.Log.Level = "trace" }, "log.level:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validEdge()
			tc.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate passed")
			}
			if !strings.Contains(err.Error(), "  - "+tc.field) {
				t.Errorf("error does not name %s:\n%v", tc.field, err)
			}
			if n := strings.Count(err.Error(), "\n  - "); n != 1 {
				t.Errorf("%d problems reported for one mistake:\n%v", n, err)
			}
		})
	}
}
