package access_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/intake"
)

// The keys of the tests: one per role, each secret distinct.
const (
	viewerKey   = "viewer-secret"
	operatorKey = "operator-secret"
	adminKey    = "admin-secret"
)

var clock = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// trail collects audit entries.
type trail struct {
	mu      sync.Mutex
	entries []access.Entry
}

func (tr *trail) audit(ctx context.Context, e access.Entry) {
	if ctx.Err() != nil {
		e.Result += " (cancelled context)" // must not happen: the entry would be lost
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.entries = append(tr.entries, e)
}

func (tr *trail) all() []access.Entry {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]access.Entry(nil), tr.entries...)
}

type bundle struct {
	guard *access.Guard
	trail *trail
	// calls counts the requests that reached a handler.
	calls int
	// seen is the actor the last handler found in its context.
	seen access.Actor
}

// setup returns a guard with the given keys, a fixed clock and an audit
// trail, and a mux routing GET /read, GET /sensitive, GET /admin,
// POST /things/{name}/act and POST /things/{name}/fail (answering 500).
func setup(t *testing.T, keys ...access.Key) (*bundle, http.Handler) {
	t.Helper()
	b := &bundle{trail: &trail{}}
	b.guard = &access.Guard{Keys: keys, Audit: b.trail.audit, Now: func() time.Time { return clock.In(time.FixedZone("CET", 3600)) }}
	handler := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b.calls++
			a, ok := access.ActorOf(r.Context())
			if !ok {
				t.Error("the handler found no actor in its context")
			}
			b.seen = a
			w.WriteHeader(status)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /read", b.guard.Require(access.Viewer, "read", false, handler(http.StatusOK)))
	mux.HandleFunc("GET /sensitive", b.guard.Require(access.Viewer, "read sensitive", true, handler(http.StatusOK)))
	mux.HandleFunc("GET /admin", b.guard.Require(access.Admin, "read admin view", true, handler(http.StatusOK)))
	mux.HandleFunc("POST /things/{name}/act", b.guard.Require(access.Operator, "act", true, handler(http.StatusAccepted)))
	mux.HandleFunc("POST /things/{name}/fail", b.guard.Require(access.Operator, "act", true, handler(http.StatusInternalServerError)))
	return b, mux
}

func key(name string, role access.Role, secret string) access.Key {
	return access.Key{Name: name, Role: role, SHA256: intake.HashToken(secret)}
}

func allKeys() []access.Key {
	return []access.Key{key("vera", access.Viewer, viewerKey), key("otto", access.Operator, operatorKey), key("ada", access.Admin, adminKey)}
}

// serve sends one request from remote with an Authorization header ("" for
// none).
func serve(h http.Handler, method, path, remote, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	req.RemoteAddr = remote
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) intake.Error {
	t.Helper()
	var body struct {
		Error intake.Error `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return body.Error
}

const remote = "192.0.2.7:40000" // another machine (TEST-NET-1)

func TestRequireEachRoleAgainstEachRequirement(t *testing.T) {
	t.Parallel()
	routes := []struct {
		method, path string
		need         access.Role
		ok           int
	}{
		{http.MethodGet, "/read", access.Viewer, http.StatusOK},
		{http.MethodPost, "/things/x/act", access.Operator, http.StatusAccepted},
		{http.MethodGet, "/admin", access.Admin, http.StatusOK},
	}
	callers := []struct {
		name   string
		role   access.Role
		secret string
	}{
		{"vera", access.Viewer, viewerKey},
		{"otto", access.Operator, operatorKey},
		{"ada", access.Admin, adminKey},
	}
	for _, rt := range routes {
		for _, c := range callers {
			t.Run(c.role.String()+" on "+rt.need.String(), func(t *testing.T) {
				t.Parallel()
				b, h := setup(t, allKeys()...)
				rec := serve(h, rt.method, rt.path, remote, "Bearer "+c.secret)
				if c.role >= rt.need {
					if rec.Code != rt.ok || b.calls != 1 {
						t.Fatalf("%s %s as %s: status %d, %d handler calls; want %d and 1", rt.method, rt.path, c.role, rec.Code, b.calls, rt.ok)
					}
					if b.seen != (access.Actor{Name: c.name, Role: c.role, Remote: remote}) {
						t.Errorf("actor in context %+v", b.seen)
					}
					return
				}
				if rec.Code != http.StatusForbidden || b.calls != 0 {
					t.Fatalf("%s %s as %s: status %d, %d handler calls; want 403 and none", rt.method, rt.path, c.role, rec.Code, b.calls)
				}
				e := errorCode(t, rec)
				if e.Code != intake.CodeForbidden || !strings.Contains(e.Message, c.role.String()) || !strings.Contains(e.Message, rt.need.String()) {
					t.Errorf("error %+v, want forbidden naming role %s and the needed %s", e, c.role, rt.need)
				}
				if rec.Header().Get("WWW-Authenticate") != "" {
					t.Error("a 403 for a known key asks for authentication")
				}
			})
		}
	}
}

func TestRequireRefusesMissingUnknownAndTamperedKeys(t *testing.T) {
	t.Parallel()
	tampered := []byte(adminKey)
	tampered[len(tampered)-1] ^= 1
	for name, authorization := range map[string]string{
		"no header":           "",
		"empty bearer":        "Bearer ",
		"unknown key":         "Bearer not-a-key",
		"tampered key":        "Bearer " + string(tampered),
		"key with a suffix":   "Bearer " + adminKey + "x",
		"the key's hash":      "Bearer " + intake.HashToken(adminKey),
		"basic scheme":        "Basic " + adminKey,
		"key without scheme":  adminKey,
		"bearer without data": "Bearer",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, h := setup(t, allKeys()...)
			for _, path := range []string{"/read", "/admin"} {
				rec := serve(h, http.MethodGet, path, remote, authorization)
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("GET %s: status %d, want 401", path, rec.Code)
				}
				if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
				}
				if e := errorCode(t, rec); e.Code != intake.CodeUnauthorized {
					t.Errorf("error %+v, want unauthorized", e)
				}
			}
			if b.calls != 0 {
				t.Errorf("%d requests reached the handler", b.calls)
			}
		})
	}
}

// With keys configured, a request from this machine needs one too.
func TestRequireWithKeysLoopbackIsNotTrusted(t *testing.T) {
	t.Parallel()
	b, h := setup(t, allKeys()...)
	for _, from := range []string{"127.0.0.1:5000", "[::1]:5000"} {
		if rec := serve(h, http.MethodGet, "/read", from, ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("read from %s without a key: %d, want 401", from, rec.Code)
		}
	}
	if b.calls != 0 {
		t.Errorf("%d requests reached the handler", b.calls)
	}
}

// The last key of the list matches as well as the first: every key is
// compared.
func TestRequireFindsAnyKeyOfMany(t *testing.T) {
	t.Parallel()
	keys := []access.Key{key("k0", access.Viewer, "s0"), key("k1", access.Viewer, "s1"), key("k2", access.Admin, "s2")}
	for i, secret := range []string{"s0", "s1", "s2"} {
		b, h := setup(t, keys...)
		if rec := serve(h, http.MethodGet, "/read", remote, "Bearer "+secret); rec.Code != http.StatusOK || b.seen.Name != keys[i].Name {
			t.Errorf("key %d: status %d as %q", i, rec.Code, b.seen.Name)
		}
	}
}

func TestRequireWithoutKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, path, from string
		status                   int
		// audited is the entry the request leaves, if any.
		audited *access.Entry
	}{
		{name: "read from IPv4 loopback", method: http.MethodGet, path: "/read", from: "127.0.0.1:5000", status: http.StatusOK},
		{name: "read from IPv6 loopback", method: http.MethodGet, path: "/read", from: "[::1]:5000", status: http.StatusOK},
		{name: "read from 127.0.0.2", method: http.MethodGet, path: "/read", from: "127.0.0.2:5000", status: http.StatusOK},
		{name: "sensitive read from loopback", method: http.MethodGet, path: "/sensitive", from: "127.0.0.1:5000", status: http.StatusOK,
			audited: &access.Entry{Actor: "loopback", Role: "viewer", Action: "read sensitive", Target: "/sensitive", Remote: "127.0.0.1:5000", Result: "allowed", Status: 200}},
		{name: "read from another machine", method: http.MethodGet, path: "/read", from: remote, status: http.StatusForbidden,
			audited: &access.Entry{Actor: "(unauthenticated)", Role: "none", Action: "read", Target: "/read", Remote: remote, Result: "denied", Status: 403}},
		{name: "read from a private address", method: http.MethodGet, path: "/read", from: "10.0.0.9:5000", status: http.StatusForbidden,
			audited: &access.Entry{Actor: "(unauthenticated)", Role: "none", Action: "read", Target: "/read", Remote: "10.0.0.9:5000", Result: "denied", Status: 403}},
		{name: "read with a malformed remote address", method: http.MethodGet, path: "/read", from: "localhost", status: http.StatusForbidden,
			audited: &access.Entry{Actor: "(unauthenticated)", Role: "none", Action: "read", Target: "/read", Remote: "localhost", Result: "denied", Status: 403}},
		{name: "action from loopback", method: http.MethodPost, path: "/things/x/act", from: "127.0.0.1:5000", status: http.StatusForbidden,
			audited: &access.Entry{Actor: "(unauthenticated)", Role: "none", Action: "act", Target: "x", Remote: "127.0.0.1:5000", Result: "denied", Status: 403}},
		{name: "admin view from loopback", method: http.MethodGet, path: "/admin", from: "127.0.0.1:5000", status: http.StatusForbidden,
			audited: &access.Entry{Actor: "(unauthenticated)", Role: "none", Action: "read admin view", Target: "/admin", Remote: "127.0.0.1:5000", Result: "denied", Status: 403}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, h := setup(t)
			// A key sent anyway changes nothing: there is none to match.
			for _, authorization := range []string{"", "Bearer " + adminKey} {
				rec := serve(h, tc.method, tc.path, tc.from, authorization)
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
				}
				if tc.status == http.StatusForbidden {
					e := errorCode(t, rec)
					if e.Code != intake.CodeForbidden || !strings.Contains(e.Message, "api_keys") || !strings.Contains(e.Message, "tillsync CLI") {
						t.Errorf("error %+v, want forbidden naming api_keys and the tillsync CLI", e)
					}
				} else if b.seen.Name != "loopback" || b.seen.Role != access.Viewer {
					t.Errorf("actor %+v, want loopback viewer", b.seen)
				}
			}
			got := b.trail.all()
			if tc.audited == nil {
				if len(got) != 0 {
					t.Errorf("a plain read was audited: %+v", got)
				}
				return
			}
			want := *tc.audited
			want.At = clock
			if len(got) != 2 || got[0] != want || got[1] != want {
				t.Errorf("audit trail\n%+v\nwant twice\n%+v", got, want)
			}
		})
	}
}

func TestRequireAuditsActionsSensitiveReadsAndRefusals(t *testing.T) {
	t.Parallel()
	b, h := setup(t, allKeys()...)
	steps := []struct {
		method, path, secret string
		status               int
	}{
		{http.MethodGet, "/read", viewerKey, 200},                 // plain read: not audited
		{http.MethodGet, "/read", adminKey, 200},                  // plain read by an admin: not audited either
		{http.MethodGet, "/sensitive", viewerKey, 200},            // sensitive read
		{http.MethodPost, "/things/pump-1/act", operatorKey, 202}, // action
		{http.MethodPost, "/things/pump-2/fail", adminKey, 500},   // action that fails
		{http.MethodPost, "/things/pump-1/act", viewerKey, 403},   // refused: role too low
		{http.MethodGet, "/admin", operatorKey, 403},              // refused: role too low
		{http.MethodGet, "/read", "wrong", 401},                   // refused: unknown key
		{http.MethodGet, "/admin", adminKey, 200},                 // sensitive read by an admin
	}
	for i, s := range steps {
		from := fmt.Sprintf("192.0.2.%d:4000", i+1)
		if rec := serve(h, s.method, s.path, from, "Bearer "+s.secret); rec.Code != s.status {
			t.Fatalf("step %d, %s %s: status %d, want %d", i, s.method, s.path, rec.Code, s.status)
		}
	}
	want := []access.Entry{
		{At: clock, Actor: "vera", Role: "viewer", Action: "read sensitive", Target: "/sensitive", Remote: "192.0.2.3:4000", Result: "allowed", Status: 200},
		{At: clock, Actor: "otto", Role: "operator", Action: "act", Target: "pump-1", Remote: "192.0.2.4:4000", Result: "allowed", Status: 202},
		{At: clock, Actor: "ada", Role: "admin", Action: "act", Target: "pump-2", Remote: "192.0.2.5:4000", Result: "failed", Status: 500},
		{At: clock, Actor: "vera", Role: "viewer", Action: "act", Target: "pump-1", Remote: "192.0.2.6:4000", Result: "denied", Status: 403},
		{At: clock, Actor: "otto", Role: "operator", Action: "read admin view", Target: "/admin", Remote: "192.0.2.7:4000", Result: "denied", Status: 403},
		{At: clock, Actor: "(unauthenticated)", Role: "none", Action: "read", Target: "/read", Remote: "192.0.2.8:4000", Result: "denied", Status: 401},
		{At: clock, Actor: "ada", Role: "admin", Action: "read admin view", Target: "/admin", Remote: "192.0.2.9:4000", Result: "allowed", Status: 200},
	}
	got := b.trail.all()
	if len(got) != len(want) {
		t.Fatalf("%d audit entries, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// The entry of a request whose client went away is still written: the
// audit gets a context that is not cancelled.
func TestRequireAuditsWhenTheClientHasGone(t *testing.T) {
	t.Parallel()
	b, h := setup(t, allKeys()...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/things/x/act", nil)
	req.RemoteAddr = remote
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := b.trail.all(); len(got) != 1 || got[0].Result != "allowed" {
		t.Errorf("audit trail %+v, want one allowed entry written with a live context", got)
	}
}

// An audited stream still flushes.
func TestRequireAuditedStreamFlushes(t *testing.T) {
	t.Parallel()
	g := &access.Guard{Keys: allKeys()}
	h := g.Require(access.Viewer, "stream", true, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("data: 1\n\n"))
		w.(http.Flusher).Flush()
	})
	rec := serve(h, http.MethodGet, "/stream", remote, "Bearer "+viewerKey)
	if !rec.Flushed || rec.Body.String() != "data: 1\n\n" {
		t.Errorf("flushed %v, body %q", rec.Flushed, rec.Body)
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]access.Role{"viewer": access.Viewer, "Operator": access.Operator, "ADMIN": access.Admin} {
		if got, err := access.ParseRole(in); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "root", "admins"} {
		if _, err := access.ParseRole(in); err == nil || !strings.Contains(err.Error(), "viewer, operator or admin") {
			t.Errorf("ParseRole(%q): error %v, want one listing the roles", in, err)
		}
	}
	if access.Viewer >= access.Operator || access.Operator >= access.Admin {
		t.Error("roles are not ordered viewer < operator < admin")
	}
	if s := access.Role(0).String(); s != "none" {
		t.Errorf("the zero role prints as %q", s)
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for remote, want := range map[string]bool{
		"127.0.0.1:1": true, "127.9.9.9:1": true, "[::1]:1": true, "[::ffff:127.0.0.1]:1": true,
		"192.0.2.1:1": false, "[2001:db8::1]:1": false, "10.0.0.1:1": false, "0.0.0.0:1": false,
		"127.0.0.1": false, "localhost:1": false, "": false,
	} {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
		req.RemoteAddr = remote
		if got := access.Loopback(req); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", remote, got, want)
		}
	}
}
