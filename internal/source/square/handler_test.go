package square

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// countNotification is an inventory.count.updated with one count.
func countNotification(eventID, location, quantity string) []byte {
	return []byte(fmt.Sprintf(`{"merchant_id":"6SSW7HV8K2ST5","type":"inventory.count.updated","event_id":%q,`+
		`"created_at":"2019-10-29T18:38:45.455Z","data":{"type":"inventory","id":"84e4ac73","object":{"inventory_counts":[`+
		`{"calculated_at":"2019-10-29T18:38:45.10296Z","catalog_object_id":"FGQ5JJWT2PYTHF35CKZ2DSKP",`+
		`"catalog_object_type":"ITEM_VARIATION","location_id":%q,"quantity":%q,"state":"IN_STOCK"}]}}}`, eventID, location, quantity))
}

func TestHandlerAnswers(t *testing.T) {
	t.Parallel()
	api := orderFiles(t)
	refund := readFile(t, "testdata/webhooks/refund_updated_completed.json")
	tests := []struct {
		name   string
		tweak  func(*Config)
		body   []byte
		status int
		code   string
		stored int
	}{
		{"count", nil, countNotification("e1", "D7AVYMEAPJ3A3", "7"), http.StatusOK, `"processed"`, 1},
		{"ignored location", nil, countNotification("e2", "LH2B7TKNVAQPF", "7"), http.StatusOK, `"ignored"`, 0},
		{"unmapped location", nil, countNotification("e3", "ZZZZZZZZZZZZZ", "7"), http.StatusUnprocessableEntity, "ZZZZZZZZZZZZZ", 0},
		{"five decimal places", nil, countNotification("e4", "D7AVYMEAPJ3A3", "1.23456"), http.StatusUnprocessableEntity, "inventory_counts[0].quantity", 0},
		{"foreign currency", func(c *Config) { c.Currency = "EUR" }, refund, http.StatusUnprocessableEntity, "currency USD", 0},
		{"unknown type", nil, []byte(`{"merchant_id":"M","type":"customer.created","event_id":"e5","data":{"type":"customer","id":"C","object":{}}}`), http.StatusOK, `"ignored"`, 0},
		{"no event_id", nil, []byte(`{"merchant_id":"M","type":"payment.created","data":{}}`), http.StatusBadRequest, intake.CodeMalformedJSON, 0},
		{"not JSON", nil, []byte(`payment`), http.StatusBadRequest, intake.CodeMalformedJSON, 0},
		{"object missing", nil, []byte(`{"type":"payment.updated","event_id":"e6","data":{"type":"payment","id":"P","object":{}}}`), http.StatusBadRequest, "data.object.payment", 0},
		{"too large", func(c *Config) { c.MaxBodyBytes = 64 }, countNotification("e7", "D7AVYMEAPJ3A3", "7"), http.StatusRequestEntityTooLarge, intake.CodeBodyTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(api.URL)
			if tt.tweak != nil {
				tt.tweak(&cfg)
			}
			log := newFakeLog()
			w := post(t, newTestHandler(t, cfg, log), tt.body)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.code) {
				t.Errorf("status %d %s, want %d with %s", w.Code, w.Body, tt.status, tt.code)
			}
			if n := len(log.all()); n != tt.stored {
				t.Errorf("%d events stored, want %d", n, tt.stored)
			}
		})
	}
}

func TestHandlerMethod(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, testConfig("http://127.0.0.1:1"), newFakeLog())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d %v", w.Code, w.Header())
	}
}

// A notification is acknowledged only after its events are durable; a
// failed commit is not remembered, so Square's redelivery stores it.
func TestHandlerCommitFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err    error
		status int
	}{
		{intake.ErrOverloaded, http.StatusServiceUnavailable},
		{intake.ErrClosed, http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusServiceUnavailable},
		{errors.New("disk full"), http.StatusInternalServerError},
	} {
		t.Run(tt.err.Error(), func(t *testing.T) {
			t.Parallel()
			log := newFakeLog()
			h := newTestHandler(t, testConfig("http://127.0.0.1:1"), log)
			body := countNotification("e1", "D7AVYMEAPJ3A3", "3")
			log.fail = tt.err
			if w := post(t, h, body); w.Code != tt.status {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body, tt.status)
			}
			if w := post(t, h, body); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"accepted"`) {
				t.Fatalf("redelivery: %d %s", w.Code, w.Body)
			}
			if w := post(t, h, body); !strings.Contains(w.Body.String(), `"duplicate"`) {
				t.Fatalf("second redelivery: %d %s", w.Code, w.Body)
			}
			if n := len(log.all()); n != 1 {
				t.Errorf("%d events stored, want 1", n)
			}
		})
	}
}

// Prepare (the redaction hook) sees every event before validation.
func TestHandlerPrepare(t *testing.T) {
	t.Parallel()
	api := orderFiles(t)
	log := newFakeLog()
	h, err := NewHandler(testConfig(api.URL), Deps{Submit: log, Prepare: func(e *event.Event) {
		e.Attributes["prepared"] = "yes"
	}})
	if err != nil {
		t.Fatal(err)
	}
	body := readFile(t, "testdata/webhooks/payment_updated_completed.json")
	if w := post(t, h, body); w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := log.all()
	if len(evs) != 1 || evs[0].Attributes["prepared"] != "yes" {
		t.Fatalf("events %v", evs)
	}
	// Nothing of the card beyond brand, last four and entry mode is kept.
	b, _ := evs[0].MarshalJSON()
	for _, secret := range []string{"411111", "sq-1-pu54", "2022", "YFB91d"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("event keeps %q: %s", secret, b)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := NewHandler(Config{Name: "x", NotificationURL: "/relative", Zone: "Mars/Base", Currency: "EURO",
		SquareVersion: "latest"}, Deps{Submit: newFakeLog()})
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"signature_keys", "notification_url", "access_token", "square_version", "locations", "zone", "currency"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	if _, err := NewHandler(testConfig("https://connect.squareupsandbox.com"), Deps{}); err == nil {
		t.Error("no error without a Submitter")
	}
}

func TestRecentIsBounded(t *testing.T) {
	t.Parallel()
	r := newRecent(3)
	for _, k := range []string{"a", "b", "c", "d"} {
		r.add(k)
	}
	if r.has("a") || !r.has("b") || !r.has("d") || len(r.set) != 3 {
		t.Errorf("set %v", r.set)
	}
	r.add("d")
	if !r.has("b") {
		t.Error("re-adding a key evicted another")
	}
}

func TestEventIDStaysBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	id := eventID("square", "order", long)
	if len(id) != 128 || !strings.HasPrefix(id, "square:order:xxx") || id == eventID("square", "order", long+"y") {
		t.Errorf("id %q (%d bytes)", id, len(id))
	}
}
