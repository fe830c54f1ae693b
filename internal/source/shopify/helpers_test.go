package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	testShop   = "tillsync-demo.myshopify.com"
	testSecret = "shpss_0123456789abcdef"
	oldSecret  = "shpss_previous_secret"
)

// testNow is the handler's clock in tests: after every payload's time.
var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		Shop:    testShop,
		Secrets: []string{testSecret},
		Locations: map[string]string{
			"24826418":    "store-berlin",
			"61234567890": "store-tokyo",
			"70000000001": "store-hamburg",
		},
		DefaultLocation: "web-dc",
		Zone:            "Europe/Berlin",
		Zones:           map[string]string{"store-tokyo": "Asia/Tokyo"},
		Currency:        "EUR",
	}
}

// sink is a fake Submitter: it keeps the log (deduplicating on ID with the
// fingerprint, as the store does) and applies accepted events to an
// in-memory ledger. It also answers Lookup.
type sink struct {
	mu     sync.Mutex
	log    map[string]*event.Event
	prints map[string][32]byte
	order  []*event.Event
	ledger *inventory.Ledger
	seq    int64
	// fail, if set, decides whether a Submit call fails (before storing).
	fail func() bool
}

func newSink() *sink {
	return &sink{log: map[string]*event.Event{}, prints: map[string][32]byte{}, ledger: inventory.NewMemory()}
}

var errInjected = errors.New("injected storage failure")

func (s *sink) Submit(_ context.Context, events []*event.Event) ([]intake.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil && s.fail() {
		return nil, errInjected
	}
	out := make([]intake.Outcome, len(events))
	var apply []inventory.Applied
	for i, e := range events {
		fp := e.Fingerprint()
		if old, ok := s.prints[e.ID]; ok {
			if old != fp {
				out[i] = intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict, Message: "ID already used for a different event"}}
			} else {
				out[i] = intake.Outcome{Status: intake.StatusDuplicate}
			}
			continue
		}
		s.seq++
		s.prints[e.ID], s.log[e.ID] = fp, e
		s.order = append(s.order, e)
		apply = append(apply, inventory.Applied{Seq: s.seq, Event: e})
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: s.seq}
	}
	if _, err := s.ledger.Apply(apply); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *sink) Lookup(_ context.Context, ids []string) (map[string]event.Type, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]event.Type{}
	for _, id := range ids {
		if e := s.log[id]; e != nil {
			out[id] = e.Type
		}
	}
	return out, nil
}

func (s *sink) events() []*event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*event.Event(nil), s.order...)
}

func (s *sink) positions() map[inventory.Key]inventory.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[inventory.Key]inventory.Position{}
	s.ledger.Positions(func(k inventory.Key, p inventory.Position) { out[k] = p })
	return out
}

type bundle struct {
	h    *Handler
	sink *sink
	now  time.Time
}

func setup(t *testing.T, mutate ...func(*Config, *Deps)) *bundle {
	t.Helper()
	b := &bundle{sink: newSink(), now: testNow}
	cfg := testConfig()
	deps := Deps{Submit: b.sink, Lookup: b.sink.Lookup, Now: func() time.Time { return b.now }}
	for _, m := range mutate {
		m(&cfg, &deps)
	}
	h, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	b.h = h
	return b
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type req struct {
	topic       string
	body        []byte
	secret      string // "" → testSecret; "-" → no signature header
	eventID     string
	triggeredAt time.Time
	header      map[string]string
}

// post signs and serves one delivery, returning the status and body.
func (b *bundle) post(t *testing.T, r req) (int, map[string]any) {
	t.Helper()
	hr := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/sources/shopify/tillsync-demo", bytes.NewReader(r.body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(HeaderTopic, r.topic)
	hr.Header.Set(HeaderShopDomain, testShop)
	hr.Header.Set(HeaderAPIVersion, "2026-10")
	hr.Header.Set(HeaderWebhookID, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	if r.eventID != "" {
		hr.Header.Set(HeaderEventID, r.eventID)
	}
	ts := r.triggeredAt
	if ts.IsZero() {
		ts = b.now.Add(-2 * time.Second)
	}
	hr.Header.Set(HeaderTriggeredAt, ts.Format(time.RFC3339Nano))
	switch r.secret {
	case "":
		hr.Header.Set(HeaderHMAC, Sign(testSecret, r.body))
	case "-":
	default:
		hr.Header.Set(HeaderHMAC, Sign(r.secret, r.body))
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, hr)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer %d is not JSON: %q", w.Code, w.Body.String())
	}
	return w.Code, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}
