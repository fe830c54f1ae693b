// Package access decides who may use the hub's API and records what they
// did: API keys with roles (viewer, operator, admin), stored as SHA-256
// hashes and compared in constant time, and an append-only audit trail of
// every operator and admin action and of every read of a sensitive view —
// who, what, when, from where, and the result (PCI DSS v4.0.1 Req. 10.2.2).
//
// It must not know what the endpoints do: the hub names the role and the
// action when it wires a route.
package access

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/obs"
)

// Role is what a key may do. Each role includes the ones below it.
type Role int

// Roles.
const (
	// Viewer reads: stock, stores, destinations, availability.
	Viewer Role = iota + 1
	// Operator acts on destinations: pause, resume, replay.
	Operator
	// Admin also reads the audit trail and other sensitive views.
	Admin
)

func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Operator:
		return "operator"
	case Admin:
		return "admin"
	}
	return "none"
}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(s) {
	case "viewer":
		return Viewer, nil
	case "operator":
		return Operator, nil
	case "admin":
		return Admin, nil
	}
	return 0, fmt.Errorf("unknown role %q: use viewer, operator or admin", s)
}

// Key is one API key, kept only as the hex SHA-256 of its secret.
type Key struct {
	Name   string
	Role   Role
	SHA256 string
}

// Actor is who made a request.
type Actor struct {
	Name   string
	Role   Role
	Remote string
}

// Entry is one line of the audit trail.
type Entry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Remote string    `json:"remote"`
	Result string    `json:"result"` // allowed, denied, failed
	Status int       `json:"status,omitempty"`
}

// Guard authenticates and authorises API requests and audits them.
type Guard struct {
	Keys []Key
	// Audit records an entry; it must not fail the request.
	Audit func(ctx context.Context, e Entry)
	Now   func() time.Time
}

// authenticate finds the key of a request's bearer token (Verify).
func (g *Guard) authenticate(r *http.Request) (Key, bool) {
	tok, ok := intake.BearerToken(r)
	if !ok {
		return Key{}, false
	}
	return g.Verify(tok)
}

// Verify finds the key whose secret is token: for API requests, and for a
// login form, where the key arrives in a body rather than an
// Authorization header. All keys are compared, in constant time, so the
// time taken says nothing about which matched.
func (g *Guard) Verify(token string) (Key, bool) {
	if token == "" {
		return Key{}, false
	}
	sum := []byte(intake.HashToken(token))
	var found Key
	match := 0
	for _, k := range g.Keys {
		if subtle.ConstantTimeCompare(sum, []byte(k.SHA256)) == 1 {
			found, match = k, 1
		}
	}
	return found, match == 1
}

// Loopback reports whether a request came from this machine.
func Loopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Require wraps a handler: the caller needs at least role. Reads (Viewer)
// need no key while no keys are configured at all and the request comes
// from this machine — a hub on a laptop — and never otherwise. Actions
// and views marked sensitive are always audited; so is every refusal.
func (g *Guard) Require(role Role, action string, sensitive bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor := Actor{Remote: r.RemoteAddr}
		k, ok := g.authenticate(r)
		switch {
		case ok:
			actor.Name, actor.Role = k.Name, k.Role
		case role == Viewer && len(g.Keys) == 0 && Loopback(r):
			actor.Name, actor.Role = "loopback", Viewer
		case len(g.Keys) == 0:
			g.record(r, actor, action, "denied", http.StatusForbidden)
			writeError(w, http.StatusForbidden, intake.CodeForbidden, "no API keys are configured (api_keys): use the tillsync CLI on the hub's machine")
			return
		default:
			g.record(r, actor, action, "denied", http.StatusUnauthorized)
			w.Header().Set("WWW-Authenticate", `Bearer realm="tillsync"`)
			writeError(w, http.StatusUnauthorized, intake.CodeUnauthorized, "an API key (Authorization: Bearer …) with role "+role.String()+" or above is required")
			return
		}
		if actor.Role < role {
			g.record(r, actor, action, "denied", http.StatusForbidden)
			writeError(w, http.StatusForbidden, intake.CodeForbidden, fmt.Sprintf("key %q has role %s; this needs %s", actor.Name, actor.Role, role))
			return
		}
		if role == Viewer && !sensitive {
			next(w, r.WithContext(WithActor(r.Context(), actor)))
			return
		}
		rec := &obs.StatusWriter{ResponseWriter: w}
		next(rec, r.WithContext(WithActor(r.Context(), actor)))
		result := "allowed"
		if rec.Status() >= 400 {
			result = "failed"
		}
		g.record(r, actor, action, result, rec.Status())
	}
}

func (g *Guard) record(r *http.Request, a Actor, action, result string, status int) {
	if g.Audit == nil {
		return
	}
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	name := a.Name
	if name == "" {
		name = "(unauthenticated)"
	}
	target := r.PathValue("name")
	if target == "" {
		target = r.URL.Path
	}
	g.Audit(context.WithoutCancel(r.Context()), Entry{At: now().UTC(), Actor: name, Role: a.Role.String(), Action: action,
		Target: target, Remote: a.Remote, Result: result, Status: status})
}

type actorKey struct{}

// WithActor attaches the caller to a context.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the caller attached to a context.
func ActorOf(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	intake.WriteError(w, status, code, msg)
}
