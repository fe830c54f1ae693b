package bench

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/store/storetest"
)

// TestIngestSmoke runs every part at a tiny size and checks only that it
// worked: nothing lost, every number measured. Speed is not asserted.
func TestIngestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts hubs and edges; skipped with -short")
	}
	pg := os.Getenv("TILLSYNC_TEST_POSTGRES")
	if pg == "" {
		pg = storetest.DefaultPostgres
	}
	var progress strings.Builder
	opt := Options{
		Duration: time.Second, Postgres: pg, Clients: 4, RequestEvents: 20,
		SKUs: 300, Locations: 2, Rate: 200, Backlog: 2000, Progress: &progress,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Ingest(ctx, opt)
	if err != nil {
		t.Fatalf("Ingest: %v\nprogress:\n%s", err, progress.String())
	}

	checkThroughput := func(name string, r *Throughput) {
		t.Helper()
		if r == nil {
			t.Fatalf("%s: no result", name)
		}
		if r.Error != "" {
			t.Fatalf("%s: %s", name, r.Error)
		}
		positive := map[string]float64{
			"hub_events_per_s": r.HubEventsPerS, "raw_events_per_s": r.RawEventsPerS, "ratio": r.Ratio,
			"batch_events_avg": r.BatchEventsAvg, "ack_p50_ms": r.AckP50Ms, "ack_p99_ms": r.AckP99Ms,
			"events": float64(r.Events),
		}
		for k, v := range positive {
			if v <= 0 {
				t.Errorf("%s: %s = %v, want > 0", name, k, v)
			}
		}
		if r.Events%int64(opt.RequestEvents) != 0 {
			t.Errorf("%s: %d events stored, not a whole number of %d-event requests", name, r.Events, opt.RequestEvents)
		}
	}
	checkThroughput("sqlite", rep.SQLite)
	switch {
	case rep.Postgres == nil:
		t.Error("postgres: no result")
	case rep.Postgres.Skipped != "":
		if storetest.RequireServices() {
			t.Errorf("postgres skipped but required (TILLSYNC_REQUIRE_SERVICES=1): %s", rep.Postgres.Skipped)
		} else {
			t.Logf("postgres skipped: %s", rep.Postgres.Skipped)
		}
	default:
		checkThroughput("postgres", rep.Postgres)
	}

	l := rep.Latency
	if l == nil || l.Error != "" {
		t.Fatalf("latency: %+v", l)
	}
	if l.Sent != opt.Rate || l.Measured <= 0 || l.Measured+l.Unseen != l.Sent || l.P50Ms <= 0 || l.P99Ms < l.P50Ms || l.MaxMs < l.P99Ms {
		t.Errorf("latency: %+v", l)
	}

	d := rep.Drain
	if d == nil || d.Error != "" {
		t.Fatalf("drain: %+v", d)
	}
	if d.Backlog != opt.Backlog || d.EventsPerS <= 0 || d.Ratio <= 0 || d.HubIntakeEventsPerS != rep.SQLite.HubEventsPerS {
		t.Errorf("drain: %+v", d)
	}

	var out strings.Builder
	if err := WriteTable(&out, rep, opt); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ratio hub/raw", "p50 / p99 / max", "drained"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for part, keys := range map[string][]string{
		"sqlite":  {"hub_events_per_s", "raw_events_per_s", "ratio", "target", "batch_events_avg", "ack_p50_ms", "ack_p99_ms"},
		"latency": {"rate_per_s", "measured", "p50_ms", "p99_ms", "max_ms", "target_p99_ms"},
		"drain":   {"backlog", "events_per_s", "hub_intake_events_per_s", "ratio", "target"},
	} {
		for _, k := range keys {
			if _, ok := back[part][k]; !ok {
				t.Errorf("JSON %s lacks %q: %s", part, k, b)
			}
		}
	}
}

// A skipped part is reported as {"skipped": why} and nothing else.
func TestSkippedJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(&Throughput{Skipped: "PostgreSQL unreachable", Target: TargetRatio})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"skipped":"PostgreSQL unreachable"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestGateHoldsUntilOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cat := newCatalog(10, 1)
	h, err := startHub(ctx, "sqlite:"+t.TempDir()+"/hub.db", cat)
	if err != nil {
		t.Fatal(err)
	}
	defer h.stop()
	g, err := newGate(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	c := newClient(1)
	got := make(chan error, 1)
	go func() {
		_, err := hubHead(ctx, c, "http://"+g.addr())
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("answered through a closed gate (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	g.open()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the gate opened")
	}
}
