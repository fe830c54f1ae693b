package edge

import (
	"encoding/json"
	"testing"

	"github.com/tillsync/tillsync/internal/intake"
)

// FuzzHubAnswer feeds the uplink's reading of the hub's 200 answer fuzzed
// bodies for a batch of three events. An answer it takes must account for
// every event exactly once: an event is trimmed only if the hub said
// accepted or duplicate for it, and set aside only if the hub said
// rejected; anything else is an error, and the batch is sent again.
func FuzzHubAnswer(f *testing.F) {
	f.Add([]byte(`{"accepted":2,"duplicates":0,"rejected":1,"results":[{"index":0,"id":"a","status":"accepted","seq":101},` +
		`{"index":1,"id":"b","status":"rejected","error":{"code":"invalid_event","message":"data.lines: at least one line"}},{"index":2,"id":"c","status":"duplicate","seq":7}]}`))
	f.Add([]byte(`{"results":[{"index":2,"status":"accepted","seq":3},{"index":1,"status":"accepted","seq":2},{"index":0,"status":"accepted","seq":1}]}`))
	f.Add([]byte(`{"results":[{"index":0,"status":"accepted"},{"index":0,"status":"rejected"},{"index":1,"status":"accepted"}]}`))
	f.Add([]byte(`{"results":[{"index":0,"status":"accepted"},{"index":1,"status":"stored"},{"index":2,"status":"accepted"}]}`))
	f.Add([]byte(`{"results":[{"index":0,"status":"accepted"},{"index":1,"status":"accepted"},{"index":3,"status":"accepted"}]}`))
	f.Add([]byte(`{"results":[]}`))
	f.Add([]byte(`<html>proxy error</html>`))
	rows := []pendingRow{{seq: 11, body: []byte(`{"id":"a"}`)}, {seq: 12, body: []byte(`{"id":"b"}`)}, {seq: 13, body: []byte(`{"id":"c"}`)}}
	f.Fuzz(func(t *testing.T, body []byte) {
		synced, rejected, err := readAnswer(body, rows)
		if err != nil {
			if synced != nil || rejected != nil {
				t.Fatalf("an error with marks: %v", err)
			}
			return
		}
		var r intake.Response
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("took an answer that does not decode: %v", err)
		}
		said := map[int64]intake.Status{}
		for _, res := range r.Results {
			said[rows[res.Index].seq] = res.Status
		}
		if len(synced)+len(rejected) != len(rows) {
			t.Fatalf("%d synced and %d rejected of %d events: %s", len(synced), len(rejected), len(rows), body)
		}
		for seq := range synced {
			if s := said[seq]; s != intake.StatusAccepted && s != intake.StatusDuplicate {
				t.Fatalf("store_seq %d trimmed on status %q", seq, s)
			}
		}
		for seq := range rejected {
			if said[seq] != intake.StatusRejected {
				t.Fatalf("store_seq %d set aside on status %q", seq, said[seq])
			}
		}
	})
}
