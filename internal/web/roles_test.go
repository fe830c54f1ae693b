package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

// parkDeadLetter parks one document of the netsuite destination.
func (b *bundle) parkDeadLetter(t testing.TB, id string) {
	t.Helper()
	at := b.clock.now()
	if err := b.st.SaveProgress(context.Background(), store.Progress{Destination: "netsuite", Cursor: 1, Dead: []store.DeadLetter{{
		ExternalID: id, Thread: id, Seq: 1, Kind: "sale", Attempts: 5, Class: "permanent",
		Error: "Invalid Field Value SKU-404 for the following field: item", FirstFailed: at, LastFailed: at, Document: `{"externalId":"` + id + `"}`,
	}}}); err != nil {
		t.Fatal(err)
	}
}

// raiseMapping raises an unknown-SKU exception whose first suggestion is
// carried out by the registered action approve_mapping.
func (b *bundle) raiseMapping(t *testing.T, code string) inbox.Exception {
	t.Helper()
	x, _, err := b.in.Raise(context.Background(), inbox.Problem{Key: "mapping_unknown_sku/s1/" + code, Kind: inbox.MappingUnknownSKU,
		Severity: inbox.SeverityWarning, Location: "s1", Subject: code, Title: "Unknown SKU " + code + " on 3 sales",
		Evidence: map[string]any{"code": code, "events": []string{"s1-sale-1", "s1-sale-2", "s1-sale-3"}},
		Suggestions: []inbox.Suggestion{
			{Label: "Map " + code + " to JKT-BLK-M", Confidence: 0.93, Action: "approve_mapping", Payload: json.RawMessage(`{"sku":"JKT-BLK-M"}`)},
			{Label: "Map " + code + " to JKT-BLK-L", Confidence: 0.41, Action: "approve_mapping", Payload: json.RawMessage(`{"sku":"JKT-BLK-L"}`)},
		},
		Actions: []string{"approve_mapping"}})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestEveryActionEnforcesRoles drives each action of the dashboard with
// each role: viewers are refused (and nothing changes), operators and
// admins act; every attempt is in the audit trail under the key's name.
func TestEveryActionEnforcesRoles(t *testing.T) {
	b := setup(t, nil)
	approved := 0
	b.in.MustRegister("approve_mapping", inbox.HandlerFunc(func(_ context.Context, _ inbox.Exception, _ inbox.Action, s *inbox.Suggestion) (inbox.Result, error) {
		approved++
		return inbox.Result{State: inbox.Resolved, Note: "mapping saved; quarantined events replayed", Detail: s.Payload}, nil
	}))
	clients := map[access.Role]*client{
		access.Viewer: b.loggedIn(t, viewerKey), access.Operator: b.loggedIn(t, operatorKey), access.Admin: b.loggedIn(t, adminKey),
	}
	names := map[access.Role]string{access.Viewer: "vera", access.Operator: "otto", access.Admin: "ada"}
	actions := []struct {
		name, action string
		prepare      func(t *testing.T, n int) (string, url.Values)
		took         func(t *testing.T, n int) bool
	}{
		{"pause", "pause destination",
			func(*testing.T, int) (string, url.Values) { return "/ui/destinations/netsuite/pause", nil },
			func(t *testing.T, _ int) bool {
				st, _ := b.st.GetDestinationState(t.Context(), "netsuite")
				defer func() { _ = b.st.SetPaused(t.Context(), "netsuite", false) }()
				return st.Paused
			}},
		{"resume", "resume destination",
			func(t *testing.T, _ int) (string, url.Values) {
				_ = b.st.SetPaused(t.Context(), "netsuite", true)
				return "/ui/destinations/netsuite/resume", nil
			},
			func(t *testing.T, _ int) bool {
				st, _ := b.st.GetDestinationState(t.Context(), "netsuite")
				return !st.Paused
			}},
		{"replay", "replay destination",
			func(t *testing.T, n int) (string, url.Values) {
				id := "eid:" + strconv.Itoa(n)
				b.parkDeadLetter(t, id)
				return "/ui/destinations/netsuite/replay", url.Values{"id": {id}}
			},
			func(t *testing.T, n int) bool {
				rows, _ := b.st.DeadLetters(t.Context(), "netsuite", store.DeadReplay, 100)
				for _, r := range rows {
					if r.ExternalID == "eid:"+strconv.Itoa(n) {
						return true
					}
				}
				return false
			}},
		{"inbox approve", "act on inbox exception",
			func(t *testing.T, n int) (string, url.Values) {
				x := b.raiseMapping(t, "CODE-"+strconv.Itoa(n))
				return "/ui/inbox/" + strconv.FormatInt(x.ID, 10) + "/act", url.Values{"action": {"approve_mapping"}, "suggestion": {"1"}}
			},
			func(t *testing.T, n int) bool {
				p, _ := b.in.List(t.Context(), inbox.Filter{State: "resolved"})
				for _, x := range p.Exceptions {
					if x.Subject == "CODE-"+strconv.Itoa(n) {
						return true
					}
				}
				return false
			}},
		{"inbox assign", "act on inbox exception",
			func(t *testing.T, n int) (string, url.Values) {
				x := b.raiseMapping(t, "ASSIGN-"+strconv.Itoa(n))
				return "/ui/inbox/" + strconv.FormatInt(x.ID, 10) + "/act", url.Values{"action": {"assign"}, "assignee": {"kim"}}
			},
			func(t *testing.T, n int) bool {
				p, _ := b.in.List(t.Context(), inbox.Filter{Assignee: "kim"})
				for _, x := range p.Exceptions {
					if x.Subject == "ASSIGN-"+strconv.Itoa(n) {
						return true
					}
				}
				return false
			}},
	}
	n := 0
	for _, a := range actions {
		for _, role := range []access.Role{access.Viewer, access.Operator, access.Admin} {
			n++
			before := len(b.audited())
			path, form := a.prepare(t, n)
			r := clients[role].post(path, form)
			took := a.took(t, n)
			if role == access.Viewer {
				if r.status != http.StatusForbidden || took {
					t.Errorf("%s as viewer: answered %d (took effect: %v), want 403 and nothing done", a.name, r.status, took)
				}
			} else if r.status != http.StatusSeeOther || !took {
				t.Errorf("%s as %s: answered %d (took effect: %v), want 303 and done", a.name, role, r.status, took)
			}
			var line *access.Entry
			for _, e := range b.audited()[before:] {
				if e.Action == "dashboard: "+a.action {
					line = &e
				}
			}
			wantResult := map[bool]string{true: "denied", false: "allowed"}[role == access.Viewer]
			if line == nil || line.Actor != names[role] || line.Role != role.String() || line.Result != wantResult {
				t.Errorf("%s as %s: audit line %+v, want actor %s result %s", a.name, role, line, names[role], wantResult)
			}
		}
	}
	if approved != 2 {
		t.Errorf("the approve handler ran %d times, want 2 (operator and admin)", approved)
	}

	// The audit view is the admin's alone, and reading it is audited.
	for role, want := range map[access.Role]int{access.Viewer: http.StatusForbidden, access.Operator: http.StatusForbidden, access.Admin: http.StatusOK} {
		if r := clients[role].get("/ui/audit"); r.status != want {
			t.Errorf("audit view as %s answered %d, want %d", role, r.status, want)
		}
	}
	// Dead letters are a sensitive view: every read audited.
	before := len(b.audited())
	if r := clients[access.Viewer].get("/ui/destinations/netsuite"); r.status != http.StatusOK {
		t.Errorf("dead letters as viewer answered %d", r.status)
	}
	if got := b.audited()[before:]; len(got) != 1 || got[0].Action != "dashboard: read dead letters" || got[0].Actor != "vera" {
		t.Errorf("reading dead letters audited as %+v", got)
	}
	// Viewers do not see action forms (and are refused if they send one).
	if r := clients[access.Viewer].get("/ui/destinations"); r.status != http.StatusOK || !containsAll(r.body, `class="role-viewer"`) {
		t.Errorf("destinations page for a viewer: %d", r.status)
	}
	_ = time.Second
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !contains(s, x) {
			return false
		}
	}
	return true
}
