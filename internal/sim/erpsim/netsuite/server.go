// Package netsuite simulates the part of NetSuite's SuiteTalk REST web
// services the NetSuite connector uses: Token-Based Authentication (OAuth
// 1.0a, HMAC-SHA256, realm = account ID, nonce and timestamp checks),
// record upsert by external ID (PUT …/eid:<id>, with NetSuite's sublist
// semantics: lines are added unless ?replace= names the sublist), GET by
// internal or external ID, record collection filtering (q=field IS
// "value"), PATCH, !transform (sales order → item fulfillment, transfer
// order → item fulfillment and item receipt), payload validation with
// NetSuite's error bodies, concurrency governance answering 429, and the
// governanceLimits operation.
//
// Latency, faults, limits and the exactly-once counters come from the
// erpsim core; GET /_sim/stats serves them.
package netsuite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
)

// Credentials are the account and access token the simulator accepts.
type Credentials struct {
	AccountID      string
	ConsumerKey    string
	ConsumerSecret string
	TokenID        string
	TokenSecret    string
}

// DefaultCredentials are the demo's: a sandbox-style account ID and
// fixed keys (they protect nothing; the simulator runs on localhost).
func DefaultCredentials() Credentials {
	return Credentials{ //nolint:gosec // G101: made-up demo keys of a local simulator, not secrets
		AccountID:      "TSTDRV1234567_SB1",
		ConsumerKey:    "a9b5c1d0e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7",
		ConsumerSecret: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
		TokenID:        "1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
		TokenSecret:    "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a4938271605f4e3d2c1b0a",
	}
}

// baseConcurrencyLimit is reported by governanceLimits when the simulator
// has no concurrency limit: NetSuite always has one, 15 being the base of
// service tier 1 (Oracle, "Concurrency Governance Limits Based on Service
// Tiers and SuiteCloud Plus Licenses").
const baseConcurrencyLimit = 15

// Server is a simulated NetSuite account.
type Server struct {
	sim   *erpsim.Sim
	creds Credentials
	now   func() time.Time

	mu      sync.Mutex
	nonces  map[string]time.Time
	records map[string]*record            // by internal ID
	byExt   map[string]map[string]*record // by type, then external ID
	nextID  int
}

// New returns a simulated account accepting creds.
func New(opt erpsim.Options, creds Credentials) *Server {
	return &Server{sim: erpsim.New(opt), creds: creds, now: time.Now, nonces: map[string]time.Time{},
		records: map[string]*record{}, byExt: map[string]map[string]*record{}, nextID: 100}
}

// Sim returns the simulator core: faults, limits and stats.
func (s *Server) Sim() *erpsim.Sim { return s.sim }

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
		tooManyRequests(w)
		return
	case erpsim.Invalid:
		writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "Error while accessing resource: the request was refused as invalid (injected fault).", "")
		return
	}
	defer end()
	if err := s.authenticate(r); err != nil {
		s.sim.Reject("auth")
		// NetSuite never says which part of the login was wrong.
		writeError(w, http.StatusUnauthorized, "INVALID_LOGIN", "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.", "")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/services/rest/")
	if !ok {
		writeError(w, http.StatusNotFound, "NONEXISTENT_ID", "The requested resource does not exist.", "")
		return
	}
	switch {
	case rest == "system/v1/governanceLimits":
		s.governance(w, r)
	case strings.HasPrefix(rest, "record/v1/"):
		s.record(w, r, strings.Split(strings.TrimPrefix(rest, "record/v1/"), "/"))
	default:
		writeError(w, http.StatusNotFound, "NONEXISTENT_ID", "The requested resource does not exist.", "")
	}
}

// governance answers the governanceLimits operation (Oracle,
// "GovernanceLimits Operation":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0625010817.html).
// The simulated token belongs to an integration without a limit of its
// own, so the unallocated limit is the whole account's.
func (s *Server) governance(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w)
		return
	}
	n := s.sim.Options().Concurrency
	if n <= 0 {
		n = baseConcurrencyLimit
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"accountConcurrencyLimit":            n,
		"accountUnallocatedConcurrencyLimit": n,
		"integrationLimitType":               "accountLimit",
	})
}

// tooManyRequests is NetSuite's answer to a request over the account's
// concurrency limit.
func tooManyRequests(w http.ResponseWriter) {
	writeError(w, http.StatusTooManyRequests, "CONCURRENCY_LIMIT_EXCEEDED",
		"Concurrent request limit exceeded. Request blocked. Retry the request after a delay.", "")
}

func methodNotAllowed(w http.ResponseWriter) {
	writeError(w, http.StatusMethodNotAllowed, "INVALID_REQUEST", "The HTTP method is not supported for this resource.", "")
}

// writeError writes NetSuite's error body (Oracle, "Error Handling in
// REST Web Services":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html).
func writeError(w http.ResponseWriter, status int, code, detail, path string) {
	d := map[string]string{"detail": detail, "o:errorCode": code}
	if path != "" {
		d["o:errorPath"] = path
	}
	typ := "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
	if status == http.StatusTooManyRequests {
		typ = "https://tools.ietf.org/html/rfc6585#section-4"
	} else if status >= 400 && status < 500 {
		typ += "#sec10.4." + strconv.Itoa(status-399)
	}
	writeJSON(w, status, map[string]any{"type": typ, "title": http.StatusText(status), "status": status,
		"o:errorDetails": []map[string]string{d}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type=error")
	if status < 300 {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fault is a refusal a record handler decides: NetSuite's status, error
// code, message and, for the body, the JSON path of the culprit.
type fault struct {
	status       int
	code, detail string
	path         string
}

func (f *fault) Error() string { return fmt.Sprintf("%d %s: %s", f.status, f.code, f.detail) }

func invalid(path, format string, args ...any) *fault {
	return &fault{http.StatusBadRequest, "INVALID_CONTENT", fmt.Sprintf(format, args...), path}
}

func userError(path, format string, args ...any) *fault {
	return &fault{http.StatusBadRequest, "USER_ERROR", fmt.Sprintf(format, args...), path}
}

func notFound(detail string) *fault {
	return &fault{http.StatusNotFound, "NONEXISTENT_ID", detail, ""}
}
