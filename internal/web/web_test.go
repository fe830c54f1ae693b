package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

const (
	viewerKey   = "viewer-key-0123456789"
	operatorKey = "operator-key-0123456789"
	adminKey    = "admin-key-0123456789"
)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// bundle is a dashboard on a real SQLite store and inbox, with one key of
// each role, a fake destination and settable store health.
type bundle struct {
	ui     *UI
	srv    *httptest.Server
	st     *store.Store
	in     *inbox.Inbox
	clock  *clock
	mu     sync.Mutex
	health []store.Health
	dests  []Destination
	audit  []access.Entry
}

func (b *bundle) audited() []access.Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]access.Entry(nil), b.audit...)
}

func setup(t testing.TB, tune func(*Options)) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b := &bundle{st: st, clock: &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}}
	b.in = inbox.Standard(st, inbox.Options{Now: b.clock.now})
	b.dests = []Destination{{Name: "netsuite", Kind: "netsuite", Account: "ns", Mode: "detail", Cursor: 5, Lag: 2,
		Governor: destinationStats(4)}}
	guard := &access.Guard{Keys: []access.Key{
		{Name: "vera", Role: access.Viewer, SHA256: intake.HashToken(viewerKey)},
		{Name: "otto", Role: access.Operator, SHA256: intake.HashToken(operatorKey)},
		{Name: "ada", Role: access.Admin, SHA256: intake.HashToken(adminKey)},
	}, Now: b.clock.now, Audit: func(ctx context.Context, e access.Entry) {
		b.mu.Lock()
		b.audit = append(b.audit, e)
		b.mu.Unlock()
		_ = st.AppendAudit(ctx, store.AuditEntry{At: e.At, Actor: e.Actor, Role: e.Role, Action: e.Action, Target: e.Target,
			Remote: e.Remote, Result: e.Result, Status: e.Status})
	}}
	opts := Options{Store: st, Inbox: b.in, Guard: guard,
		Stores:   []config.Store{{ID: "s1", Name: "Berlin", Zone: et.Zone}, {ID: "s2", Name: "Hamburg", Zone: et.Zone}, {ID: "s3", Name: "Munich", Zone: et.Zone}},
		Channels: []availability.Channel{{Name: "web", Buffer: event.Units(1)}, {Name: "market", Locations: map[string]bool{"s1": true}}},
		Health: func() []store.Health {
			b.mu.Lock()
			defer b.mu.Unlock()
			return append([]store.Health(nil), b.health...)
		},
		Destinations: func(ctx context.Context) ([]Destination, int64, error) {
			head, err := st.Head(ctx)
			b.mu.Lock()
			defer b.mu.Unlock()
			out := append([]Destination(nil), b.dests...)
			for i := range out {
				n, _ := st.CountDeadLetters(ctx, out[i].Name, store.DeadParked)
				out[i].DeadLetters = n
			}
			return out, head, err
		},
		OnlineWithin: 10 * time.Second, Now: b.clock.now,
	}
	if tune != nil {
		tune(&opts)
	}
	b.ui, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.ui.Close)
	b.srv = httptest.NewServer(b.ui)
	t.Cleanup(b.srv.Close)
	return b
}

// client is a browser: a cookie jar, no redirects followed, Origin set
// on POSTs as a browser does.
type client struct {
	t    *testing.T
	b    *bundle
	http *http.Client
}

func (b *bundle) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, b: b, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string) resp {
	c.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.b.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.b.srv.URL)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp{status: r.StatusCode, body: sb.String(), location: r.Header.Get("Location"), header: r.Header}
}

func (c *client) get(path string) resp { c.t.Helper(); return c.do(http.MethodGet, path, nil, nil) }

// post sends a form with the session's CSRF token (read from a page).
func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf())
	}
	return c.do(http.MethodPost, path, form, nil)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf" content="([^"]*)">`)

func (c *client) csrf() string {
	c.t.Helper()
	r := c.get("/ui/stores")
	m := csrfMeta.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || m[1] == "" {
		c.t.Fatalf("no CSRF token on /ui/stores (status %d)", r.status)
	}
	return m[1]
}

func (c *client) login(key string) resp {
	c.t.Helper()
	return c.do(http.MethodPost, "/ui/login", url.Values{"key": {key}, "next": {"/ui/stores"}}, nil)
}

func (b *bundle) loggedIn(t *testing.T, key string) *client {
	t.Helper()
	c := b.client(t)
	if r := c.login(key); r.status != http.StatusSeeOther || r.location != "/ui/stores" {
		t.Fatalf("login answered %d → %q, want 303 to /ui/stores", r.status, r.location)
	}
	return c
}
