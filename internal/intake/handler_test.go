package intake_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/intake"
)

// fakeSubmitter stands in for the committer: it records what it is given
// and answers "accepted" (seq 100, 101, …) or, for IDs starting with
// "dup-", "duplicate" with seq 7.
type fakeSubmitter struct {
	mu     sync.Mutex
	got    []*event.Event
	calls  int
	err    error
	nextSq int64
}

func (f *fakeSubmitter) Submit(_ context.Context, events []*event.Event) ([]intake.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	f.got = append(f.got, events...)
	out := make([]intake.Outcome, len(events))
	for i, e := range events {
		if strings.HasPrefix(e.ID, "dup-") {
			out[i] = intake.Outcome{Status: intake.StatusDuplicate, Seq: 7}
			continue
		}
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: 100 + f.nextSq}
		f.nextSq++
	}
	return out, nil
}

func (f *fakeSubmitter) submitted() []*event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*event.Event(nil), f.got...)
}

const (
	storeToken  = "store-1-token"
	sourceToken = "web-shop-token"
)

type bundle struct {
	h   *intake.Handler
	sub *fakeSubmitter
}

// setup returns a handler authenticating a store token for s1 and a source
// token for s1 and s2.
func setup(t *testing.T) bundle {
	t.Helper()
	sub := &fakeSubmitter{}
	h := &intake.Handler{
		Auth: intake.Tokens{
			intake.HashToken(storeToken):  {Name: "s1", Location: "s1"},
			intake.HashToken(sourceToken): {Name: "web-shop", Locations: map[string]bool{"s1": true, "s2": true}},
		},
		Committer: sub,
	}
	return bundle{h: h, sub: sub}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// body builds a request body from raw event JSON.
func body(t *testing.T, events ...json.RawMessage) []byte {
	t.Helper()
	return mustJSON(t, intake.Batch{Events: events})
}

type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func post(t *testing.T, h http.Handler, token string, b []byte, opts ...reqOpt) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/events", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decodeResponse(t *testing.T, w *httptest.ResponseRecorder) intake.Response {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	var resp intake.Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response does not decode: %v\n%s", err, w.Body)
	}
	return resp
}

func decodeError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) intake.Error {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var e struct {
		Error intake.Error `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body does not decode: %v\n%s", err, w.Body)
	}
	if e.Error.Code != code {
		t.Fatalf("error code %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	return e.Error
}

func TestHandlerPerEventResultsInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	valid := et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1))
	dup := et.Sale("dup-1", "s1", et.Base, et.L("JKT", 1))
	noZone := et.Sale("sale-2", "s1", et.Base, et.L("JKT", 1))
	noZone.Zone = ""
	other := et.Sale("sale-3", "s2", et.Base, et.L("JKT", 1))
	last := et.Receive("rcv-1", "s1", et.Base, et.L("JKT", 5))

	w := post(t, b.h, storeToken, body(t,
		mustJSON(t, valid), mustJSON(t, noZone), mustJSON(t, dup), mustJSON(t, other), mustJSON(t, last)))
	resp := decodeResponse(t, w)

	want := []struct {
		id     string
		status intake.Status
		seq    int64
		code   string
	}{
		{"sale-1", intake.StatusAccepted, 100, ""},
		{"sale-2", intake.StatusRejected, 0, intake.CodeInvalidEvent},
		{"dup-1", intake.StatusDuplicate, 7, ""},
		{"sale-3", intake.StatusRejected, 0, intake.CodeWrongLocation},
		{"rcv-1", intake.StatusAccepted, 101, ""},
	}
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(resp.Results), len(want), resp.Results)
	}
	for i, w := range want {
		r := resp.Results[i]
		code := ""
		if r.Error != nil {
			code = r.Error.Code
		}
		if r.Index != i || r.ID != w.id || r.Status != w.status || r.Seq != w.seq || code != w.code {
			t.Errorf("result %d = {index %d id %q %s seq %d code %q}, want {index %d id %q %s seq %d code %q}",
				i, r.Index, r.ID, r.Status, r.Seq, code, i, w.id, w.status, w.seq, w.code)
		}
	}
	if resp.Accepted != 2 || resp.Duplicates != 1 || resp.Rejected != 2 {
		t.Errorf("counts accepted %d duplicates %d rejected %d, want 2 1 2", resp.Accepted, resp.Duplicates, resp.Rejected)
	}
	if p := resp.Results[1].Error.Problems; len(p) != 1 || p[0].Field != "zone" {
		t.Errorf("invalid event problems %+v, want one naming zone", p)
	}
	// Only the valid events reach the committer, in request order.
	var ids []string
	for _, e := range b.sub.submitted() {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, ","); got != "sale-1,dup-1,rcv-1" {
		t.Errorf("submitted %s, want sale-1,dup-1,rcv-1", got)
	}
}

func TestHandlerAllRejectedSkipsTheCommitter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := et.Sale("sale-1", "s2", et.Base, et.L("JKT", 1))
	resp := decodeResponse(t, post(t, b.h, storeToken, body(t, mustJSON(t, bad))))
	if resp.Rejected != 1 || b.sub.calls != 0 {
		t.Errorf("rejected %d, committer calls %d; want 1 and 0", resp.Rejected, b.sub.calls)
	}
}

func TestHandlerGzip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body(t, mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))))
	_ = zw.Close()

	resp := decodeResponse(t, post(t, b.h, storeToken, buf.Bytes(), withHeader("Content-Encoding", "gzip")))
	if resp.Accepted != 1 {
		t.Errorf("gzip body: %+v", resp)
	}
	w := post(t, b.h, storeToken, []byte(`{"events":[]}`), withHeader("Content-Encoding", "gzip"))
	decodeError(t, w, http.StatusBadRequest, intake.CodeBadEncoding)
	w = post(t, b.h, storeToken, buf.Bytes(), withHeader("Content-Encoding", "br"))
	decodeError(t, w, http.StatusUnsupportedMediaType, intake.CodeUnsupported)
}

func TestHandlerContentType(t *testing.T) {
	t.Parallel()
	ok := []byte(`{"events":[` + string(mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))) + `]}`)
	for _, tc := range []struct {
		ct     string
		status int
	}{
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"", http.StatusOK}, // curl without -H: accepted
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"not a media type;;", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.ct, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := post(t, b.h, storeToken, ok, func(r *http.Request) {
				if tc.ct == "" {
					r.Header.Del("Content-Type")
				} else {
					r.Header.Set("Content-Type", tc.ct)
				}
			})
			if w.Code != tc.status {
				t.Fatalf("Content-Type %q: status %d, want %d: %s", tc.ct, w.Code, tc.status, w.Body)
			}
			if tc.status != http.StatusOK {
				decodeError(t, w, tc.status, intake.CodeUnsupported)
			}
		})
	}
}

func TestHandlerUnauthorized(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, header string }{
		{"no header", ""},
		{"unknown token", "Bearer nope"},
		{"wrong scheme", "Basic " + storeToken},
		{"empty token", "Bearer   "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := post(t, b.h, "", body(t, mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))),
				withHeader("Authorization", tc.header))
			decodeError(t, w, http.StatusUnauthorized, intake.CodeUnauthorized)
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if b.sub.calls != 0 {
				t.Error("an unauthenticated request reached the committer")
			}
		})
	}
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := post(t, b.h, "", body(t, mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))),
			withHeader("Authorization", "bearer "+storeToken))
		decodeResponse(t, w)
	})
}

func TestHandlerLocations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, token, location string
		want                  intake.Status
		msg                   string
	}{
		{"store writes its own location", storeToken, "s1", intake.StatusAccepted, ""},
		{"store may not write another", storeToken, "s2", intake.StatusRejected, `location "s1", not "s2"`},
		{"source writes a listed location", sourceToken, "s1", intake.StatusAccepted, ""},
		{"source writes another listed location", sourceToken, "s2", intake.StatusAccepted, ""},
		{"source may not write an unlisted location", sourceToken, "s3", intake.StatusRejected, `source "web-shop"'s locations, not "s3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			resp := decodeResponse(t, post(t, b.h, tc.token, body(t, mustJSON(t, et.Sale("sale-1", tc.location, et.Base, et.L("JKT", 1))))))
			r := resp.Results[0]
			if r.Status != tc.want {
				t.Fatalf("status %s, want %s (%+v)", r.Status, tc.want, r.Error)
			}
			if tc.want == intake.StatusRejected {
				if r.Error == nil || r.Error.Code != intake.CodeWrongLocation || !strings.Contains(r.Error.Message, tc.msg) {
					t.Errorf("error %+v, want %s naming %s", r.Error, intake.CodeWrongLocation, tc.msg)
				}
				if b.sub.calls != 0 {
					t.Error("an event for a forbidden location reached the committer")
				}
			}
		})
	}
}

func TestPrincipalAllows(t *testing.T) {
	t.Parallel()
	store := intake.Principal{Name: "s1", Location: "s1"}
	source := intake.Principal{Name: "shop", Locations: map[string]bool{"s1": true, "wh": true}}
	for _, tc := range []struct {
		p    intake.Principal
		loc  string
		want bool
	}{
		{store, "s1", true},
		{store, "s2", false},
		{source, "s1", true},
		{source, "wh", true},
		{source, "s2", false},
		{intake.Principal{Location: "s1", Locations: map[string]bool{"s2": true}}, "s2", true},
	} {
		if got := tc.p.Allows(tc.loc); got != tc.want {
			t.Errorf("%+v.Allows(%q) = %v, want %v", tc.p, tc.loc, got, tc.want)
		}
	}
	fixed, err := intake.Fixed("edge-1").Authenticate(httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", nil))
	if err != nil || !fixed.Allows("edge-1") || fixed.Allows("s1") {
		t.Errorf("Fixed(edge-1) = %+v, %v; want a principal for edge-1 only", fixed, err)
	}
}

func TestHandlerLimits(t *testing.T) {
	t.Parallel()
	ev := mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))
	three := body(t, ev, ev, ev)
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte(`{"events":[` + strings.Repeat(" ", 1<<20) + `]}`))
	_ = zw.Close()

	for _, tc := range []struct {
		name   string
		limits intake.Limits
		body   []byte
		opts   []reqOpt
		code   string
	}{
		{"too many events", intake.Limits{MaxEvents: 2}, three, nil, intake.CodeTooManyEvents},
		{"body too large", intake.Limits{MaxBodyBytes: int64(len(three) - 1)}, three, nil, intake.CodeBodyTooLarge},
		{"too large after decompression", intake.Limits{MaxBodyBytes: 64 << 10}, bomb.Bytes(),
			[]reqOpt{withHeader("Content-Encoding", "gzip")}, intake.CodeBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.h.Limits = tc.limits
			e := decodeError(t, post(t, b.h, storeToken, tc.body, tc.opts...), http.StatusRequestEntityTooLarge, tc.code)
			if !strings.Contains(e.Message, "split the batch") {
				t.Errorf("message %q does not say how to fix it", e.Message)
			}
			if b.sub.calls != 0 {
				t.Error("an over-limit request reached the committer")
			}
		})
	}
	t.Run("exactly at the limits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.h.Limits = intake.Limits{MaxEvents: 3, MaxBodyBytes: int64(len(three))}
		if resp := decodeResponse(t, post(t, b.h, storeToken, three)); len(resp.Results) != 3 {
			t.Errorf("%d results, want 3", len(resp.Results))
		}
	})
}

func TestHandlerBadBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, code string
		msg              []string
	}{
		{"empty batch", `{"events": []}`, intake.CodeEmptyBatch, []string{"no events"}},
		{"no events key", `{}`, intake.CodeEmptyBatch, []string{"no events"}},
		{"empty body", ``, intake.CodeMalformedJSON, []string{"empty body"}},
		{"syntax error names line and column", "{\n  \"events\": [\n    {\"id\": \"a\",,}\n  ]\n}",
			intake.CodeMalformedJSON, []string{"line 3, column 16"}},
		{"syntax error at the start of a line", "{\n]", intake.CodeMalformedJSON, []string{"line 2, column 1"}},
		{"wrong type for events", `{"events": {"id": "a"}}`, intake.CodeMalformedJSON, []string{`"events"`}},
		{"unknown top-level key", `{"events": [], "evnts": []}`, intake.CodeMalformedJSON, []string{"evnts"}},
		{"trailing data", `{"events": [{}]} {"events": []}`, intake.CodeMalformedJSON, []string{"after the JSON object"}},
		{"trailing bracket", `{"events": [{}]}]`, intake.CodeMalformedJSON, []string{"after the JSON object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			e := decodeError(t, post(t, b.h, storeToken, []byte(tc.body)), http.StatusBadRequest, tc.code)
			for _, m := range tc.msg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not contain %q", e.Message, m)
				}
			}
		})
	}
	t.Run("trailing whitespace is fine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		decodeResponse(t, post(t, b.h, storeToken, append(body(t, mustJSON(t, et.Sale("s", "s1", et.Base, et.L("J", 1)))), "\n \t\r\n"...)))
	})
}

func TestHandlerMethod(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/v1/events", nil))
	decodeError(t, w, http.StatusMethodNotAllowed, intake.CodeMethod)
	if w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("Allow %q, want POST", w.Header().Get("Allow"))
	}
}

func TestHandlerUndecodableEventNamesItsID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))
	unknownType := json.RawMessage(`{"id": "tele-1", "type": "teleport", "location": "s1", "source": "pos",
		"occurred_at": "2026-11-27T10:00:00Z", "zone": "Europe/Berlin", "data": {}}`)
	badQtyKind := json.RawMessage(`{"id": "sale-9", "type": "sale", "location": "s1", "source": "pos",
		"occurred_at": "2026-11-27T10:00:00Z", "zone": "Europe/Berlin", "data": {"lines": "many"}}`)
	notAnObject := json.RawMessage(`42`)
	resp := decodeResponse(t, post(t, b.h, storeToken, body(t, good, unknownType, badQtyKind, notAnObject)))
	for i, want := range []struct{ id, field string }{{"tele-1", "type"}, {"sale-9", "data.lines"}, {"", ""}} {
		r := resp.Results[i+1]
		if r.ID != want.id || r.Status != intake.StatusRejected || r.Error == nil || r.Error.Code != intake.CodeInvalidEvent {
			t.Errorf("result %d = %+v, want id %q rejected %s", i+1, r, want.id, intake.CodeInvalidEvent)
			continue
		}
		if want.field != "" && (len(r.Error.Problems) != 1 || r.Error.Problems[0].Field != want.field) {
			t.Errorf("result %d problems %+v, want one naming %s", i+1, r.Error.Problems, want.field)
		}
	}
	if resp.Results[0].Status != intake.StatusAccepted {
		t.Errorf("the good event beside them: %+v", resp.Results[0])
	}
}

func TestHandlerReceivedAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	b := setup(t)
	b.h.Now = func() time.Time { return now }

	absent := et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1))
	absent.ReceivedAt = time.Time{}
	present := et.Sale("sale-2", "s1", et.Base, et.L("JKT", 1))
	present.ReceivedAt = et.Base.Add(time.Minute)
	decodeResponse(t, post(t, b.h, storeToken, body(t, mustJSON(t, absent), mustJSON(t, present))))

	got := b.sub.submitted()
	if len(got) != 2 {
		t.Fatalf("%d events submitted, want 2", len(got))
	}
	if !got[0].ReceivedAt.Equal(now) || got[0].ReceivedAt.Location() != time.UTC {
		t.Errorf("received_at stamped %v, want %v in UTC", got[0].ReceivedAt, now.UTC())
	}
	if !got[1].ReceivedAt.Equal(present.ReceivedAt) {
		t.Errorf("received_at %v was overwritten; want the first hop's %v kept", got[1].ReceivedAt, present.ReceivedAt)
	}
}

func TestHandlerPrepareRunsBeforeValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var sawReceived time.Time
	b.h.Prepare = func(e *event.Event) {
		sawReceived = e.ReceivedAt
		if e.Location == "" {
			e.Location = "s1"
		}
		if e.Zone == "" {
			e.Zone = "Europe/Berlin"
		}
	}
	bare := et.Sale("sale-1", "", et.Base, et.L("JKT", 1))
	bare.Zone, bare.ReceivedAt = "", time.Time{}
	resp := decodeResponse(t, post(t, b.h, storeToken, body(t, mustJSON(t, bare))))
	if resp.Accepted != 1 {
		t.Fatalf("an event completed by Prepare was not accepted: %+v", resp.Results[0])
	}
	if sawReceived.IsZero() {
		t.Error("Prepare ran before received_at was stamped")
	}
	if e := b.sub.submitted()[0]; e.Location != "s1" || e.Zone != "Europe/Berlin" {
		t.Errorf("submitted %s/%s, want Prepare's s1/Europe/Berlin", e.Location, e.Zone)
	}

	// Without Prepare the same event is invalid.
	b2 := setup(t)
	resp = decodeResponse(t, post(t, b2.h, storeToken, body(t, mustJSON(t, bare))))
	if resp.Rejected != 1 {
		t.Errorf("the bare event passed validation without Prepare: %+v", resp.Results[0])
	}
}

func TestHandlerCommitFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err        error
		status     int
		code       string
		retryAfter bool
	}{
		{intake.ErrOverloaded, http.StatusServiceUnavailable, intake.CodeUnavailable, true},
		{fmt.Errorf("wrapped: %w", intake.ErrClosed), http.StatusServiceUnavailable, intake.CodeUnavailable, true},
		{errors.New("disk full"), http.StatusInternalServerError, intake.CodeStorage, false},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.sub.err = tc.err
			var observed bool
			b.h.Observe = func(context.Context, intake.Principal, *intake.EdgeReport, *intake.Response) { observed = true }
			w := post(t, b.h, storeToken, body(t, mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))))
			decodeError(t, w, tc.status, tc.code)
			if got := w.Header().Get("Retry-After") != ""; got != tc.retryAfter {
				t.Errorf("Retry-After present %v, want %v", got, tc.retryAfter)
			}
			if observed {
				t.Error("Observe was told about a request that stored nothing")
			}
		})
	}
}

func TestHandlerObserve(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var (
		gotP    intake.Principal
		gotEdge *intake.EdgeReport
		gotResp *intake.Response
	)
	b.h.Observe = func(_ context.Context, p intake.Principal, edge *intake.EdgeReport, resp *intake.Response) {
		gotP, gotEdge, gotResp = p, edge, resp
	}
	oldest := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	raw := mustJSON(t, intake.Batch{
		Events: []json.RawMessage{mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1)))},
		Edge:   &intake.EdgeReport{ID: "edge-a", Backlog: 12, OldestUnsyncedAt: oldest},
	})
	decodeResponse(t, post(t, b.h, storeToken, raw))
	if gotP.Location != "s1" || gotP.Name != "s1" {
		t.Errorf("Observe principal %+v", gotP)
	}
	if gotEdge == nil || gotEdge.ID != "edge-a" || gotEdge.Backlog != 12 || !gotEdge.OldestUnsyncedAt.Equal(oldest) {
		t.Errorf("Observe edge report %+v", gotEdge)
	}
	if gotResp == nil || gotResp.Accepted != 1 {
		t.Errorf("Observe response %+v", gotResp)
	}
}

func TestHandlerOverHTTP(t *testing.T) {
	t.Parallel()
	// The same handler behind a real server, with the committer in front of
	// a trivial sink: the wiring the hub and the edge use.
	c := intake.NewCommitter(intake.SinkFunc(func(_ context.Context, evs []*event.Event) ([]intake.Outcome, error) {
		out := make([]intake.Outcome, len(evs))
		for i := range out {
			out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: int64(i + 1)}
		}
		return out, nil
	}), intake.CommitterConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	srv := httptest.NewServer(&intake.Handler{Auth: intake.Fixed("s1"), Committer: c})
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/v1/events",
		bytes.NewReader(body(t, mustJSON(t, et.Sale("sale-1", "s1", et.Base, et.L("JKT", 1))))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var resp intake.Response
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, decode %v", res.StatusCode, err)
	}
	if resp.Accepted != 1 || resp.Results[0].Seq != 1 {
		t.Errorf("response %+v", resp)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}
