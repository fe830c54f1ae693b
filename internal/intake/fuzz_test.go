package intake_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/intake"
)

// Body encodings the fuzzer chooses between.
const (
	plain     = iota // the body as it is
	gzipped          // the body gzipped, Content-Encoding: gzip
	falseGzip        // the body as it is, labelled gzip
	encodings
)

// FuzzHandler posts fuzzed bodies to POST /v1/events with a valid store
// token — as JSON, gzipped, or not gzip at all but labelled so — with a
// fuzzed Content-Type, under small limits. Whatever comes in, the handler
// answers 200 with one result per event in order, or a request error with
// a documented code and nothing stored; an event is stored only if it
// decodes, validates, belongs to the token's location and survives an
// encode/decode round trip unchanged.
func FuzzHandler(f *testing.F) {
	batch := func(evs ...any) []byte {
		b, err := json.Marshal(map[string]any{"events": evs})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	sale := et.Sale("sale-1", "s1", et.Base, et.L("TEE-1", 2))
	f.Add(batch(sale), uint8(plain), "application/json")
	f.Add(batch(sale, et.Return("ret-1", "s1", et.Base, "sale-1", et.L("TEE-1", 1)), et.Void("void-1", "s1", et.Base, "sale-1")), uint8(gzipped), "application/json; charset=utf-8")
	f.Add(batch(et.Adjust("adj-1", "s1", et.Base, et.L("TEE-1", -1)), et.Count("cnt-1", "s1", et.Base, et.L("CAP-2", 12)),
		et.TransferOut("tr-1", "s1", et.Base, "T1", "s2", et.L("TEE-1", 2)), et.Drawer("dr-1", "s1", et.Base, 12000)), uint8(plain), "")
	f.Add(batch(et.Sale("sale-2", "s2", et.Base, et.L("TEE-1", 1)), map[string]any{"id": "bad-1", "type": "sale"}, 42), uint8(plain), "application/json")
	f.Add([]byte(`{"events":[],"edge":{"id":"edge-s1","backlog":3,"oldest_unsynced_at":"2026-11-27T09:00:00Z"}}`), uint8(plain), "application/json")
	f.Add([]byte(`{"events":[{"id":"x"}]} trailing`), uint8(plain), "application/json")
	f.Add([]byte("{\"events\":\n[{\"id\":"), uint8(gzipped), "application/json")
	f.Add([]byte(`{"events":[`+strings.Repeat(`{},`, 60)+`{}]}`), uint8(plain), "application/json")
	f.Add([]byte(`{"evnts":[]}`), uint8(falseGzip), "text/plain")
	f.Add([]byte(`{"events":{"id":"x"}}`), uint8(plain), "application/json")

	f.Fuzz(func(t *testing.T, body []byte, enc uint8, contentType string) {
		sub := &fakeSubmitter{}
		h := &intake.Handler{
			Auth:      intake.Tokens{intake.HashToken(storeToken): {Name: "s1", Location: "s1"}},
			Committer: sub,
			Limits:    intake.Limits{MaxBodyBytes: 32 << 10, MaxEvents: 50},
		}
		sent := body
		if enc%encodings == gzipped {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(body)
			_ = zw.Close()
			sent = b.Bytes()
		}
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/events", bytes.NewReader(sent))
		req.Header = http.Header{"Authorization": {"Bearer " + storeToken}}
		if enc%encodings != plain {
			req.Header.Set("Content-Encoding", "gzip")
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		stored := sub.submitted()

		if w.Code != http.StatusOK {
			var e struct {
				Error *intake.Error `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Message == "" {
				t.Fatalf("HTTP %d with body %q: not an API error", w.Code, w.Body.Bytes())
			}
			want := map[int][]string{
				http.StatusBadRequest:            {intake.CodeMalformedJSON, intake.CodeBadEncoding, intake.CodeEmptyBatch},
				http.StatusRequestEntityTooLarge: {intake.CodeBodyTooLarge, intake.CodeTooManyEvents},
				http.StatusUnsupportedMediaType:  {intake.CodeUnsupported},
			}[w.Code]
			if !contains(want, e.Error.Code) {
				t.Fatalf("HTTP %d with code %q (%s)", w.Code, e.Error.Code, e.Error.Message)
			}
			if len(stored) > 0 {
				t.Fatalf("HTTP %d but %d events stored", w.Code, len(stored))
			}
			return
		}

		// 200: the body was a batch of 1…50 events; one result each, in order.
		var in intake.Batch
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("200 for a body that does not decode as a batch: %v", err)
		}
		if n := len(in.Events); n == 0 || n > 50 {
			t.Fatalf("200 for a batch of %d events", n)
		}
		var resp intake.Response
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("200 with an answer that does not decode: %v", err)
		}
		if len(resp.Results) != len(in.Events) {
			t.Fatalf("%d results for %d events", len(resp.Results), len(in.Events))
		}
		if resp.Accepted+resp.Duplicates+resp.Rejected != len(in.Events) || resp.Accepted+resp.Duplicates != len(stored) {
			t.Fatalf("counts %d+%d+%d for %d events, %d stored", resp.Accepted, resp.Duplicates, resp.Rejected, len(in.Events), len(stored))
		}
		k := 0
		for i, r := range resp.Results {
			if r.Index != i {
				t.Fatalf("result %d has index %d", i, r.Index)
			}
			if r.Status == intake.StatusRejected {
				if r.Error == nil || r.Error.Code == "" || r.Error.Message == "" {
					t.Fatalf("result %d rejected without a reason: %+v", i, r)
				}
				continue
			}
			e := stored[k]
			k++
			if e.ID != r.ID || e.Location != "s1" {
				t.Fatalf("result %d (%s) stored event %s for %q", i, r.ID, e.ID, e.Location)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("stored an invalid event %s: %v", e.ID, err)
			}
			again, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("stored event %s does not encode: %v", e.ID, err)
			}
			var back event.Event
			if err := json.Unmarshal(again, &back); err != nil {
				t.Fatalf("stored event %s does not decode from its own JSON %s: %v", e.ID, again, err)
			}
			if twice, _ := json.Marshal(&back); !bytes.Equal(twice, again) {
				t.Fatalf("stored event %s changes in a round trip:\n%s\n%s", e.ID, again, twice)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
