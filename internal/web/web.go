package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/store"
)

//go:embed assets
var assets embed.FS

// Prefix is where the hub mounts the dashboard.
const Prefix = "/ui/"

// DefaultOnlineWithin is how recent a store's last contact must be for
// the dashboard to show it online (the hub passes its own value).
const DefaultOnlineWithin = 15 * time.Second

// UpdateEvery is the live stream's period: each widget is sent at most
// once per period, however often its data changes (coalesced).
const UpdateEvery = time.Second

// Destination is one ERP destination as the dashboard shows it.
type Destination struct {
	Name        string
	Kind        string
	Account     string
	Mode        string
	Cursor      int64
	Lag         int64
	DeadLetters int64
	Paused      bool
	Blocked     string
	Governor    destination.GovernorStats
}

// Utilisation is the share of the governor's concurrency in use, 0–1.
func (d Destination) Utilisation() float64 {
	limit := d.Governor.Limit
	if limit <= 0 {
		limit = float64(d.Governor.Ceiling)
	}
	if limit <= 0 {
		return 0
	}
	return min(float64(d.Governor.InFlight)/limit, 1)
}

// Options are what the dashboard reads and acts on. The hub fills them
// in; tests and benchmarks fill them with their own parts.
type Options struct {
	Store *store.Store
	Inbox *inbox.Inbox
	// Guard holds the API keys logins are checked against and the audit
	// trail every action is written to.
	Guard    *access.Guard
	Stores   []config.Store
	Channels []availability.Channel
	// Health returns every store's sync health as last reported.
	Health func() []store.Health
	// Destinations returns the ERP destinations and the log head.
	Destinations func(ctx context.Context) ([]Destination, int64, error)
	// Broker, when set, gives the sale-to-availability latency chart.
	Broker *availability.Broker
	// Close builds a store day's end-of-day report without acting on it
	// (nil: reconciliation reports are not available).
	Close        func(ctx context.Context, storeID, date string) (*closing.Report, error)
	OnlineWithin time.Duration
	// Secure is set when the hub serves TLS: cookies get Secure and the
	// __Host- prefix.
	Secure      bool
	SessionIdle time.Duration
	SessionMax  time.Duration
	// UpdateEvery is the live stream's period (UpdateEvery when 0; never
	// shorter, except in tests of this package).
	UpdateEvery time.Duration
	Now         func() time.Time
	Log         *slog.Logger
	// Stopping ends live streams when the server shuts down.
	Stopping <-chan struct{}
}

// UI is the dashboard: an http.Handler for everything under /ui/.
type UI struct {
	opts     Options
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
	logins   loginLimits
	live     *live
	zones    map[string]string
	names    map[string]string
}

// New builds the dashboard. Call Close to stop its live sampler.
func New(opts Options) (*UI, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("web: Options.Store is required")
	case opts.Inbox == nil:
		return nil, errors.New("web: Options.Inbox is required")
	case opts.Guard == nil:
		return nil, errors.New("web: Options.Guard is required")
	}
	if opts.Health == nil {
		opts.Health = func() []store.Health { return nil }
	}
	if opts.Destinations == nil {
		opts.Destinations = func(ctx context.Context) ([]Destination, int64, error) {
			head, err := opts.Store.Head(ctx)
			return nil, head, err
		}
	}
	if opts.OnlineWithin <= 0 {
		opts.OnlineWithin = DefaultOnlineWithin
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = DefaultSessionMax
	}
	if opts.UpdateEvery <= 0 {
		opts.UpdateEvery = UpdateEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	u := &UI{opts: opts, sessions: newSessions(opts.SessionIdle, opts.SessionMax, opts.Now),
		zones: map[string]string{}, names: map[string]string{}}
	for _, s := range opts.Stores {
		u.zones[s.ID], u.names[s.ID] = s.Zone, s.Name
	}
	var err error
	if u.pages, err = parsePages(); err != nil {
		return nil, err
	}
	u.live = newLive(u)
	u.routes()
	return u, nil
}

// Close stops the live sampler.
func (u *UI) Close() { u.live.stop() }

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	u.mux.ServeHTTP(w, r)
}

func (u *UI) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets/static")
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /ui/login", u.loginPage)
	m.HandleFunc("POST /ui/login", u.login)
	m.HandleFunc("POST /ui/logout", u.need(access.Viewer, "dashboard logout", actionAudit, u.logout))
	m.HandleFunc("GET /ui/{$}", u.need(access.Viewer, "view overview", noAudit, u.overview))
	m.HandleFunc("GET /ui/stores", u.need(access.Viewer, "view stores", noAudit, u.storesPage))
	m.HandleFunc("GET /ui/inventory", u.need(access.Viewer, "view inventory", noAudit, u.inventory))
	m.HandleFunc("GET /ui/events/{id}", u.need(access.Viewer, "view event", noAudit, u.eventPage))
	m.HandleFunc("GET /ui/destinations", u.need(access.Viewer, "view destinations", noAudit, u.destinationsPage))
	// Dead letters carry the documents meant for the ERP: a sensitive
	// view, audited as in the JSON API.
	m.HandleFunc("GET /ui/destinations/{name}", u.need(access.Viewer, "read dead letters", viewAudit, u.destinationPage))
	m.HandleFunc("POST /ui/destinations/{name}/pause", u.need(access.Operator, "pause destination", actionAudit, u.pause(true)))
	m.HandleFunc("POST /ui/destinations/{name}/resume", u.need(access.Operator, "resume destination", actionAudit, u.pause(false)))
	m.HandleFunc("POST /ui/destinations/{name}/replay", u.need(access.Operator, "replay destination", actionAudit, u.replay))
	m.HandleFunc("GET /ui/inbox", u.need(access.Viewer, "list inbox", noAudit, u.inboxPage))
	m.HandleFunc("GET /ui/inbox/{id}", u.need(access.Viewer, "read inbox exception", noAudit, u.exceptionPage))
	m.HandleFunc("POST /ui/inbox/{id}/act", u.need(access.Operator, "act on inbox exception", actionAudit, u.act))
	m.HandleFunc("GET /ui/reconcile", u.need(access.Viewer, "view reconciliation", noAudit, u.reconcilePage))
	m.HandleFunc("GET /ui/audit", u.need(access.Admin, "read audit trail", viewAudit, u.auditPage))
	m.HandleFunc("GET /ui/stream", u.need(access.Viewer, "stream dashboard", noAudit, u.stream))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		u.errorPage(w, r, nil, http.StatusNotFound, "No page at "+r.URL.Path+".")
	})
	u.mux = m
}

// auditing says what need writes to the audit trail.
type auditing int

const (
	noAudit     auditing = iota // reads: refusals only
	viewAudit                   // sensitive reads: every request
	actionAudit                 // actions: every request, CSRF-checked
)

type sessionKey struct{}

func sessionFrom(r *http.Request) *session {
	ss, _ := r.Context().Value(sessionKey{}).(*session)
	return ss
}

// need wraps a page or action: a live session whose key has at least
// role; for actions also the same origin and the session's CSRF token.
// Refusals, actions and sensitive views go to the audit trail.
func (u *UI) need(role access.Role, action string, audit auditing, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, _, ok := u.sessionOf(r)
		if !ok {
			u.audit(r, access.Actor{Remote: r.RemoteAddr}, action, "denied", http.StatusUnauthorized)
			if r.Method == http.MethodGet && r.URL.Path != "/ui/stream" {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.errorPage(w, r, nil, http.StatusUnauthorized, "Your session has ended: log in again.")
			return
		}
		if audit == actionAudit {
			if err := r.ParseForm(); err != nil {
				u.audit(r, ss.actor, action, "denied", http.StatusBadRequest)
				u.errorPage(w, r, ss, http.StatusBadRequest, "The form could not be read: "+err.Error())
				return
			}
			if !u.sameOrigin(r) || !validCSRF(ss, r) {
				u.audit(r, ss.actor, action, "denied", http.StatusForbidden)
				u.errorPage(w, r, ss, http.StatusForbidden, "This request did not come from a page of this dashboard (missing or wrong CSRF token, or another origin): reload the page and try again.")
				return
			}
		}
		if ss.actor.Role < role {
			u.audit(r, ss.actor, action, "denied", http.StatusForbidden)
			u.errorPage(w, r, ss, http.StatusForbidden, fmt.Sprintf("Key %q has role %s; %s needs %s.", ss.actor.Name, ss.actor.Role, action, role))
			return
		}
		r = r.WithContext(access.WithActor(context.WithValue(r.Context(), sessionKey{}, ss), ss.actor))
		if audit == noAudit {
			next(w, r)
			return
		}
		rec := &obs.StatusWriter{ResponseWriter: w}
		next(rec, r)
		result := "allowed"
		if rec.Status() >= 400 {
			result = "failed"
		}
		u.audit(r, ss.actor, action, result, rec.Status())
	}
}

// audit writes a line to the hub's audit trail, marked as the dashboard's.
func (u *UI) audit(r *http.Request, a access.Actor, action, result string, status int) {
	if u.opts.Guard.Audit == nil {
		return
	}
	name := a.Name
	if name == "" {
		name = "(unauthenticated)"
	}
	target := r.PathValue("name")
	if target == "" {
		target = r.PathValue("id")
	}
	if target == "" {
		target = r.URL.Path
	}
	u.opts.Guard.Audit(context.WithoutCancel(r.Context()), access.Entry{At: u.opts.Now().UTC(), Actor: name, Role: a.Role.String(),
		Action: "dashboard: " + action, Target: target, Remote: r.RemoteAddr, Result: result, Status: status})
}

// page is what every page template gets.
type page struct {
	Title  string
	Nav    string
	Actor  string
	Role   string
	CSRF   string
	Flash  string
	Error  string
	CanAct bool
	Admin  bool
	Live   string // widgets the page subscribes to
	Data   any
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if ss := sessionFrom(r); ss != nil {
		p.Actor, p.Role, p.CSRF = ss.actor.Name, ss.actor.Role.String(), ss.csrf
		p.CanAct, p.Admin = ss.actor.Role >= access.Operator, ss.actor.Role >= access.Admin
		if p.Flash == "" {
			p.Flash = u.sessions.takeFlash(ss)
		}
	}
	var buf bytes.Buffer
	if err := u.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		u.opts.Log.Error("dashboard: render page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (u *UI) errorPage(w http.ResponseWriter, r *http.Request, ss *session, status int, msg string) {
	if ss != nil && sessionFrom(r) == nil {
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, ss))
	}
	u.render(w, r, status, "error", page{Title: http.StatusText(status), Error: msg})
}

// done ends an action: a message for the next page, and back to where the
// operator was (a local path only).
func (u *UI) done(w http.ResponseWriter, r *http.Request, msg, fallback string) {
	if ss := sessionFrom(r); ss != nil {
		u.sessions.setFlash(ss, msg)
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/ui/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = fallback
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

var pageNames = []string{"login", "error", "overview", "stores", "inventory", "event", "destinations", "destination",
	"inbox", "exception", "reconcile", "audit"}

func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/widgets.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if out[n], err = t.ParseFS(assets, "assets/"+n+".html"); err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
	}
	return out, nil
}

// widgetTemplates renders the live widgets on their own.
var widgetOnce = sync.OnceValues(func() (*template.Template, error) {
	return template.New("").Funcs(funcs).ParseFS(assets, "assets/widgets.html")
})
