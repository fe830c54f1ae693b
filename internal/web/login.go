package web

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tillsync/tillsync/internal/access"
)

// Login attempts per client address: a burst of LoginBurst, then one
// every LoginEvery. Keys are long random secrets; this keeps a guesser
// from hammering the constant-time check and the audit trail.
const (
	LoginBurst = 10
	LoginEvery = 6 * time.Second
)

// loginLimits throttles login attempts per client IP.
type loginLimits struct {
	mu sync.Mutex
	by map[string]*rate.Limiter
}

func (l *loginLimits) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil || len(l.by) > 10000 {
		l.by = map[string]*rate.Limiter{} // bounded: forget everyone now and then
	}
	lim, ok := l.by[host]
	if !ok {
		lim = rate.NewLimiter(rate.Every(LoginEvery), LoginBurst)
		l.by[host] = lim
	}
	return lim.Allow()
}

type loginData struct {
	Next    string
	NoKeys  bool
	Invalid bool
}

// localNext keeps a post-login destination only if it is a dashboard path.
func localNext(s string) string {
	if !strings.HasPrefix(s, "/ui/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") || strings.HasPrefix(s, "/ui/login") {
		return "/ui/"
	}
	return s
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := u.sessionOf(r); ok {
		http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther) //nolint:gosec // G710: localNext keeps dashboard paths only
		return
	}
	u.render(w, r, http.StatusOK, "login", page{Title: "Log in", Data: loginData{
		Next: localNext(r.URL.Query().Get("next")), NoKeys: len(u.opts.Guard.Keys) == 0}})
}

// login checks an API key and starts a new session: a fresh random ID on
// every login (an ID planted before login is never promoted), the old
// session, if any, ended.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.render(w, r, http.StatusBadRequest, "login", page{Title: "Log in", Error: "The form could not be read."})
		return
	}
	next := localNext(r.PostFormValue("next"))
	if !u.logins.allow(r) {
		u.audit(r, access.Actor{Remote: r.RemoteAddr}, "dashboard login", "denied", http.StatusTooManyRequests)
		w.Header().Set("Retry-After", "6")
		u.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Log in", Error: "Too many login attempts from your address: wait a few seconds.", Data: loginData{Next: next}})
		return
	}
	if !u.sameOrigin(r) {
		u.audit(r, access.Actor{Remote: r.RemoteAddr}, "dashboard login", "denied", http.StatusForbidden)
		u.render(w, r, http.StatusForbidden, "login", page{Title: "Log in", Error: "Logins are accepted only from this dashboard's own login page.", Data: loginData{Next: next}})
		return
	}
	key, ok := u.opts.Guard.Verify(strings.TrimSpace(r.PostFormValue("key")))
	if !ok {
		u.audit(r, access.Actor{Remote: r.RemoteAddr}, "dashboard login", "denied", http.StatusUnauthorized)
		u.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Error: "That API key is not valid.",
			Data: loginData{Next: next, NoKeys: len(u.opts.Guard.Keys) == 0, Invalid: true}})
		return
	}
	if _, old, had := u.sessionOf(r); had {
		u.sessions.drop(old)
	}
	actor := access.Actor{Name: key.Name, Role: key.Role, Remote: r.RemoteAddr}
	id := u.sessions.create(actor)
	u.setCookie(w, id, int(u.opts.SessionMax.Seconds()))
	u.audit(r, actor, "dashboard login", "allowed", http.StatusSeeOther)
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: localNext keeps dashboard paths only
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if _, id, ok := u.sessionOf(r); ok {
		u.sessions.drop(id)
	}
	u.setCookie(w, "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
