package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoginSetsAHardenedSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		b := setup(t, func(o *Options) { o.Secure = secure })
		c := b.client(t)
		r := c.login(operatorKey)
		if r.status != http.StatusSeeOther {
			t.Fatalf("login answered %d", r.status)
		}
		cookies := (&http.Response{Header: r.header}).Cookies()
		if len(cookies) != 1 {
			t.Fatalf("login set %d cookies, want 1", len(cookies))
		}
		ck := cookies[0]
		wantName := "tillsync_session"
		if secure {
			wantName = "__Host-tillsync_session"
		}
		if ck.Name != wantName || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure != secure || ck.Domain != "" {
			t.Errorf("secure=%v: cookie %+v, want %s, HttpOnly, SameSite=Strict, Path=/, Secure=%v, no Domain", secure, ck, wantName, secure)
		}
		if raw, err := decodeLen(ck.Value); err != nil || raw != 32 {
			t.Errorf("session ID %q is %d bytes (%v), want 32 random bytes", ck.Value, raw, err)
		}
	}
}

func decodeLen(s string) (int, error) {
	b, err := base64URL(s)
	return len(b), err
}

func TestLoginRefusesWrongKeysAndAuditsThem(t *testing.T) {
	b := setup(t, nil)
	c := b.client(t)
	for _, key := range []string{"", "nope", operatorKey + "x", strings.ToUpper(operatorKey)} {
		r := c.login(key)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "not valid") {
			t.Errorf("key %q: answered %d, want 401 saying the key is not valid", key, r.status)
		}
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("key %q: a refused login set a cookie", key)
		}
	}
	denied := 0
	for _, e := range b.audited() {
		if e.Action == "dashboard: dashboard login" && e.Result == "denied" && e.Actor == "(unauthenticated)" {
			denied++
		}
	}
	if denied != 4 {
		t.Errorf("%d refused logins audited, want 4", denied)
	}
	// Not logged in: pages send to the login page, the stream and actions
	// are refused.
	if r := c.get("/ui/inbox?state=open"); r.status != http.StatusSeeOther || r.location != "/ui/login?next="+url.QueryEscape("/ui/inbox?state=open") {
		t.Errorf("anonymous GET answered %d → %q", r.status, r.location)
	}
	if r := c.get("/ui/stream?w=stores"); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous stream answered %d, want 401", r.status)
	}
	if r := c.do(http.MethodPost, "/ui/destinations/netsuite/pause", url.Values{}, nil); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous action answered %d, want 401", r.status)
	}
}

func TestLoginRedirectStaysOnTheDashboard(t *testing.T) {
	b := setup(t, nil)
	for next, want := range map[string]string{
		"/ui/inbox": "/ui/inbox", "https://evil.example/": "/ui/", "//evil.example/ui/": "/ui/", "/ui/\\evil": "/ui/", "": "/ui/",
	} {
		c := b.client(t)
		r := c.do(http.MethodPost, "/ui/login", url.Values{"key": {viewerKey}, "next": {next}}, nil)
		if r.status != http.StatusSeeOther || r.location != want {
			t.Errorf("next %q: redirected to %q, want %q", next, r.location, want)
		}
	}
}

func TestSessionRotationLogoutAndTampering(t *testing.T) {
	b := setup(t, nil)
	c := b.loggedIn(t, viewerKey)
	u, _ := url.Parse(b.srv.URL)
	first := c.http.Jar.Cookies(u)[0].Value

	// Logging in again (as someone else) replaces the session: the old
	// ID is dead, the new one differs.
	if r := c.login(operatorKey); r.status != http.StatusSeeOther {
		t.Fatalf("second login answered %d", r.status)
	}
	second := c.http.Jar.Cookies(u)[0].Value
	if second == first {
		t.Fatal("the session ID was not rotated on login")
	}
	old := b.client(t)
	old.http.Jar.SetCookies(u, []*http.Cookie{{Name: "tillsync_session", Value: first}}) //nolint:gosec // a test planting a cookie
	if r := old.get("/ui/stores"); r.status != http.StatusSeeOther {
		t.Errorf("the session before the new login still works (%d)", r.status)
	}
	if r := c.get("/ui/stores"); r.status != http.StatusOK || !strings.Contains(r.body, "otto") {
		t.Errorf("the new session answered %d, want the page as otto", r.status)
	}

	// A tampered ID is no session.
	bad := b.client(t)
	bad.http.Jar.SetCookies(u, []*http.Cookie{{Name: "tillsync_session", Value: second[:len(second)-1] + "A"}}) //nolint:gosec // a test planting a cookie
	if r := bad.get("/ui/stores"); r.status != http.StatusSeeOther {
		t.Errorf("a tampered session ID answered %d, want a redirect to the login", r.status)
	}

	// Logout ends the session on the server, not only in the browser.
	if r := c.post("/ui/logout", nil); r.status != http.StatusSeeOther || r.location != "/ui/login" {
		t.Errorf("logout answered %d → %q", r.status, r.location)
	}
	replay := b.client(t)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "tillsync_session", Value: second}}) //nolint:gosec // a test planting a cookie
	if r := replay.get("/ui/stores"); r.status != http.StatusSeeOther {
		t.Errorf("a logged-out session ID still works (%d)", r.status)
	}
}

func TestSessionsExpire(t *testing.T) {
	b := setup(t, func(o *Options) { o.SessionIdle, o.SessionMax = 10*time.Minute, time.Hour })
	c := b.loggedIn(t, viewerKey)
	// Used every 9 minutes it stays alive past the idle limit…
	for range 6 {
		b.clock.add(9 * time.Minute)
		if r := c.get("/ui/stores"); r.status != http.StatusOK {
			t.Fatalf("an active session ended early (%d)", r.status)
		}
	}
	// …but not past the absolute limit (54 min + 9 > 60).
	b.clock.add(9 * time.Minute)
	if r := c.get("/ui/stores"); r.status != http.StatusSeeOther {
		t.Errorf("a session older than the absolute limit answered %d", r.status)
	}
	c = b.loggedIn(t, viewerKey)
	b.clock.add(10 * time.Minute)
	if r := c.get("/ui/stores"); r.status != http.StatusSeeOther {
		t.Errorf("an idle session answered %d", r.status)
	}
}

func TestActionsNeedCSRFTokenAndSameOrigin(t *testing.T) {
	b := setup(t, nil)
	c := b.loggedIn(t, operatorKey)
	other := b.loggedIn(t, operatorKey)
	path := "/ui/destinations/netsuite/pause"
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {"x"}}, nil},
		{"another session's token", url.Values{"csrf": {other.csrf()}}, nil},
		{"cross-origin", url.Values{"csrf": {c.csrf()}}, map[string]string{"Origin": "https://evil.example"}},
		{"cross-site referer", url.Values{"csrf": {c.csrf()}}, map[string]string{"Origin": "", "Referer": "https://evil.example/x"}},
		{"cross-site fetch", url.Values{"csrf": {c.csrf()}}, map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}},
	}
	for _, tc := range cases {
		if r := c.do(http.MethodPost, path, tc.form, tc.hdr); r.status != http.StatusForbidden {
			t.Errorf("%s: answered %d, want 403", tc.name, r.status)
		}
	}
	if st, _ := b.st.GetDestinationState(t.Context(), "netsuite"); st.Paused {
		t.Fatal("a forged request paused the destination")
	}
	if r := c.post(path, nil); r.status != http.StatusSeeOther {
		t.Fatalf("a genuine request answered %d", r.status)
	}
	if st, _ := b.st.GetDestinationState(t.Context(), "netsuite"); !st.Paused {
		t.Error("the genuine request did not pause the destination")
	}
	// A cross-origin login is refused too (login CSRF).
	if r := b.client(t).do(http.MethodPost, "/ui/login", url.Values{"key": {adminKey}}, map[string]string{"Origin": "https://evil.example"}); r.status != http.StatusForbidden {
		t.Errorf("cross-origin login answered %d, want 403", r.status)
	}
	denied := 0
	for _, e := range b.audited() {
		if e.Action == "dashboard: pause destination" && e.Result == "denied" && e.Status == http.StatusForbidden {
			denied++
		}
	}
	if denied != len(cases) {
		t.Errorf("%d forged requests audited, want %d", denied, len(cases))
	}
}

func TestLoginAttemptsAreThrottled(t *testing.T) {
	b := setup(t, nil)
	c := b.client(t)
	for i := range LoginBurst {
		if r := c.login("guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d answered %d, want 401", i+1, r.status)
		}
	}
	// Even the right key waits now: the limit is on attempts.
	r := c.login(adminKey)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("attempt %d answered %d, want 429 with Retry-After", LoginBurst+1, r.status)
	}
	if e := b.audited(); e[len(e)-1].Status != http.StatusTooManyRequests || e[len(e)-1].Result != "denied" {
		t.Errorf("the throttled attempt was audited as %+v", e[len(e)-1])
	}
}
