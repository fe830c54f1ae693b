package square

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
)

const (
	testKey   = "Ibxx_5AKakO-3qeNVR61Dw"
	testURL   = "https://hub.example.com/v1/sources/square/main"
	testToken = "EAAAEtest-access-token"
)

// fixedNow is the handler's clock in tests: received_at of every event.
var fixedNow = time.Date(2020, 5, 21, 8, 0, 0, 0, time.UTC)

// fakeLog is a Submitter that behaves like the hub's log: it appends each
// new event ID once (accepted), reports a repeat with the same fingerprint
// as a duplicate and one with a different fingerprint as an id_conflict,
// and applies new events to an in-memory ledger.
type fakeLog struct {
	mu     sync.Mutex
	events []*event.Event
	byID   map[string][32]byte
	ledger *inventory.Ledger
	seq    int64
	// fail, if set, fails the next Submit with it.
	fail error
}

func newFakeLog() *fakeLog {
	return &fakeLog{byID: map[string][32]byte{}, ledger: inventory.NewMemory()}
}

func (f *fakeLog) Submit(_ context.Context, evs []*event.Event) ([]intake.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail; err != nil {
		f.fail = nil
		return nil, err
	}
	outs := make([]intake.Outcome, len(evs))
	var fresh []inventory.Applied
	for i, e := range evs {
		fp := e.Fingerprint()
		if old, ok := f.byID[e.ID]; ok {
			if old == fp {
				outs[i] = intake.Outcome{Status: intake.StatusDuplicate}
			} else {
				outs[i] = intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict, Message: "different event"}}
			}
			continue
		}
		f.seq++
		f.byID[e.ID] = fp
		f.events = append(f.events, e)
		fresh = append(fresh, inventory.Applied{Seq: f.seq, Event: e})
		outs[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: f.seq}
	}
	if _, err := f.ledger.Apply(fresh); err != nil {
		return nil, err
	}
	return outs, nil
}

func (f *fakeLog) all() []*event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*event.Event(nil), f.events...)
}

func (f *fakeLog) positions() map[inventory.Key]inventory.Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[inventory.Key]inventory.Position{}
	f.ledger.Positions(func(k inventory.Key, p inventory.Position) { out[k] = p })
	return out
}

// testConfig is the configuration the testdata payloads are written for.
func testConfig(apiURL string) Config {
	return Config{
		Name: "main", SignatureKeys: []string{testKey}, NotificationURL: testURL, AccessToken: testToken,
		APIBaseURL:      apiURL,
		Locations:       map[string]string{"D7AVYMEAPJ3A3": "store-sf", "YYQR03DGCTXA4": "store-oakland"},
		IgnoreLocations: []string{"LH2B7TKNVAQPF"}, Zone: "America/Los_Angeles", Currency: "USD",
		SKUs:       map[string]string{"W62UWFY35CWMYGVWK6TWJDNI": "ITEM-1"},
		BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond, RatePerSecond: 1000, Burst: 100,
	}
}

// orderFiles serves testdata/orders/<id>.json as RetrieveOrder answers,
// checking the bearer token and Square-Version as Square would.
func orderFiles(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"category":"AUTHENTICATION_ERROR","code":"UNAUTHORIZED"}]}`))
			return
		}
		if r.Header.Get("Square-Version") != DefaultSquareVersion {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"INVALID_SQUARE_VERSION_FORMAT"}]}`))
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "orders", filepath.Base(r.PathValue("id"))+".json"))
		if err != nil {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"NOT_FOUND","field":"order_id"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b) //nolint:gosec // G705: a fake API serving testdata as JSON
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// newTestHandler builds a handler over a fake log.
func newTestHandler(t *testing.T, cfg Config, log *fakeLog) http.Handler {
	t.Helper()
	h, err := NewHandler(cfg, Deps{Submit: log, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// post sends a signed notification to h and returns the recorded answer.
func post(t *testing.T, h http.Handler, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return postSigned(t, h, body, Sign(testKey, testURL, body))
}

func postSigned(t *testing.T, h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/sources/square/main", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set(SignatureHeader, sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := readFileErr(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFileErr(path string) ([]byte, error) { return os.ReadFile(path) }
