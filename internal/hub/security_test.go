package hub_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/store"
)

// Transport security, store authentication by client certificate, API
// roles and the audit trail, outbound URL checks and intake rate limits,
// each through a real hub on a random port.

// pki is a certificate authority for one test, writing PEM files into a
// temporary directory.
type pki struct {
	t      *testing.T
	dir    string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	caFile string
}

var serial atomic.Int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{t: t, dir: t.TempDir(), cert: cert, key: key}
	p.caFile = p.write(name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(name, kind string, der []byte) string {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// issue signs a certificate for cn with one extended key usage: a server
// certificate is valid for 127.0.0.1, ::1 and localhost.
func (p *pki) issue(cn string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	p.t.Helper()
	key := newKey(p.t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%d", cn, tmpl.SerialNumber)
	return p.write(name+".pem", "CERTIFICATE", der), p.write(name+"-key.pem", "PRIVATE KEY", kder)
}

// clientCert is a store's client certificate signed by the authority.
func (p *pki) clientCert(cn string, usage x509.ExtKeyUsage) tls.Certificate {
	p.t.Helper()
	c, err := tls.LoadX509KeyPair(p.issue(cn, usage))
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return pool
}

// client is an HTTP client with a TLS configuration (nil: plain HTTP).
func httpClient(t *testing.T, tc *tls.Config) *http.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// listening is a log handler that passes on the address the hub says it
// listens on, so a hub started with Run on port 0 can be found.
type listening struct{ addr chan string }

func (l listening) Enabled(context.Context, slog.Level) bool { return true }

func (l listening) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "hub listening" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "addr" {
			l.addr <- a.Value.String()
			return false
		}
		return true
	})
	return nil
}

func (l listening) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l listening) WithGroup(string) slog.Handler      { return l }

type runningHub struct {
	*hub.Hub
	addr string
}

// run starts the hub with Run — its own listener, TLS or not — and
// returns it once it listens, or the error Run returned.
func runListen(t *testing.T, cfg config.Hub) (*runningHub, error) {
	t.Helper()
	addr := make(chan string, 1)
	h, err := hub.New(context.Background(), cfg, slog.New(listening{addr: addr}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	select {
	case a := <-addr:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := h.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return &runningHub{Hub: h, addr: a}, nil
	case err := <-done:
		cancel()
		if cerr := h.Close(); cerr != nil {
			t.Errorf("Close: %v", cerr)
		}
		if err == nil {
			t.Fatal("Run returned without an error before listening")
		}
		return nil, err
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("the hub neither listened nor failed within 10s")
		return nil, nil
	}
}

func mustRun(t *testing.T, cfg config.Hub) *runningHub {
	t.Helper()
	h, err := runListen(t, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return h
}

// securityHub is a hub on 127.0.0.1:0 with stores s1 and s2 and the web
// shop source; it serves plain HTTP (insecure_plaintext) until TLS is set.
func securityHub(t *testing.T) config.Hub {
	t.Helper()
	cfg := config.DefaultHub()
	cfg.Listen = "127.0.0.1:0"
	cfg.InsecurePlaintext = true
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{
		{ID: "s1", Name: "Berlin", Zone: et.Zone, TokenSHA256: intake.HashToken(tokS1)},
		{ID: "s2", Name: "Hamburg", Zone: et.Zone, TokenSHA256: intake.HashToken(tokS2)},
	}
	cfg.Sources = []config.Source{{ID: "web-shop", TokenSHA256: intake.HashToken(tokShop), Locations: []string{"s1", "s2"}}}
	return cfg
}

// withTLS gives cfg a server certificate from a new authority, which it
// returns.
func withTLS(t *testing.T, cfg *config.Hub) *pki {
	t.Helper()
	ca := newPKI(t, "hub")
	cfg.TLS.CertFile, cfg.TLS.KeyFile = ca.issue("hub", x509.ExtKeyUsageServerAuth)
	cfg.InsecurePlaintext = false
	return ca
}

// answer is a complete HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
	tls    *tls.ConnectionState
}

// call sends a request; body, if not nil, goes as JSON. Errors are the
// transport's (a failed handshake).
func call(c *http.Client, method, url, token string, body any) (answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, r)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: b, tls: res.TLS}, err
}

func mustCall(t *testing.T, c *http.Client, method, url, token string, body any) answer {
	t.Helper()
	a, err := call(c, method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return a
}

func batch(t *testing.T, evs ...*event.Event) intake.Batch {
	t.Helper()
	var b intake.Batch
	for _, e := range evs {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Events = append(b.Events, raw)
	}
	return b
}

func intakeAnswer(t *testing.T, a answer) intake.Response {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("POST /v1/events: status %d, want 200: %s", a.status, a.body)
	}
	var r intake.Response
	if err := json.Unmarshal(a.body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func errorOf(t *testing.T, a answer) intake.Error {
	t.Helper()
	var e struct {
		Error intake.Error `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	return e.Error
}

func logHead(t *testing.T, st *store.Store) int64 {
	t.Helper()
	n, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHubServesTLS12AndNewerOnly(t *testing.T) {
	t.Parallel()
	cfg := securityHub(t)
	ca := withTLS(t, &cfg)
	h := mustRun(t, cfg)
	base := "https://" + h.addr

	for _, tc := range []struct {
		name    string
		version uint16
	}{{"TLS 1.2", tls.VersionTLS12}, {"TLS 1.3", tls.VersionTLS13}} {
		c := httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tc.version, MaxVersion: tc.version})
		a := mustCall(t, c, http.MethodGet, base+"/v1/health", "", nil)
		if a.status != http.StatusOK || a.tls == nil || a.tls.Version != tc.version {
			t.Errorf("%s: status %d, connection %+v", tc.name, a.status, a.tls)
		}
	}

	old := httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}) //nolint:gosec // the point: an outdated client is refused
	if _, err := call(old, http.MethodGet, base+"/v1/health", "", nil); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("a TLS 1.1 client: error %v, want the handshake refused for its protocol version", err)
	}

	// The hub's certificate is checked: without its authority, no trust.
	_, err := call(httpClient(t, &tls.Config{MinVersion: tls.VersionTLS12}), http.MethodGet, base+"/v1/health", "", nil)
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Errorf("a client without the hub's authority: error %v, want a certificate verification error", err)
	}

	// Plain HTTP to the TLS port gets nothing through, not even a
	// well-formed batch with a valid token.
	plain := httpClient(t, nil)
	if a, err := call(plain, http.MethodGet, "http://"+h.addr+"/v1/health", "", nil); err == nil && a.status == http.StatusOK {
		t.Errorf("plain HTTP health: %d %s", a.status, a.body)
	}
	if a, err := call(plain, http.MethodPost, "http://"+h.addr+"/v1/events", tokS1, batch(t, et.Sale("plain-1", "s1", at(1), et.L("JKT", 1)))); err == nil && a.status == http.StatusOK {
		t.Errorf("plain HTTP intake: %d %s", a.status, a.body)
	}
	// Over TLS the same token works; the log holds only that.
	tlsClient := httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12})
	if r := intakeAnswer(t, mustCall(t, tlsClient, http.MethodPost, base+"/v1/events", tokS1, batch(t, et.Sale("tls-1", "s1", at(2), et.L("JKT", 1))))); r.Accepted != 1 {
		t.Errorf("over TLS: %+v", r)
	}
	if n := logHead(t, h.Store()); n != 1 {
		t.Errorf("log head %d, want 1: only the event sent over TLS", n)
	}
}

func TestHubMutualTLSAuthenticatesStores(t *testing.T) {
	t.Parallel()
	cfg := securityHub(t)
	ca := withTLS(t, &cfg)
	stores := newPKI(t, "stores")
	cfg.TLS.ClientCAFile = stores.caFile
	h := mustRun(t, cfg)
	base := "https://" + h.addr
	as := func(cert tls.Certificate) *http.Client {
		return httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	}
	s1 := as(stores.clientCert("s1", x509.ExtKeyUsageClientAuth))

	// A certificate whose CN is a store authenticates that store, with no
	// token.
	r := intakeAnswer(t, mustCall(t, s1, http.MethodPost, base+"/v1/events", "", batch(t,
		et.Sale("mtls-1", "s1", at(1), et.L("JKT", 1)),
		et.Sale("mtls-2", "s2", at(1), et.L("JKT", 1)),
	)))
	if r.Accepted != 1 || r.Results[0].Status != intake.StatusAccepted || r.Results[1].Error == nil || r.Results[1].Error.Code != intake.CodeWrongLocation {
		t.Errorf("s1's certificate: %+v, want its own event accepted and s2's refused as wrong_location", r.Results)
	}
	snap := mustCall(t, s1, http.MethodGet, base+"/v1/edge/snapshot", "", nil)
	if snap.status != http.StatusOK || !strings.Contains(string(snap.body), `"location": "s1"`) {
		t.Errorf("s1's snapshot by certificate: %d %s", snap.status, snap.body)
	}
	if a := mustCall(t, s1, http.MethodPost, base+"/v1/edge/status", "", intake.EdgeReport{ID: "s1-edge"}); a.status != http.StatusNoContent {
		t.Errorf("s1's status report by certificate: %d %s", a.status, a.body)
	}
	// A wrong token is not rescued by a good certificate.
	if a := mustCall(t, s1, http.MethodPost, base+"/v1/events", "wrong-token", batch(t, et.Sale("mtls-3", "s1", at(2), et.L("JKT", 1)))); a.status != http.StatusUnauthorized {
		t.Errorf("s1's certificate with a wrong token: %d, want 401", a.status)
	}

	// Certificates that name no store, or a source, authenticate nobody.
	for _, cn := range []string{"s9", "web-shop", "hub", ""} {
		a := mustCall(t, as(stores.clientCert(cn, x509.ExtKeyUsageClientAuth)), http.MethodPost, base+"/v1/events", "", batch(t, et.Sale("cn-"+cn, "s1", at(3), et.L("JKT", 1))))
		if a.status != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("a certificate for %q: %d %s, want 401 with a challenge", cn, a.status, a.body)
		}
	}
	// Neither do certificates that do not verify: another authority's, or
	// one not meant for clients. The handshake fails. (The client is made
	// to send them: left to itself, it offers only a certificate of an
	// authority the hub asks for.)
	rogue := newPKI(t, "rogue")
	for name, cert := range map[string]tls.Certificate{
		"another authority's s1": rogue.clientCert("s1", x509.ExtKeyUsageClientAuth),
		"a server certificate":   stores.clientCert("s1", x509.ExtKeyUsageServerAuth),
	} {
		forced := httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }})
		if a, err := call(forced, http.MethodPost, base+"/v1/events", "", batch(t, et.Sale("bad-cert", "s1", at(4), et.L("JKT", 1)))); err == nil {
			t.Errorf("%s: status %d, want the handshake refused", name, a.status)
		}
	}
	// No certificate and no token: 401; a token alone still works.
	anon := httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12})
	if a := mustCall(t, anon, http.MethodPost, base+"/v1/events", "", batch(t, et.Sale("anon", "s1", at(5), et.L("JKT", 1)))); a.status != http.StatusUnauthorized {
		t.Errorf("no certificate, no token: %d", a.status)
	}
	if r := intakeAnswer(t, mustCall(t, anon, http.MethodPost, base+"/v1/events", tokS2, batch(t, et.Sale("tok-s2", "s2", at(5), et.L("JKT", 1))))); r.Accepted != 1 {
		t.Errorf("s2's token over TLS: %+v", r)
	}
	if n := logHead(t, h.Store()); n != 2 {
		t.Errorf("log head %d, want 2: mtls-1 and tok-s2", n)
	}
}

// Without client_ca_file, a client certificate proves nothing.
func TestHubTLSWithoutClientCAIgnoresClientCertificates(t *testing.T) {
	t.Parallel()
	cfg := securityHub(t)
	ca := withTLS(t, &cfg)
	h := mustRun(t, cfg)
	c := httpClient(t, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{ca.clientCert("s1", x509.ExtKeyUsageClientAuth)}})
	if a := mustCall(t, c, http.MethodPost, "https://"+h.addr+"/v1/events", "", batch(t, et.Sale("x", "s1", at(1), et.L("JKT", 1)))); a.status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", a.status)
	}
}

func TestHubRunRefusesPlainHTTPExceptOnLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listen   string
		insecure bool
		serves   bool
	}{
		{"0.0.0.0:0", true, false},
		{":0", true, false},
		{"127.0.0.1:0", false, false},
		{"localhost:0", false, false},
		{"127.0.0.1:0", true, true},
		{"localhost:0", true, true},
	} {
		t.Run(fmt.Sprintf("%s insecure_plaintext %v", tc.listen, tc.insecure), func(t *testing.T) {
			t.Parallel()
			cfg := securityHub(t)
			cfg.Listen, cfg.InsecurePlaintext = tc.listen, tc.insecure
			h, err := runListen(t, cfg)
			if !tc.serves {
				if err == nil || !strings.Contains(err.Error(), "insecure_plaintext") || !strings.Contains(err.Error(), "tls.cert_file") {
					t.Fatalf("Run: %v, want a refusal naming tls.cert_file and insecure_plaintext", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if a := mustCall(t, httpClient(t, nil), http.MethodGet, "http://"+h.addr+"/v1/health", "", nil); a.status != http.StatusOK {
				t.Errorf("plain HTTP on loopback: %d", a.status)
			}
		})
	}
}

func TestHubRunRefusesBadTLSFiles(t *testing.T) {
	t.Parallel()
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*config.Hub)
		want string
	}{
		{"missing certificate", func(c *config.Hub) { c.TLS.CertFile = filepath.Join(t.TempDir(), "missing.pem") }, "tls"},
		{"key of another certificate", func(c *config.Hub) { _, c.TLS.KeyFile = newPKI(t, "other").issue("hub", x509.ExtKeyUsageServerAuth) }, "tls"},
		{"missing client CA", func(c *config.Hub) { c.TLS.ClientCAFile = filepath.Join(t.TempDir(), "missing.pem") }, "tls.client_ca_file"},
		{"client CA not PEM", func(c *config.Hub) { c.TLS.ClientCAFile = notPEM }, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := securityHub(t)
			withTLS(t, &cfg)
			tc.edit(&cfg)
			if _, err := runListen(t, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestHubRefusesPrivateAndPlainOutboundURLs(t *testing.T) {
	t.Parallel()
	refused := []string{
		"http://shop.example.com/hook", // plain HTTP
		"http://203.0.113.10/hook",
		"https://127.0.0.1/hook",
		"https://127.0.0.1:8443/hook",
		"https://10.1.2.3/hook",
		"https://172.16.5.4/hook",
		"https://192.168.0.10/hook",
		"https://169.254.169.254/latest/meta-data", // cloud metadata
		"https://0.0.0.0/hook",
		"https://[::1]:8443/hook",
		"https://[fe80::1]/hook",
		"https://[fd00::1]/hook",
		"https://[::ffff:127.0.0.1]/hook",
		"https://[::ffff:10.0.0.1]/hook",
		"https://localhost:8443/hook", // resolves to loopback
	}
	accepted := []string{"https://203.0.113.10/hook", "https://[2001:db8::1]/hook"}
	type where struct {
		name  string
		field string
		set   func(*config.Hub, string)
	}
	places := []where{
		{"webhook", "webhooks[0].url", func(c *config.Hub, u string) {
			c.Webhooks = []config.Webhook{{Name: "shop", URL: u, Secret: "s"}}
		}},
		{"ERP url", "erp_accounts[0].settings.url", func(c *config.Hub, u string) {
			c.ERPAccounts = []config.ERPAccount{{Name: "hook", Kind: "webhook", Settings: map[string]string{"url": u, "secret": "a-long-enough-signing-secret"}}}
		}},
		{"ERP base_url", "erp_accounts[0].settings.base_url", func(c *config.Hub, u string) {
			c.ERPAccounts = []config.ERPAccount{{Name: "ns", Kind: "netsuite", Settings: map[string]string{
				"account_id": "1", "base_url": u, "consumer_key": "k", "consumer_secret": "s", "token_id": "t", "token_secret": "s",
				"subsidiary": "1", "customer": "1", "adjustment_account": "1",
			}}}
		}},
	}
	// One database per place, made once: each New after the first finds
	// it migrated.
	newHub := func(t *testing.T, db string, p where, u string, allow bool) error {
		cfg := securityHub(t)
		cfg.Database = db
		p.set(&cfg, u)
		cfg.AllowPrivateDestinations = allow
		h, err := hub.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			if cerr := h.Close(); cerr != nil {
				t.Error(cerr)
			}
		}
		return err
	}
	for _, p := range places {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			db := "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
			for _, u := range refused {
				err := newHub(t, db, p, u, false)
				if err == nil || !strings.Contains(err.Error(), p.field) || !strings.Contains(err.Error(), "allow_private_destinations") {
					t.Errorf("%s: New: %v, want a refusal naming %s and allow_private_destinations", u, err, p.field)
				}
				if err := newHub(t, db, p, u, true); err != nil {
					t.Errorf("%s with allow_private_destinations: %v", u, err)
				}
			}
			for _, u := range accepted {
				if err := newHub(t, db, p, u, false); err != nil {
					t.Errorf("%s: %v", u, err)
				}
			}
		})
	}
}

func TestHubRateLimitsEachPrincipal(t *testing.T) {
	t.Parallel()
	cfg := securityHub(t)
	// Two requests at once, then one per 10 s: a third immediate request
	// is over the limit however slow the machine.
	cfg.Limits.RequestsPerSecond, cfg.Limits.Burst = 0.1, 2
	h := mustRun(t, cfg)
	c := httpClient(t, nil)
	url := "http://" + h.addr + "/v1/events"
	for i := range 2 {
		id := fmt.Sprintf("s1-%d", i)
		if r := intakeAnswer(t, mustCall(t, c, http.MethodPost, url, tokS1, batch(t, et.Sale(id, "s1", at(i), et.L("JKT", 1))))); r.Accepted != 1 {
			t.Fatalf("request %d within the burst: %+v", i, r)
		}
	}
	a := mustCall(t, c, http.MethodPost, url, tokS1, batch(t, et.Sale("s1-over", "s1", at(3), et.L("JKT", 1))))
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("the third request: %d %s, want 429", a.status, a.body)
	}
	if e := errorOf(t, a); e.Code != intake.CodeRateLimited || !strings.Contains(e.Message, "nothing was stored") {
		t.Errorf("error %+v, want rate_limited saying nothing was stored", e)
	}
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
		t.Errorf("Retry-After %q, want 1 to 10 seconds", a.header.Get("Retry-After"))
	}
	if n := logHead(t, h.Store()); n != 2 {
		t.Errorf("log head %d, want 2: the limited request stored nothing", n)
	}
	// The limit is s1's: s2 and the web shop have their own.
	for i, tok := range []string{tokS2, tokS2, tokShop, tokShop} {
		id := fmt.Sprintf("other-%d", i)
		if r := intakeAnswer(t, mustCall(t, c, http.MethodPost, url, tok, batch(t, et.Sale(id, "s2", at(i), et.L("JKT", 1))))); r.Accepted != 1 {
			t.Errorf("request %d of another principal: %+v", i, r)
		}
	}
	// An unknown token is refused before it can use anyone's allowance.
	if a := mustCall(t, c, http.MethodPost, url, "unknown", batch(t, et.Sale("x", "s2", at(9), et.L("JKT", 1)))); a.status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", a.status)
	}
}

// API keys of the audit test: one per role.
const (
	veraKey = "vera-viewer-key"
	ottoKey = "otto-operator-key"
	adaKey  = "ada-admin-key"
)

// auditHub is a hub with a NetSuite destination (unreachable: nothing
// here needs it to deliver) and one API key per role.
func auditHub(t *testing.T) *liveHub {
	t.Helper()
	cfg := nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), "http://127.0.0.1:1", nssim.DefaultCredentials())
	cfg.APIKeys = []config.APIKey{
		{Name: "vera", Role: "viewer", KeySHA256: intake.HashToken(veraKey)},
		{Name: "otto", Role: "operator", KeySHA256: intake.HashToken(ottoKey)},
		{Name: "ada", Role: "admin", KeySHA256: intake.HashToken(adaKey)},
	}
	return runHub(t, cfg)
}

// trailLine is what an audit line must say, leaving out time, ID and the
// client's port.
type trailLine struct {
	Actor, Role, Action, Target, Result string
	Status                              int
}

func (h *liveHub) trail(t *testing.T, query string) []store.AuditEntry {
	t.Helper()
	return decode[struct {
		Audit []store.AuditEntry `json:"audit"`
	}](t, h.do(t, http.MethodGet, "/v1/audit"+query, adaKey, nil), http.StatusOK).Audit
}

func linesOf(t *testing.T, entries []store.AuditEntry) []trailLine {
	t.Helper()
	out := make([]trailLine, len(entries))
	for i, e := range entries {
		out[i] = trailLine{e.Actor, e.Role, e.Action, e.Target, e.Result, e.Status}
		if !strings.HasPrefix(e.Remote, "127.0.0.1:") {
			t.Errorf("entry %d: remote %q, want the client's address", i, e.Remote)
		}
		if time.Since(e.At) > time.Minute || e.At.After(time.Now()) {
			t.Errorf("entry %d at %v, want just now", i, e.At)
		}
		if i > 0 && (e.ID <= entries[i-1].ID || e.At.Before(entries[i-1].At)) {
			t.Errorf("entry %d (%d, %v) is not after entry %d (%d, %v)", i, e.ID, e.At, i-1, entries[i-1].ID, entries[i-1].At)
		}
	}
	return out
}

func sameLines(t *testing.T, got, want []trailLine) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d audit lines, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestHubAuditTrailThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := auditHub(t)
	dest := "/v1/destinations/" + nsDest

	// The trail is for admins only.
	for _, tok := range []string{veraKey, ottoKey} {
		apiError(t, h.do(t, http.MethodGet, "/v1/audit", tok, nil), http.StatusForbidden, intake.CodeForbidden)
	}
	apiError(t, h.do(t, http.MethodGet, "/v1/audit", "", nil), http.StatusUnauthorized, intake.CodeUnauthorized)

	// An operator pauses and replays; an admin reads the dead letters; a
	// viewer lists the destinations (a plain read) and may not pause.
	if r := h.do(t, http.MethodPost, dest+"/pause", ottoKey, nil); r.status != http.StatusAccepted {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	if r := h.do(t, http.MethodPost, dest+"/replay", ottoKey, hub.ReplayRequest{DeadLetters: true}); r.status != http.StatusAccepted {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	if r := h.do(t, http.MethodPost, dest+"/replay", ottoKey, map[string]any{}); r.status != http.StatusBadRequest {
		t.Fatalf("empty replay: %d %s", r.status, r.body)
	}
	if r := h.do(t, http.MethodGet, dest+"/dead-letters", adaKey, nil); r.status != http.StatusOK {
		t.Fatalf("dead letters: %d %s", r.status, r.body)
	}
	if r := h.do(t, http.MethodGet, "/v1/destinations", veraKey, nil); r.status != http.StatusOK {
		t.Fatalf("list destinations: %d %s", r.status, r.body)
	}
	apiError(t, h.do(t, http.MethodPost, dest+"/resume", veraKey, nil), http.StatusForbidden, intake.CodeForbidden)
	if r := h.do(t, http.MethodPost, "/v1/destinations/nope/pause", adaKey, nil); r.status != http.StatusNotFound {
		t.Fatalf("pause of an unknown destination: %d %s", r.status, r.body)
	}
	st, err := h.Store().GetDestinationState(context.Background(), nsDest)
	if err != nil || !st.Paused {
		t.Errorf("destination state %+v, %v; want paused", st, err)
	}

	want := []trailLine{
		{"vera", "viewer", "read audit trail", "/v1/audit", "denied", 403},
		{"otto", "operator", "read audit trail", "/v1/audit", "denied", 403},
		{"(unauthenticated)", "none", "read audit trail", "/v1/audit", "denied", 401},
		{"otto", "operator", "pause destination", nsDest, "allowed", 202},
		{"otto", "operator", "replay destination", nsDest, "allowed", 202},
		{"otto", "operator", "replay destination", nsDest, "failed", 400},
		{"ada", "admin", "read dead letters", nsDest, "allowed", 200},
		{"vera", "viewer", "resume destination", nsDest, "denied", 403},
		{"ada", "admin", "pause destination", "nope", "failed", 404},
	}
	sameLines(t, linesOf(t, h.trail(t, "")), want)
	// Reading the trail is itself on it.
	all := h.trail(t, "")
	sameLines(t, linesOf(t, all), append(want, trailLine{"ada", "admin", "read audit trail", "/v1/audit", "allowed", 200}))

	// Filters and paging.
	sameLines(t, linesOf(t, h.trail(t, "?actor=otto")), []trailLine{want[1], want[3], want[4], want[5]})
	sameLines(t, linesOf(t, h.trail(t, "?action=pause+destination")), []trailLine{want[3], want[8]})
	sameLines(t, linesOf(t, h.trail(t, fmt.Sprintf("?after_id=%d&limit=2", all[5].ID))), []trailLine{want[6], want[7]})
	apiError(t, h.do(t, http.MethodGet, "/v1/audit?limit=0", adaKey, nil), http.StatusBadRequest, "bad_parameter")
}

// The hub applies the audit retention when it starts (and daily).
func TestHubAppliesAuditRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := securityHub(t)
	cfg.Audit.Retention = 400 * 24 * time.Hour
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, e := range []store.AuditEntry{
		{At: now.Add(-401 * 24 * time.Hour), Actor: "old", Role: "admin", Action: "pause destination", Remote: "x", Result: "allowed"},
		{At: now.Add(-399 * 24 * time.Hour), Actor: "kept", Role: "admin", Action: "pause destination", Remote: "x", Result: "allowed"},
	} {
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	h := mustRun(t, cfg)
	actors := func() []string {
		rows, err := h.Store().AuditLog(ctx, 0, "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Actor)
		}
		return out
	}
	eventually(t, 10*time.Second, "the line past retention to go", func() bool { return len(actors()) == 1 })
	if got := actors(); got[0] != "kept" {
		t.Errorf("after retention: %v, want only the line within it", got)
	}
}

func TestStoreDeleteAuditBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	cut := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{cut.Add(-time.Hour), cut.Add(-time.Microsecond), cut, cut.Add(time.Hour)} {
		if err := st.AppendAudit(ctx, store.AuditEntry{At: at, Actor: strconv.Itoa(i), Role: "admin", Action: "a", Remote: "r", Result: "allowed"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.DeleteAuditBefore(ctx, cut)
	if err != nil || n != 2 {
		t.Fatalf("DeleteAuditBefore: %d, %v; want the 2 lines before the cut", n, err)
	}
	rows, err := st.AuditLog(ctx, 0, "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Actor != "2" || !rows[0].At.Equal(cut) || rows[1].Actor != "3" {
		t.Errorf("left %+v, want the lines at and after the cut", rows)
	}
	if n, err := st.DeleteAuditBefore(ctx, cut); err != nil || n != 0 {
		t.Errorf("again: %d, %v; want nothing more", n, err)
	}
}

// `tillsync destination --config hub.yaml pause NAME`, run as the
// operator runs it, writes the request and its audit line.
func TestCLIDestinationPauseIsAudited(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tillsync binary")
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "tillsync")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tillsync")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "hub.db")
	cfgPath := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(cfgPath, []byte(`
listen: "127.0.0.1:0"
insecure_plaintext: true
database: "sqlite:`+db+`"
erp_accounts:
  - name: ns
    kind: netsuite
destinations:
  - name: netsuite
    account: ns
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "destination", "--config", cfgPath, "pause", "netsuite")
	cmd.Env = append(os.Environ(), "TILLSYNC_HUB_LISTEN=", "TILLSYNC_HUB_DATABASE=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tillsync destination pause: %v\n%s", err, out)
	}
	// An unknown destination changes nothing and leaves no line.
	if out, err := exec.CommandContext(ctx, bin, "destination", "--config", cfgPath, "pause", "nope").CombinedOutput(); err == nil {
		t.Errorf("pause of an unknown destination succeeded: %s", out)
	}

	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	if s, err := st.GetDestinationState(ctx, "netsuite"); err != nil || !s.Paused {
		t.Errorf("destination state %+v, %v; want paused", s, err)
	}
	rows, err := st.AuditLog(ctx, 0, "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("audit trail %+v, want one line", rows)
	}
	e := rows[0]
	if !strings.HasPrefix(e.Actor, "cli") || e.Role != "operator" || e.Action != "pause destination" || e.Target != "netsuite" ||
		!strings.HasPrefix(e.Remote, "local:") || e.Result != "allowed" || time.Since(e.At) > time.Minute {
		t.Errorf("audit line %+v, want the CLI's pause of netsuite, just now", e)
	}
}
