package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

// newGuard builds the API's access control from config: every api_keys
// entry, and the admin_token_sha256 shorthand as an admin key.
func newGuard(cfg config.Hub, st *store.Store, now func() time.Time, log func(error)) *access.Guard {
	var keys []access.Key
	for _, k := range cfg.APIKeys {
		role, _ := access.ParseRole(k.Role) // validated
		keys = append(keys, access.Key{Name: k.Name, Role: role, SHA256: k.KeySHA256})
	}
	if cfg.AdminTokenSHA256 != "" {
		keys = append(keys, access.Key{Name: "admin", Role: access.Admin, SHA256: cfg.AdminTokenSHA256})
	}
	return &access.Guard{Keys: keys, Now: now, Audit: func(ctx context.Context, e access.Entry) {
		if err := st.AppendAudit(ctx, store.AuditEntry{At: e.At, Actor: e.Actor, Role: e.Role, Action: e.Action,
			Target: e.Target, Remote: e.Remote, Result: e.Result, Status: e.Status}); err != nil {
			log(err)
		}
	}}
}

// storeAuth authenticates stores and sources: a bearer token, or a client
// certificate verified against the configured CA whose common name is a
// store's ID (mutual TLS).
type storeAuth struct {
	tokens intake.Tokens
	stores map[string]config.Store
}

func (a storeAuth) Authenticate(r *http.Request) (intake.Principal, error) {
	if _, ok := intake.BearerToken(r); ok {
		return a.tokens.Authenticate(r)
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if _, ok := a.stores[cn]; ok {
			return intake.Principal{Name: cn, Location: cn}, nil
		}
	}
	return intake.Principal{}, intake.ErrUnauthorized
}

// listen opens the API's listener: TLS 1.2+ when a certificate is
// configured; otherwise plain HTTP, refused unless the address is loopback
// and insecure_plaintext is set — the development switch, said loudly.
func (h *Hub) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", h.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("hub: listen on %s: %w", h.cfg.Listen, err)
	}
	if !h.cfg.TLS.Enabled() {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		if !h.cfg.InsecurePlaintext || !config.IsLoopbackHost(host) {
			_ = ln.Close()
			return nil, errors.New("hub: no TLS certificate (tls.cert_file, tls.key_file) is configured; plain HTTP is allowed only " +
				"on a loopback listen address with insecure_plaintext: true, for development")
		}
		h.log.Warn("DEVELOPMENT ONLY: serving plain HTTP on loopback; configure tls for anything else", "addr", ln.Addr().String())
		return ln, nil
	}
	tc, err := h.tlsConfig()
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return tls.NewListener(ln, tc), nil
}

func (h *Hub) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(h.cfg.TLS.CertFile, h.cfg.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("hub config: tls: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if h.cfg.TLS.ClientCAFile != "" {
		pem, err := os.ReadFile(h.cfg.TLS.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("hub config: tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hub config: tls.client_ca_file %s holds no PEM certificate", h.cfg.TLS.ClientCAFile)
		}
		// Tokens still work; a certificate, when given, must verify.
		tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// auditRetention deletes audit lines older than the retention, daily.
func (h *Hub) auditRetention(ctx context.Context) {
	keep := h.cfg.Audit.Retention
	if keep <= 0 {
		keep = config.DefaultHub().Audit.Retention
	}
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		if n, err := h.store.DeleteAuditBefore(ctx, h.now().Add(-keep)); err != nil && ctx.Err() == nil {
			h.log.Warn("apply audit retention", "err", err)
		} else if n > 0 {
			h.log.Info("audit lines past retention deleted", "lines", n, "retention", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkOutbound refuses an outbound URL from configuration that points at
// this machine or a private network, or that is plain HTTP, unless
// allow_private_destinations says that is intended (OWASP API7: server-side
// request forgery). A name that does not resolve now is let through: the
// destination will say so when it fails.
func checkOutbound(ctx context.Context, field, raw string, allowPrivate bool) error {
	if allowPrivate || raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("hub config: %s: %q is not a URL", field, raw)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("hub config: %s: %q is plain HTTP; use https (or set allow_private_destinations for a simulator or an on-premises system on a private network)", field, raw)
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
		if err != nil {
			return nil
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
			return fmt.Errorf("hub config: %s: %q points at %s, a loopback, private or link-local address; set allow_private_destinations: true if that is intended", field, raw, ip)
		}
	}
	return nil
}
