package edge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
)

// The edge talks to the hub over verified TLS: the hub's certificate is
// checked against hub.ca_file, and the store may prove itself with a client
// certificate instead of a token.

// testCA is a certificate authority for one test, writing PEM files.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

var serials atomic.Int64

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serials.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{t: t, dir: t.TempDir(), cert: cert, key: key}
	ca.file = ca.write(name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, kind string, der []byte) string {
	ca.t.Helper()
	path := filepath.Join(ca.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return path
}

// issue signs a server certificate for 127.0.0.1 and localhost, or a
// client certificate whose common name is cn.
func (ca *testCA) issue(cn string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serials.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses, tmpl.DNSNames = []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%d", cn, tmpl.SerialNumber)
	return ca.write(name+".pem", "CERTIFICATE", der), ca.write(name+"-key.pem", "PRIVATE KEY", kder)
}

// hubAddr is a log handler that passes on the address the hub listens on.
type hubAddr chan string

func (a hubAddr) Enabled(context.Context, slog.Level) bool { return true }

func (a hubAddr) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "hub listening" {
		r.Attrs(func(at slog.Attr) bool {
			if at.Key == "addr" {
				a <- at.Value.String()
			}
			return at.Key != "addr"
		})
	}
	return nil
}

func (a hubAddr) WithAttrs([]slog.Attr) slog.Handler { return a }
func (a hubAddr) WithGroup(string) slog.Handler      { return a }

// tlsHub is a hub that knows store s1, serving TLS on a random loopback
// port with Run, as `tillsync hub` does.
type tlsHub struct {
	*hub.Hub
	url string
	ca  *testCA // signed the hub's certificate
}

// startTLSHub runs it; clientCA, if not empty, is the authority of store
// certificates (mutual TLS).
func startTLSHub(t *testing.T, clientCA string) *tlsHub {
	t.Helper()
	ca := newTestCA(t, "hub")
	cfg := config.DefaultHub()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(storeToken)}}
	cfg.TLS.CertFile, cfg.TLS.KeyFile = ca.issue("hub", x509.ExtKeyUsageServerAuth)
	cfg.TLS.ClientCAFile = clientCA
	addr := make(hubAddr, 1)
	h, err := hub.New(context.Background(), cfg, slog.New(addr))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub Run: %v", err)
		}
		if err := h.Close(); err != nil {
			t.Errorf("hub Close: %v", err)
		}
	})
	select {
	case a := <-addr:
		return &tlsHub{Hub: h, url: "https://" + a, ca: ca}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not listen within 10s")
		return nil
	}
}

func (h *tlsHub) head(t *testing.T) int64 {
	t.Helper()
	n, err := h.Store().Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// httpsEdge is an edge configuration for the hub at url, verifying it with
// caFile ("" for the system's roots).
func httpsEdge(t *testing.T, url, caFile, data string) config.Edge {
	t.Helper()
	cfg := edgeConfig(url, data)
	cfg.Hub.InsecurePlaintext = false
	cfg.Hub.CAFile = caFile
	return cfg
}

// startHTTPSEdge starts an edge and, once it has stopped, closes its idle
// connections to the hub: the edge leaves them open, and a hub shutting
// down waits 5 s for a connection that never sent a request.
func startHTTPSEdge(t *testing.T, cfg config.Edge) *runningEdge {
	t.Helper()
	var e *runningEdge
	t.Cleanup(func() { e.client.CloseIdleConnections() }) // after the edge's own cleanup
	e = startEdge(t, cfg)
	return e
}

func sell(t *testing.T, e *runningEdge, ids ...string) {
	t.Helper()
	for _, id := range ids {
		acceptedAll(t, post(t, e.url, "", fresh(et.Sale(id, "", ago(time.Minute), et.L("JKT", 1)))))
	}
}

func synced(t *testing.T, e *runningEdge) func() bool {
	return func() bool {
		h := get[Health](t, e.url+"/v1/health")
		return h.Backlog == 0 && h.HubReachable && h.LastError == "" && !h.LastSyncAt.IsZero()
	}
}

func TestEdgeSyncsOverTLSWithCAFile(t *testing.T) {
	t.Parallel()
	h := startTLSHub(t, "")
	e := startHTTPSEdge(t, httpsEdge(t, h.url, h.ca.file, filepath.Join(t.TempDir(), "edge.db")))
	sell(t, e, "sale-1", "sale-2")
	waitFor(t, "the backlog to sync over TLS", synced(t, e))
	if n := h.head(t); n != 2 {
		t.Errorf("hub log head %d, want 2", n)
	}
	waitFor(t, "a snapshot from the hub over TLS", func() bool {
		return get[Health](t, e.url+"/v1/health").SnapshotSeq == 2
	})
}

// An edge that cannot verify the hub sends nothing and loses nothing: once
// it trusts the hub, the backlog goes through.
func TestEdgeWithoutCAFileKeepsEventsUntilItTrustsTheHub(t *testing.T) {
	t.Parallel()
	h := startTLSHub(t, "")
	data := filepath.Join(t.TempDir(), "edge.db")
	e := startHTTPSEdge(t, httpsEdge(t, h.url, "", data))
	sell(t, e, "sale-1", "sale-2", "sale-3")
	waitFor(t, "the edge to report the hub's certificate untrusted", func() bool {
		return strings.Contains(get[Health](t, e.url+"/v1/health").LastError, "certificate signed by unknown authority")
	})
	if hl := get[Health](t, e.url+"/v1/health"); hl.Backlog != 3 || hl.HubReachable {
		t.Errorf("health %+v, want a backlog of 3 and the hub unreachable", hl)
	}
	if n := h.head(t); n != 0 {
		t.Errorf("hub log head %d: an unverified hub got events", n)
	}
	e.stop()

	e = startHTTPSEdge(t, httpsEdge(t, h.url, h.ca.file, data))
	waitFor(t, "the kept backlog to sync", synced(t, e))
	if n := h.head(t); n != 3 {
		t.Errorf("hub log head %d, want the 3 kept events", n)
	}
}

// A hub certificate from another authority than hub.ca_file is refused
// too: the file replaces the roots, it does not add a way around them.
func TestEdgeRefusesAHubOfAnotherAuthority(t *testing.T) {
	t.Parallel()
	h := startTLSHub(t, "")
	other := newTestCA(t, "other")
	e := startHTTPSEdge(t, httpsEdge(t, h.url, other.file, filepath.Join(t.TempDir(), "edge.db")))
	sell(t, e, "sale-1")
	waitFor(t, "the edge to refuse the hub's certificate", func() bool {
		return strings.Contains(get[Health](t, e.url+"/v1/health").LastError, "certificate")
	})
	if n := h.head(t); n != 0 {
		t.Errorf("hub log head %d: a hub of another authority got events", n)
	}
}

func TestEdgeMutualTLSWithoutToken(t *testing.T) {
	t.Parallel()
	stores := newTestCA(t, "stores")
	h := startTLSHub(t, stores.file)
	cfg := httpsEdge(t, h.url, h.ca.file, filepath.Join(t.TempDir(), "edge.db"))
	cfg.Hub.Token = ""
	cfg.Hub.ClientCertFile, cfg.Hub.ClientKeyFile = stores.issue("s1", x509.ExtKeyUsageClientAuth)
	e := startHTTPSEdge(t, cfg)
	sell(t, e, "sale-1", "sale-2")
	waitFor(t, "the backlog to sync with the store's certificate", synced(t, e))
	if n := h.head(t); n != 2 {
		t.Errorf("hub log head %d, want 2", n)
	}
	waitFor(t, "a snapshot by certificate", func() bool { return get[Health](t, e.url+"/v1/health").SnapshotSeq == 2 })
}

func TestEdgeTokenFile(t *testing.T) {
	t.Parallel()
	h := startTLSHub(t, "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(storeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := httpsEdge(t, h.url, h.ca.file, filepath.Join(t.TempDir(), "edge.db"))
	cfg.Hub.Token, cfg.Hub.TokenFile = "not-the-token", tokenFile // the file wins
	e := startHTTPSEdge(t, cfg)
	sell(t, e, "sale-1")
	waitFor(t, "the backlog to sync with the token from the file", synced(t, e))
	if n := h.head(t); n != 1 {
		t.Errorf("hub log head %d, want 1", n)
	}
}

func TestEdgeNewRefusesBadTLSFiles(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "hub")
	cert, key := ca.issue("s1", x509.ExtKeyUsageClientAuth)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*config.EdgeHub)
		want string
	}{
		{"missing ca_file", func(h *config.EdgeHub) { h.CAFile = filepath.Join(t.TempDir(), "missing.pem") }, "hub.ca_file"},
		{"ca_file not PEM", func(h *config.EdgeHub) { h.CAFile = notPEM }, "holds no PEM certificate"},
		{"missing client certificate", func(h *config.EdgeHub) {
			h.ClientCertFile, h.ClientKeyFile = filepath.Join(t.TempDir(), "missing.pem"), key
		}, "hub.client_cert_file"},
		{"client key of another certificate", func(h *config.EdgeHub) {
			_, other := ca.issue("s2", x509.ExtKeyUsageClientAuth)
			h.ClientCertFile, h.ClientKeyFile = cert, other
		}, "hub.client_cert_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := httpsEdge(t, "https://127.0.0.1:1", "", filepath.Join(t.TempDir(), "edge.db"))
			tc.edit(&cfg.Hub)
			e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{})
			if err == nil {
				_ = e.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestHubTLSConfig(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "hub")
	cert, key := ca.issue("s1", x509.ExtKeyUsageClientAuth)
	tc, err := hubTLS(config.EdgeHub{CAFile: ca.file, ClientCertFile: cert, ClientKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	if tc.MinVersion != tls.VersionTLS12 || tc.InsecureSkipVerify || tc.RootCAs == nil || len(tc.Certificates) != 1 {
		t.Errorf("TLS config %+v, want TLS 1.2+, verification against the CA file, and the client certificate", tc)
	}
	if tc, err := hubTLS(config.EdgeHub{}); err != nil || tc.RootCAs != nil || tc.InsecureSkipVerify {
		t.Errorf("without ca_file: %+v, %v; want the system roots", tc, err)
	}
}
