package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
)

// The security settings: API keys, TLS, the audit retention, intake rate
// limits, and how an edge reaches its hub.

func TestHubValidateSecurity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(*config.Hub)
		field string // "" when valid
	}{
		{"api keys", func(c *config.Hub) {
			c.APIKeys = []config.APIKey{{Name: "vera", Role: "viewer", KeySHA256: hash}, {Name: "otto", Role: "operator", KeySHA256: hash}, {Name: "ada", Role: "admin", KeySHA256: hash}}
		}, ""},
		{"api key without name", func(c *config.Hub) { c.APIKeys = []config.APIKey{{Role: "admin", KeySHA256: hash}} }, "api_keys[0].name:"},
		{"api key role unknown", func(c *config.Hub) { c.APIKeys = []config.APIKey{{Name: "a", Role: "root", KeySHA256: hash}} }, "api_keys[0].role:"},
		{"api key role missing", func(c *config.Hub) { c.APIKeys = []config.APIKey{{Name: "a", KeySHA256: hash}} }, "api_keys[0].role:"},
		{"api key not hashed", func(c *config.Hub) { c.APIKeys = []config.APIKey{{Name: "a", Role: "admin", KeySHA256: "secret"}} }, "api_keys[0].key_sha256:"},
		{"second api key", func(c *config.Hub) {
			c.APIKeys = []config.APIKey{{Name: "a", Role: "admin", KeySHA256: hash}, {Name: "b", Role: "admin"}}
		}, "api_keys[1].key_sha256:"},
		{"admin token not hashed", func(c *config.Hub) { c.AdminTokenSHA256 = "admin" }, "admin_token_sha256:"},
		{"tls", func(c *config.Hub) {
			c.TLS = config.TLS{CertFile: "hub.crt", KeyFile: "hub.key", ClientCAFile: "stores.crt"}
		}, ""},
		{"tls certificate without key", func(c *config.Hub) { c.TLS.CertFile = "hub.crt" }, "tls:"},
		{"tls key without certificate", func(c *config.Hub) { c.TLS.KeyFile = "hub.key" }, "tls:"},
		{"client CA without TLS", func(c *config.Hub) { c.TLS.ClientCAFile = "stores.crt" }, "tls.client_ca_file:"},
		{"audit retention 12 months", func(c *config.Hub) { c.Audit.Retention = 8760 * time.Hour }, ""},
		{"audit retention unset", func(c *config.Hub) { c.Audit.Retention = 0 }, ""},
		{"audit retention an hour short", func(c *config.Hub) { c.Audit.Retention = 8759 * time.Hour }, "audit.retention:"},
		{"audit retention 90 days", func(c *config.Hub) { c.Audit.Retention = 90 * 24 * time.Hour }, "audit.retention:"},
		{"audit retention negative", func(c *config.Hub) { c.Audit.Retention = -time.Hour }, "audit.retention:"},
		{"no rate limit", func(c *config.Hub) { c.Limits.RequestsPerSecond, c.Limits.Burst = 0, 0 }, ""},
		{"negative rate", func(c *config.Hub) { c.Limits.RequestsPerSecond = -1 }, "limits:"},
		{"negative burst", func(c *config.Hub) { c.Limits.Burst = -1 }, "limits:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validHub()
			tc.edit(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
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

func TestHubDefaultAuditRetentionIsAtLeastAYear(t *testing.T) {
	t.Parallel()
	if r := config.DefaultHub().Audit.Retention; r < 8760*time.Hour {
		t.Errorf("default audit retention %s, want at least 12 months", r)
	}
	if l := config.DefaultHub().Limits; l.RequestsPerSecond <= 0 || l.Burst <= 0 {
		t.Errorf("default limits %+v, want a rate limit", l)
	}
}

func TestLoadHubSecurityFields(t *testing.T) {
	t.Parallel()
	c, err := config.LoadHub(writeFile(t, "hub.yaml", `
listen: "127.0.0.1:8443"
api_keys:
  - {name: ops, role: operator, key_sha256: "`+hash+`"}
tls:
  cert_file: /etc/tillsync/hub.crt
  key_file: /etc/tillsync/hub.key
  client_ca_file: /etc/tillsync/stores.crt
insecure_plaintext: true
allow_private_destinations: true
audit:
  retention: 9000h
limits:
  requests_per_second: 50
  burst: 100
`))
	if err != nil {
		t.Fatal(err)
	}
	want := config.TLS{CertFile: "/etc/tillsync/hub.crt", KeyFile: "/etc/tillsync/hub.key", ClientCAFile: "/etc/tillsync/stores.crt"}
	if len(c.APIKeys) != 1 || c.APIKeys[0] != (config.APIKey{Name: "ops", Role: "operator", KeySHA256: hash}) ||
		c.TLS != want || !c.TLS.Enabled() || !c.InsecurePlaintext || !c.AllowPrivateDestinations ||
		c.Audit.Retention != 9000*time.Hour || c.Limits.RequestsPerSecond != 50 || c.Limits.Burst != 100 {
		t.Errorf("loaded %+v", c)
	}
	if _, err := config.LoadHub(writeFile(t, "hub.yaml", "audit: {retention: 720h}\n")); err == nil || !strings.Contains(err.Error(), "audit.retention") {
		t.Errorf("a 30-day retention: %v, want it refused", err)
	}
	if d := config.DefaultHub(); d.TLS.Enabled() || d.InsecurePlaintext || d.AllowPrivateDestinations {
		t.Errorf("defaults %+v: TLS, plaintext and private destinations must all be opted into", d)
	}
}

func TestEdgeValidateHubURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url      string
		insecure bool
		want     string // "" when valid
	}{
		{"https://hub.example.com:8443", false, ""},
		{"https://127.0.0.1:8443", false, ""},
		{"http://127.0.0.1:8080", true, ""},
		{"http://localhost:8080", true, ""},
		{"http://[::1]:8080", true, ""},
		{"http://127.0.0.1:8080", false, "hub.insecure_plaintext"},
		{"http://localhost:8080", false, "hub.insecure_plaintext"},
		{"http://hub.example.com:8080", true, "plain HTTP to another machine"},
		{"http://hub.example.com:8080", false, "plain HTTP to another machine"},
		{"http://10.0.0.5:8080", true, "plain HTTP to another machine"},
		{"http://0.0.0.0:8080", true, "plain HTTP to another machine"},
		{"http://localhost.example.com:8080", true, "plain HTTP to another machine"},
		{"ftp://hub.example.com", false, "not an http(s) URL"},
		{"hub.example.com:8443", false, "not an http(s) URL"},
	} {
		c := validEdge()
		c.Hub.URL, c.Hub.InsecurePlaintext = tc.url, tc.insecure
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s (insecure_plaintext %v): %v", tc.url, tc.insecure, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "hub.url:") || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s (insecure_plaintext %v): %v, want hub.url refused with %q", tc.url, tc.insecure, err, tc.want)
		}
	}
}

func TestEdgeTokenFileAndClientCertificate(t *testing.T) {
	t.Parallel()
	tokenFile := writeFile(t, "token", "  store-token\n")
	c := validEdge()
	c.Hub.Token, c.Hub.TokenFile = "inline", tokenFile
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Hub.BearerToken(); got != "store-token" {
		t.Errorf("token %q, want the file's, trimmed", got)
	}

	for name, path := range map[string]string{
		"missing file": filepath.Join(t.TempDir(), "missing"),
		"empty file":   writeFile(t, "empty", "\n"),
	} {
		c := validEdge()
		c.Hub.Token, c.Hub.TokenFile = "", path
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "hub.token_file: "+path) {
			t.Errorf("%s: %v, want hub.token_file named with its path", name, err)
		}
		// An inline token does not stand in for a named file that is missing.
		c.Hub.Token = "inline"
		if err := c.Validate(); err == nil {
			t.Errorf("%s with an inline token: valid, want the file's problem reported", name)
		}
	}

	// Mutual TLS instead of a token.
	c = validEdge()
	c.Hub.Token, c.Hub.ClientCertFile, c.Hub.ClientKeyFile = "", "s1.crt", "s1.key"
	if err := c.Validate(); err != nil {
		t.Errorf("client certificate without a token: %v", err)
	}
	c.Hub.ClientKeyFile = ""
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "hub.client_cert_file:") {
		t.Errorf("client certificate without its key: %v", err)
	}
	c = validEdge()
	c.Hub.ClientKeyFile = "s1.key"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "hub.client_cert_file:") {
		t.Errorf("client key without its certificate: %v", err)
	}
}

func TestLoadEdgeSecurityFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.LoadEdge(writeFile(t, "edge.yaml", `
location: s1
zone: Europe/Berlin
hub:
  url: http://127.0.0.1:8080
  insecure_plaintext: true
  token_file: `+tokenFile+`
  ca_file: /etc/tillsync/hub-ca.crt
  client_cert_file: /etc/tillsync/s1.crt
  client_key_file: /etc/tillsync/s1.key
`))
	if err != nil {
		t.Fatal(err)
	}
	want := config.EdgeHub{URL: "http://127.0.0.1:8080", InsecurePlaintext: true, TokenFile: tokenFile,
		CAFile: "/etc/tillsync/hub-ca.crt", ClientCertFile: "/etc/tillsync/s1.crt", ClientKeyFile: "/etc/tillsync/s1.key"}
	if c.Hub != want || c.Hub.BearerToken() != "from-file" {
		t.Errorf("hub %+v, want %+v", c.Hub, want)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true, "::ffff:127.0.0.1": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.1": false, "hub.example.com": false,
		"localhost.example.com": false, "127.0.0.1.nip.io": false,
	} {
		if got := config.IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
