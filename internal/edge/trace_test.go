package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/obs"
)

// acceptAll stores nothing and accepts every event (a fake hub's committer).
type acceptAll struct{}

func (acceptAll) Submit(_ context.Context, events []*event.Event) ([]intake.Outcome, error) {
	out := make([]intake.Outcome, len(events))
	for i := range out {
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: int64(i + 1)}
	}
	return out, nil
}

// batchRecorder is a fake hub that keeps every uplink body and header.
type batchRecorder struct {
	mu      sync.Mutex
	batches []intake.Batch
	tps     []string
	next    http.Handler
}

func (b *batchRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/events" {
		w.WriteHeader(http.StatusNoContent) // status, snapshot: not needed here
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var batch intake.Batch
	_ = json.Unmarshal(raw, &batch)
	b.mu.Lock()
	b.batches = append(b.batches, batch)
	b.tps = append(b.tps, r.Header.Get("traceparent"))
	b.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(raw))
	b.next.ServeHTTP(w, r)
}

func (b *batchRecorder) first(t *testing.T) (intake.Batch, string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b.mu.Lock()
		if len(b.batches) > 0 {
			defer b.mu.Unlock()
			return b.batches[0], b.tps[0]
		}
		b.mu.Unlock()
	}
	t.Fatal("the edge sent no uplink batch")
	return intake.Batch{}, ""
}

// With tracing off the uplink batch is what it always was (an older hub
// accepts it); with tracing on it carries each event's traceparent, in the
// trace of the POS request that brought the event, and the batch's own.
func TestUplinkTraceparents(t *testing.T) {
	for _, traced := range []bool{false, true} {
		rec := &batchRecorder{next: &intake.Handler{Auth: intake.Fixed("s1"), Committer: acceptAll{}}}
		hub := httptest.NewServer(rec)
		cfg := edgeConfig(hub.URL, filepath.Join(t.TempDir(), "edge.db"))
		exp := tracetest.NewInMemoryExporter()
		if traced {
			cfg.Telemetry.Exporter = exp
		}
		e := startEdge(t, cfg)
		body, _ := json.Marshal(map[string]any{"events": []any{et.Sale("tp-1", "s1", et.Base, et.L("A", 1))}})
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.url+"/v1/events", bytes.NewReader(body))
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		batch, header := rec.first(t)
		if !traced {
			if batch.Traceparents != nil || header != "" {
				t.Errorf("tracing off: the batch carries traceparents %v, header %q", batch.Traceparents, header)
			}
		} else {
			sc, ok := obs.ParseTraceparent(batch.Traceparents[0])
			hsc, hok := obs.ParseTraceparent(header)
			if len(batch.Traceparents) != 1 || !ok || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("tracing on: traceparents %v, want the POS request's trace", batch.Traceparents)
			}
			if !hok || hsc.TraceID() != sc.TraceID() || hsc.SpanID() == sc.SpanID() {
				t.Errorf("tracing on: batch traceparent %q, want the uplink span in the event's trace", header)
			}
		}
		e.stop()
		hub.Close()
	}
}
