package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

const (
	otherStore = "store-other"
	otherToken = "other-store-token"
	// The hub under test takes small requests, so the limits are cheap to hit.
	maxBody   = 64 << 10
	maxEvents = 10
)

// intakeHub is a hub serving its Handler through httptest.
type intakeHub struct {
	store *store.Store
	url   string
}

func setupIntake(t *testing.T) *intakeHub {
	t.Helper()
	hc := config.DefaultHub()
	hc.Listen = "127.0.0.1:0"
	hc.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	hc.Stores = []config.Store{
		{ID: location, Zone: zone, TokenSHA256: intake.HashToken(storeToken)},
		{ID: otherStore, Zone: zone, TokenSHA256: intake.HashToken(otherToken)},
	}
	hc.Limits = config.Limits{MaxBodyBytes: maxBody, MaxEvents: maxEvents}
	h, err := hub.New(context.Background(), hc, slog.New(slog.NewTextHandler(newLogSink(t, "hub"), nil)))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, "hub", h.Serve, h.Close) // runs the committer
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	return &intakeHub{store: h.Store(), url: srv.URL + "/v1/events"}
}

// answer is a decoded reply of POST /v1/events.
type answer struct {
	status int
	header http.Header
	raw    string
	resp   intake.Response // 200
	err    intake.Error    // otherwise
}

// post sends body with the store's token unless headers say otherwise
// (an empty Authorization value sends none).
func (h *intakeHub) post(t *testing.T, body []byte, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+storeToken)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(b, &a.resp)
	} else {
		var e struct {
			Error intake.Error `json:"error"`
		}
		err = json.Unmarshal(b, &e)
		a.err = e.Error
	}
	if err != nil {
		t.Fatalf("%d answer does not decode: %v: %s", resp.StatusCode, err, b)
	}
	return a
}

// logIDs returns the IDs in the hub's log, sorted.
func (h *intakeHub) logIDs(t *testing.T) []string {
	t.Helper()
	evs, err := h.store.EventsAfter(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(evs))
	for i, s := range evs {
		ids[i] = s.Event.ID
	}
	slices.Sort(ids)
	return ids
}

// sale is a valid sale's JSON, as a POS sends it.
func sale(t *testing.T, id, loc string) json.RawMessage {
	t.Helper()
	e := et.Sale(id, loc, time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond), et.L("JKT-M", 1))
	e.ReceivedAt = time.Time{}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withPriceAsDecimal writes the first line's unit price as 12.99 — a float,
// where money is integer minor units.
func withPriceAsDecimal(t *testing.T, ev json.RawMessage) json.RawMessage {
	t.Helper()
	out := bytes.Replace(ev, []byte(`"unit_price":1000`), []byte(`"unit_price":12.99`), 1)
	if bytes.Equal(out, ev) {
		t.Fatalf("no unit_price 1000 in %s", ev)
	}
	return out
}

// withType changes an event's type.
func withType(t *testing.T, ev json.RawMessage, typ string) json.RawMessage {
	t.Helper()
	out := bytes.Replace(ev, []byte(`"type":"sale"`), []byte(`"type":"`+typ+`"`), 1)
	if bytes.Equal(out, ev) {
		t.Fatalf("no sale type in %s", ev)
	}
	return out
}

func batch(evs ...json.RawMessage) []byte {
	b, _ := json.Marshal(map[string][]json.RawMessage{"events": evs})
	return b
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// padded is a valid batch of one event, over the body limit with JSON
// whitespace.
func padded(t *testing.T) []byte {
	t.Helper()
	return []byte(`{"events": [` + string(sale(t, "big-1", location)) + strings.Repeat(" ", maxBody) + `]}`)
}

// TestBadInputRequest sends requests the hub must refuse as a whole: each
// gets its documented status and code, a message a person can act on, and
// stores nothing.
func TestBadInputRequest(t *testing.T) {
	t.Parallel()
	gz := map[string]string{"Content-Encoding": "gzip"}
	elevenEvents := make([]json.RawMessage, maxEvents+1)
	for i := range elevenEvents {
		elevenEvents[i] = sale(t, "many-"+string(rune('a'+i)), location)
	}
	tests := []struct {
		name    string
		body    func(t *testing.T) []byte
		headers map[string]string
		status  int
		code    string
		message []string // substrings the message must hold
	}{
		{
			name:    "malformed JSON names line and column",
			body:    func(*testing.T) []byte { return []byte("{\"events\": [\n  {\"id\": }\n]}") },
			status:  http.StatusBadRequest,
			code:    intake.CodeMalformedJSON,
			message: []string{"line 2, column 10"},
		},
		{
			name:    "missing token",
			body:    func(t *testing.T) []byte { return batch(sale(t, "anon-1", location)) },
			headers: map[string]string{"Authorization": ""},
			status:  http.StatusUnauthorized,
			code:    intake.CodeUnauthorized,
		},
		{
			name:    "unknown token",
			body:    func(t *testing.T) []byte { return batch(sale(t, "anon-2", location)) },
			headers: map[string]string{"Authorization": "Bearer not-a-store-token"},
			status:  http.StatusUnauthorized,
			code:    intake.CodeUnauthorized,
		},
		{
			name:    "body over the limit",
			body:    padded,
			status:  http.StatusRequestEntityTooLarge,
			code:    intake.CodeBodyTooLarge,
			message: []string{"split the batch"},
		},
		{
			name:    "gzip body over the limit once decompressed",
			body:    func(t *testing.T) []byte { return gzipped(t, padded(t)) },
			headers: gz,
			status:  http.StatusRequestEntityTooLarge,
			code:    intake.CodeBodyTooLarge,
			message: []string{"after decompression"},
		},
		{
			name:    "too many events",
			body:    func(*testing.T) []byte { return batch(elevenEvents...) },
			status:  http.StatusRequestEntityTooLarge,
			code:    intake.CodeTooManyEvents,
			message: []string{"11 events", "limit is 10"},
		},
		{
			name:    "gzip header on a plain body",
			body:    func(t *testing.T) []byte { return batch(sale(t, "plain-1", location)) },
			headers: gz,
			status:  http.StatusBadRequest,
			code:    intake.CodeBadEncoding,
			message: []string{"not gzip"},
		},
		{
			name:    "truncated gzip",
			body:    func(t *testing.T) []byte { b := gzipped(t, batch(sale(t, "cut-1", location))); return b[:len(b)-12] },
			headers: gz,
			status:  http.StatusBadRequest,
			code:    intake.CodeBadEncoding,
		},
		{
			name:   "no events",
			body:   func(*testing.T) []byte { return []byte(`{"events": []}`) },
			status: http.StatusBadRequest,
			code:   intake.CodeEmptyBatch,
		},
		{
			name:    "not JSON",
			body:    func(t *testing.T) []byte { return batch(sale(t, "text-1", location)) },
			headers: map[string]string{"Content-Type": "text/plain"},
			status:  http.StatusUnsupportedMediaType,
			code:    intake.CodeUnsupported,
		},
	}
	h := setupIntake(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := h.post(t, tc.body(t), tc.headers)
			if a.status != tc.status || a.err.Code != tc.code {
				t.Fatalf("got %d %q, want %d %q: %s", a.status, a.err.Code, tc.status, tc.code, a.raw)
			}
			if a.err.Message == "" {
				t.Errorf("no message: %s", a.raw)
			}
			for _, m := range tc.message {
				if !strings.Contains(a.err.Message, m) {
					t.Errorf("message %q does not say %q", a.err.Message, m)
				}
			}
			if tc.status == http.StatusUnauthorized && a.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if ids := h.logIDs(t); len(ids) != 0 {
		t.Errorf("refused requests stored %v", ids)
	}
}

// TestBadInputEvents sends batches mixing valid and invalid events: each
// invalid one is rejected with its code and the field at fault, every valid
// one is stored, and the log holds exactly the valid ones.
func TestBadInputEvents(t *testing.T) {
	t.Parallel()
	h := setupIntake(t)
	type want struct {
		status  intake.Status
		code    string
		problem event.Problem // Field and Rule, when set
	}
	evs := []json.RawMessage{
		sale(t, "mix-ok-1", location),
		withPriceAsDecimal(t, sale(t, "mix-money", location)),
		sale(t, "mix-ok-2", location),
		withType(t, sale(t, "mix-type", location), "teleport"),
		sale(t, "mix-other-store", otherStore),
		json.RawMessage(`{"id": "mix-shape", "type": "sale", "bogus": true}`),
		sale(t, "mix-ok-3", location),
	}
	wants := []want{
		{status: intake.StatusAccepted},
		{status: intake.StatusRejected, code: intake.CodeInvalidEvent, problem: event.Problem{Field: "data.lines[0].unit_price", Rule: "integer_minor_units"}},
		{status: intake.StatusAccepted},
		{status: intake.StatusRejected, code: intake.CodeInvalidEvent, problem: event.Problem{Field: "type", Rule: "known_type"}},
		{status: intake.StatusRejected, code: intake.CodeWrongLocation},
		{status: intake.StatusRejected, code: intake.CodeInvalidEvent, problem: event.Problem{Field: "bogus", Rule: "known_field"}},
		{status: intake.StatusAccepted},
	}
	ids := []string{"mix-ok-1", "mix-money", "mix-ok-2", "mix-type", "mix-other-store", "mix-shape", "mix-ok-3"}
	valid := []string{"mix-ok-1", "mix-ok-2", "mix-ok-3"}

	check := func(t *testing.T, a answer, accepted intake.Status) map[string]int64 {
		t.Helper()
		if a.status != http.StatusOK {
			t.Fatalf("got %d, want 200 with per-event results: %s", a.status, a.raw)
		}
		if len(a.resp.Results) != len(evs) {
			t.Fatalf("%d results for %d events: %s", len(a.resp.Results), len(evs), a.raw)
		}
		seqs := map[string]int64{}
		for i, res := range a.resp.Results {
			w := wants[i]
			if w.status == intake.StatusAccepted {
				w.status = accepted
			}
			if res.Index != i || res.ID != ids[i] || res.Status != w.status {
				t.Errorf("result %d: index %d, id %q, %s; want %d, %q, %s: %s", i, res.Index, res.ID, res.Status, i, ids[i], w.status, a.raw)
				continue
			}
			if w.status != intake.StatusRejected {
				seqs[res.ID] = res.Seq
				continue
			}
			if res.Error == nil || res.Error.Code != w.code || res.Error.Message == "" {
				t.Errorf("result %d (%s): error %+v, want code %s with a message", i, ids[i], res.Error, w.code)
				continue
			}
			if w.problem.Field != "" && !slices.ContainsFunc(res.Error.Problems, func(p event.Problem) bool {
				return p.Field == w.problem.Field && p.Rule == w.problem.Rule && p.Message != ""
			}) {
				t.Errorf("result %d (%s): problems %+v do not name %s (%s)", i, ids[i], res.Error.Problems, w.problem.Field, w.problem.Rule)
			}
		}
		if got, wantN := a.resp.Rejected, len(evs)-len(valid); got != wantN {
			t.Errorf("rejected count %d, want %d", got, wantN)
		}
		return seqs
	}

	first := check(t, h.post(t, batch(evs...), nil), intake.StatusAccepted)
	if got := h.logIDs(t); !slices.Equal(got, valid) {
		t.Fatalf("the log holds %v; want exactly the valid events %v", got, valid)
	}
	// The same batch again, gzipped: the valid events are duplicates with
	// their first seqs, the invalid ones are rejected again, nothing new is
	// stored.
	again := check(t, h.post(t, gzipped(t, batch(evs...)), map[string]string{"Content-Encoding": "gzip"}), intake.StatusDuplicate)
	for id, seq := range first {
		if again[id] != seq {
			t.Errorf("%s: seq %d on the retry, %d at first", id, again[id], seq)
		}
	}
	if got := h.logIDs(t); !slices.Equal(got, valid) {
		t.Errorf("after the retry the log holds %v; want %v", got, valid)
	}
}

// TestGzipAccepted sends a gzip-compressed batch, as the edge does.
func TestGzipAccepted(t *testing.T) {
	t.Parallel()
	h := setupIntake(t)
	a := h.post(t, gzipped(t, batch(sale(t, "gz-1", location), sale(t, "gz-2", location))), map[string]string{"Content-Encoding": "gzip"})
	if a.status != http.StatusOK || a.resp.Accepted != 2 {
		t.Fatalf("got %d: %s; want both accepted", a.status, a.raw)
	}
	if got := h.logIDs(t); !slices.Equal(got, []string{"gz-1", "gz-2"}) {
		t.Errorf("the log holds %v", got)
	}
}
