package hub_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

// inboxHub is a hub whose NetSuite refuses every record while refuse is
// set, with one API key per role.
func inboxHub(t *testing.T) (*liveHub, *atomic.Bool, *nssim.Server) {
	t.Helper()
	ns := nssim.New(erpsim.Options{}, nssim.DefaultCredentials())
	refuse := &atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() && strings.Contains(r.URL.Path, "/record/v1/") {
			w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type=error")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"title": "Bad Request", "status": 400, "o:errorDetails": []map[string]string{
				{"detail": "Invalid Field Value JKT for the following field: item", "o:errorCode": "INVALID_CONTENT"}}})
			return
		}
		ns.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := nsHubConfig(filepath.Join(t.TempDir(), "hub.db"), srv.URL, nssim.DefaultCredentials())
	cfg.APIKeys = []config.APIKey{
		{Name: "vera", Role: "viewer", KeySHA256: intake.HashToken(veraKey)},
		{Name: "otto", Role: "operator", KeySHA256: intake.HashToken(ottoKey)},
		{Name: "ada", Role: "admin", KeySHA256: intake.HashToken(adaKey)},
	}
	return runHub(t, cfg), refuse, ns
}

func (h *liveHub) inbox(t *testing.T, query string) inbox.Page {
	t.Helper()
	return decode[inbox.Page](t, h.do(t, http.MethodGet, "/v1/inbox"+query, veraKey, nil), http.StatusOK)
}

func (h *liveHub) exception(t *testing.T, id string) inbox.Exception {
	t.Helper()
	return decode[inbox.Exception](t, h.do(t, http.MethodGet, "/v1/inbox/"+id, veraKey, nil), http.StatusOK)
}

// A document the ERP refuses becomes a dead_letter exception with the
// ERP's error; replaying it through the inbox API, once the cause is
// fixed, delivers it and the exception resolves itself. A viewer can read
// but not act, and every action is in the audit trail.
func TestInboxDeadLetterReplayedThroughTheAPI(t *testing.T) {
	t.Parallel()
	h, refuse, ns := inboxHub(t)
	refuse.Store(true)
	postAll(t, h, evsOf(et.Sale("s1-sale-0001", "s1", at(1), et.L("JKT", 1))))
	var x inbox.Exception
	eventually(t, 10*time.Second, "a dead_letter exception", func() bool {
		p := h.inbox(t, "?kind=dead_letter&state=open")
		if len(p.Exceptions) == 1 {
			x = p.Exceptions[0]
		}
		return len(p.Exceptions) == 1
	})
	var ev inbox.DeadLetterEvidence
	if err := json.Unmarshal(x.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Destination != nsDest || ev.ExternalID != "s1-sale-0001" || !strings.Contains(ev.Error, "Invalid Field Value JKT") ||
		x.Location != "s1" || x.Zone != et.Zone || !slices.Contains(x.Actions, "replay") {
		t.Fatalf("exception %+v evidence %+v", x, ev)
	}
	id := jsonID(x.ID)

	// Roles: no key, a viewer: refused; bad requests: named.
	body := map[string]string{"action": "replay", "note": "item created in NetSuite"}
	apiError(t, h.do(t, http.MethodPost, "/v1/inbox/"+id+"/actions", "", body), http.StatusUnauthorized, intake.CodeUnauthorized)
	apiError(t, h.do(t, http.MethodPost, "/v1/inbox/"+id+"/actions", veraKey, body), http.StatusForbidden, intake.CodeForbidden)
	apiError(t, h.do(t, http.MethodPost, "/v1/inbox/"+id+"/actions", ottoKey, map[string]string{"action": "reopen"}),
		http.StatusConflict, inbox.CodeIllegalTransition)
	apiError(t, h.do(t, http.MethodPost, "/v1/inbox/"+id+"/actions", ottoKey, map[string]string{"action": "approve"}),
		http.StatusBadRequest, inbox.CodeUnknownAction)
	apiError(t, h.do(t, http.MethodPost, "/v1/inbox/"+id+"/actions", ottoKey, map[string]string{"verb": "resolve"}),
		http.StatusBadRequest, intake.CodeMalformedJSON)
	apiError(t, h.do(t, http.MethodGet, "/v1/inbox/999999", veraKey, nil), http.StatusNotFound, inbox.CodeNotFound)
	apiError(t, h.do(t, http.MethodGet, "/v1/inbox?state=closed", veraKey, nil), http.StatusBadRequest, inbox.CodeInvalid)
	apiError(t, h.do(t, http.MethodGet, "/v1/inbox?limit=zero", veraKey, nil), http.StatusBadRequest, "bad_parameter")

	// The cause is fixed; the operator replays.
	refuse.Store(false)
	got := decode[inbox.Exception](t, h.do(t, http.MethodPost, "/v1/inbox/"+id+"/actions", ottoKey, body), http.StatusOK)
	if got.State != inbox.Acknowledged {
		t.Fatalf("after replay: %s", got.State)
	}
	eventually(t, 10*time.Second, "the exception to resolve itself once delivered", func() bool {
		return h.exception(t, id).State == inbox.AutoResolved
	})
	if n := ns.Sim().Stats().Records["s1-sale-0001"]; n != 1 {
		t.Errorf("NetSuite holds the sale %d times, want once", n)
	}
	final := h.exception(t, id)
	var acts []string
	for _, e := range final.Trail {
		acts = append(acts, e.Action+":"+e.Actor)
	}
	if want := []string{"raised:system", "replay:otto", "auto_resolve:system"}; !slices.Equal(acts, want) {
		t.Errorf("trail %v, want %v", acts, want)
	}
	// The hub's audit trail has every attempt, refused ones included.
	var lines []string
	for _, e := range h.trail(t, "?action=act+on+inbox+exception") {
		lines = append(lines, e.Actor+":"+e.Result)
	}
	want := []string{"(unauthenticated):denied", "vera:denied", "otto:failed", "otto:failed", "otto:failed", "otto:allowed"}
	if !slices.Equal(lines, want) {
		t.Errorf("audit trail %v, want %v", lines, want)
	}
}

// An oversell the ledger detects shows in the inbox, and a later receipt
// that covers every reservation resolves it.
func TestInboxOversell(t *testing.T) {
	t.Parallel()
	h, _, _ := inboxHub(t)
	postAll(t, h, evsOf(
		et.Receive("s1-rcv-1", "s1", at(0), et.L("CAP-RED", 1)),
		et.Order("web-o1", "s1", at(1), "W1", "web", et.L("CAP-RED", 2)),
	))
	var x inbox.Exception
	eventually(t, 10*time.Second, "an oversell exception", func() bool {
		p := h.inbox(t, "?kind=oversell&store=s1")
		if len(p.Exceptions) == 1 {
			x = p.Exceptions[0]
		}
		return len(p.Exceptions) == 1
	})
	if x.Subject != "CAP-RED" || x.State != inbox.Open || !strings.Contains(x.Title, "W1") {
		t.Fatalf("oversell exception %+v", x)
	}
	postAll(t, h, evsOf(et.Receive("s1-rcv-2", "s1", at(2), et.L("CAP-RED", 4))))
	eventually(t, 10*time.Second, "the oversell to resolve itself", func() bool {
		return h.exception(t, jsonID(x.ID)).State == inbox.AutoResolved
	})
}

func evsOf(evs ...*event.Event) []*event.Event { return evs }

func jsonID(id int64) string { return strconv.FormatInt(id, 10) }
