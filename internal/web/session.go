package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/access"
)

// Session lifetimes: a session ends after SessionIdle without a request,
// and SessionMax after login whatever happens.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// session is one logged-in browser. Only the SHA-256 of its ID is kept,
// so a dump of the table lets nobody ride a session.
type session struct {
	actor    access.Actor
	csrf     string
	created  time.Time
	lastSeen time.Time
	flash    string
	ended    bool
}

// sessions is the server-side session table.
type sessions struct {
	mu   sync.Mutex
	byID map[[32]byte]*session
	idle time.Duration
	max  time.Duration
	now  func() time.Time
}

func newSessions(idle, absolute time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[[32]byte]*session{}, idle: idle, max: absolute, now: now}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for an actor and returns its ID (the cookie's
// value).
func (s *sessions) create(a access.Actor) string {
	id := randomToken()
	now := s.now()
	ss := &session{actor: a, csrf: randomToken(), created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[sha256.Sum256([]byte(id))] = ss
	// Sweep ended sessions now and then, so the table cannot grow
	// without bound.
	if len(s.byID)%64 == 0 {
		for k, v := range s.byID {
			if s.expired(v, now) {
				delete(s.byID, k)
			}
		}
	}
	return id
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) >= s.idle || now.Sub(ss.created) >= s.max
}

// get returns the live session of an ID and marks it used; an expired
// session is deleted.
func (s *sessions) get(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byID[k]
	if !ok {
		return nil, false
	}
	if s.expired(ss, now) {
		delete(s.byID, k)
		return nil, false
	}
	ss.lastSeen = now
	return ss, true
}

// drop ends a session.
func (s *sessions) drop(id string) {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	if ss, ok := s.byID[k]; ok {
		ss.ended = true
		delete(s.byID, k)
	}
	s.mu.Unlock()
}

// alive reports whether a session is still valid, without counting this
// as use: a live stream does not keep an idle session alive.
func (s *sessions) alive(ss *session) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return !ss.ended && !s.expired(ss, now)
}

// takeFlash returns and clears the session's one-time message.
func (s *sessions) takeFlash(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := ss.flash
	ss.flash = ""
	return f
}

func (s *sessions) setFlash(ss *session, msg string) {
	s.mu.Lock()
	ss.flash = msg
	s.mu.Unlock()
}

// cookieName is the session cookie's name: with TLS the __Host- prefix
// pins it to this host, path / and Secure.
func (u *UI) cookieName() string {
	if u.opts.Secure {
		return "__Host-tillsync_session"
	}
	return "tillsync_session"
}

func (u *UI) setCookie(w http.ResponseWriter, value string, maxAge int) {
	// Secure is off only for the loopback development mode without TLS.
	http.SetCookie(w, &http.Cookie{Name: u.cookieName(), Value: value, Path: "/", MaxAge: maxAge, //nolint:gosec // G124: HttpOnly and SameSite always; Secure whenever the hub serves TLS
		HttpOnly: true, Secure: u.opts.Secure, SameSite: http.SameSiteStrictMode})
}

// sessionOf returns the request's session and its ID.
func (u *UI) sessionOf(r *http.Request) (*session, string, bool) {
	c, err := r.Cookie(u.cookieName())
	if err != nil {
		return nil, "", false
	}
	ss, ok := u.sessions.get(c.Value)
	return ss, c.Value, ok
}

// sameOrigin checks a state-changing request came from a page of this
// dashboard: Origin (or, without it, Referer) must name this host, and a
// browser's Sec-Fetch-Site must not say cross-site.
func (u *UI) sameOrigin(r *http.Request) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	want := scheme + "://" + r.Host
	if o := r.Header.Get("Origin"); o != "" {
		return o == want
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		p, err := url.Parse(ref)
		return err == nil && p.Scheme+"://"+p.Host == want
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// validCSRF compares the form's token with the session's in constant time.
func validCSRF(ss *session, r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}
