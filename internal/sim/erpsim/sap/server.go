// Package sap simulates the slice of SAP S/4HANA that tillsync's SAP
// connector talks to: the OData V2 services API_SALES_ORDER_SRV,
// API_CUSTOMER_RETURN_SRV and API_MATERIAL_DOCUMENT_SRV behind basic (or
// bearer) authentication, with SAP Gateway's CSRF protection, $batch with
// atomic change sets answered inside one 200 multipart response, OData V2
// error bodies, $filter look-ups on the reference fields and OASIS
// repeatable requests (a repeated Repeatability-Request-ID answers the
// first result without creating again).
//
// It builds on erpsim for faults, limits and stats, and owns only what is
// SAP's: wire shapes, authentication, sessions and validation. It does not
// price, deliver or bill; it keeps what was created, by reference.
package sap

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
)

// Credentials are what the simulated system accepts: a communication user
// and password for basic authentication, and optionally a bearer token.
type Credentials struct {
	User     string
	Password string
	Token    string
}

// DefaultCredentials are the simulator's communication user.
func DefaultCredentials() Credentials {
	return Credentials{User: "TILLSYNC_COMM", Password: "Welcome-2-S4HANA!"} //nolint:gosec // G101: the simulator's published test logon
}

// System identity used in cookie names and realms (SID S4H, client 100).
const (
	sessionCookie = "SAP_SESSIONID_S4H_100"
	xsrfCookie    = "sap-XSRF_S4H_100"
	servicePrefix = "/sap/opu/odata/sap/"
)

// Server is the simulated SAP system; it is an http.Handler.
type Server struct {
	sim   *erpsim.Sim
	creds Credentials

	mu sync.Mutex
	// sessions maps a session cookie to its CSRF token ("" until fetched).
	sessions map[string]string
	// records per service, by reference.
	records map[string]map[string]*Record
	seq     int64
	// repeats are answers by Repeatability-Request-ID.
	repeats map[string]opAnswer
	// ignoreRepeat lists services that ignore the repeatability headers,
	// as SAP KBA 2931385 reports of Sales Order (A2X).
	ignoreRepeat map[string]bool
}

// New returns a simulated SAP system.
func New(opt erpsim.Options, creds Credentials) *Server {
	return &Server{sim: erpsim.New(opt), creds: creds, sessions: map[string]string{},
		records: map[string]map[string]*Record{}, repeats: map[string]opAnswer{}, ignoreRepeat: map[string]bool{}}
}

// Sim returns the simulator core (faults, stats).
func (s *Server) Sim() *erpsim.Sim { return s.sim }

// IgnoreRepeatability makes services (e.g. "API_SALES_ORDER_SRV") ignore
// Repeatability-Request-ID, as APIs without repeatable requests do: every
// POST creates.
func (s *Server) IgnoreRepeatability(services ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range services {
		s.ignoreRepeat[name] = true
	}
}

// ExpireTokens invalidates every CSRF token, as a session timeout or an
// application server restart does; sessions must fetch new ones.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.sessions {
		s.sessions[k] = ""
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim/stats" {
		s.sim.StatsHandler().ServeHTTP(w, r)
		return
	}
	outcome, end := s.sim.Begin(w, r)
	switch outcome {
	case erpsim.Failed:
		return
	case erpsim.Throttled:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Rate limit quota violation: too many requests; retry later")
		return
	case erpsim.Invalid:
		writeError(w, http.StatusBadRequest, "/IWBEP/CM_MGW_RT/004", "Malformed request (injected)")
		return
	}
	defer end()
	if !s.authenticated(r) {
		s.sim.Reject("auth")
		w.Header().Set("WWW-Authenticate", `Basic realm="SAP NetWeaver Application Server [S4H/100]"`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html><head><title>Logon Error Message</title></head><body>401 Unauthorized: Logon failed</body></html>"))
		return
	}
	sid := s.session(w, r)

	rest, ok := strings.CutPrefix(r.URL.Path, servicePrefix)
	if !ok {
		writeError(w, http.StatusNotFound, "/IWFND/MED/170", "No service found for "+r.URL.Path)
		return
	}
	name, path, _ := strings.Cut(rest, "/")
	svc := services[name]
	if svc == nil {
		writeError(w, http.StatusNotFound, "/IWFND/MED/170", "No service found for namespace '/SAP/', name '"+name+"', version '0001'")
		return
	}
	if r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("X-CSRF-Token"), "Fetch") {
		s.fetchToken(w, r, sid)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.validToken(sid, r.Header.Get("X-CSRF-Token")) {
		s.sim.Reject("csrf")
		w.Header().Set("X-CSRF-Token", "Required")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("CSRF token validation failed"))
		return
	}
	switch {
	case path == "" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"d": map[string]any{"EntitySets": []string{svc.entitySet}}})
	case path == "$batch" && r.Method == http.MethodPost:
		s.batch(w, r, svc)
	case path == svc.entitySet && r.Method == http.MethodGet:
		st, body := s.query(svc, r.URL.Query())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(st)
		_, _ = w.Write(body) //nolint:gosec // G705: JSON built by json.Marshal, served as application/json
	default:
		writeError(w, http.StatusNotFound, "/IWBEP/CM_MGW_RT/021", "Resource not found for segment '"+path+"'")
	}
}

func (s *Server) authenticated(r *http.Request) bool {
	if s.creds.Token != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			return subtle.ConstantTimeCompare([]byte(tok), []byte(s.creds.Token)) == 1
		}
	}
	user, pass, ok := r.BasicAuth()
	// SAP user names are case-insensitive; passwords are not.
	return ok && strings.EqualFold(user, s.creds.User) &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.creds.Password)) == 1
}

// session returns the request's session, opening one (Set-Cookie) when it
// has none the server knows.
func (s *Server) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		_, ok := s.sessions[c.Value]
		s.mu.Unlock()
		if ok {
			return c.Value
		}
	}
	sid := random(16)
	s.mu.Lock()
	s.sessions[sid] = ""
	s.mu.Unlock()
	//nolint:gosec // G124: Secure only over TLS, or a plain-HTTP test server would never get its session back
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	return sid
}

// fetchToken answers "X-CSRF-Token: Fetch" with the session's token,
// minting one if it has none, and the anti-XSRF cookie SAP's ICF sets.
func (s *Server) fetchToken(w http.ResponseWriter, r *http.Request, sid string) {
	s.mu.Lock()
	tok := s.sessions[sid]
	if tok == "" {
		tok = random(16) + "=="
		s.sessions[sid] = tok
	}
	s.mu.Unlock()
	w.Header().Set("X-CSRF-Token", tok)
	//nolint:gosec // G124: as the session cookie
	http.SetCookie(w, &http.Cookie{Name: xsrfCookie, Value: random(8), Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
}

func (s *Server) validToken(sid, tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := s.sessions[sid]
	return tok != "" && want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// odataError is an OData V2 error body.
func odataError(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code":    code,
		"message": map[string]string{"lang": "en", "value": msg},
		"innererror": map[string]any{
			"application":  map[string]string{"component_id": "", "service_namespace": "/SAP/"},
			"errordetails": []map[string]string{{"code": code, "message": msg, "severity": "error"}},
		},
	}})
	return b
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(odataError(code, msg))
}
