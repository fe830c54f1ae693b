package hub_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/intake"
)

// TestDashboardIsMounted: the hub serves the dashboard under /ui/ behind
// its API keys, and a login there is written to the hub's audit trail.
func TestDashboardIsMounted(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Name: "Berlin", Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(tokS1)}}
	cfg.APIKeys = []config.APIKey{{Name: "vera", Role: "viewer", KeySHA256: intake.HashToken("vera-dashboard-key")}}
	h := runHub(t, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	get := func(path string, cookie *http.Cookie) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.url+path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if status, to := get("/ui/stores", nil); status != http.StatusSeeOther || !strings.HasPrefix(to, "/ui/login") {
		t.Fatalf("/ui/stores without a session answered %d → %q, want the login page", status, to)
	}
	if status, _ := get("/ui/static/app.js", nil); status != http.StatusOK {
		t.Errorf("embedded script answered %d", status)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.url+"/ui/login",
		strings.NewReader(url.Values{"key": {"vera-dashboard-key"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.url)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("login answered %d with %d cookies", resp.StatusCode, len(resp.Cookies()))
	}
	if status, _ := get("/ui/stores", resp.Cookies()[0]); status != http.StatusOK {
		t.Errorf("/ui/stores with a session answered %d", status)
	}
	// The live stream passes through the hub's middleware unbuffered.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sreq, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/ui/stream?w=stores", nil)
	sreq.AddCookie(resp.Cookies()[0])
	stream, err := client.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && sc.Text() != "event: stores" {
	}
	if stream.StatusCode != http.StatusOK || sc.Text() != "event: stores" {
		t.Errorf("stream through the hub answered %d and no stores event (%v)", stream.StatusCode, sc.Err())
	}
	cancel()
	rows, err := h.Store().AuditLog(t.Context(), 0, "vera", "dashboard: dashboard login", 10)
	if err != nil || len(rows) != 1 || rows[0].Result != "allowed" {
		t.Errorf("audit trail has %+v (%v), want vera's login", rows, err)
	}
}

// TestDashboardTakesNoOtherCredentials: a store's token is no login, and
// an API key in an Authorization header opens no page — the dashboard
// knows only its own sessions.
func TestDashboardTakesNoOtherCredentials(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Name: "Berlin", Zone: "Europe/Berlin", TokenSHA256: intake.HashToken(tokS1)}}
	cfg.APIKeys = []config.APIKey{{Name: "ada", Role: "admin", KeySHA256: intake.HashToken("ada-dashboard-key")}}
	h := runHub(t, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.url+"/ui/login", strings.NewReader(url.Values{"key": {tokS1}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.url)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("login with a store token answered %d with %d cookies, want 401 and none", resp.StatusCode, len(resp.Cookies()))
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, h.url+"/ui/audit", nil)
	req.Header.Set("Authorization", "Bearer ada-dashboard-key")
	resp2, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if resp2.StatusCode != http.StatusSeeOther {
		t.Errorf("/ui/audit with a bearer key answered %d, want a redirect to the login page", resp2.StatusCode)
	}
}
