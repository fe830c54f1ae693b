package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultPostgres is the PostgreSQL the postgres part uses by default.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Parts are the parts of the ingest benchmark, in the order they run.
var Parts = []string{"sqlite", "postgres", "latency", "drain", "redaction", "tracing"}

// Targets the report compares with. Missing one is reported, not failed:
// the machines the benchmark runs on are shared and noisy.
const (
	TargetRatio      = 0.7 // hub intake over the raw loop, per engine
	TargetLatencyP99 = 50  // ms, sale at the edge to availability on the hub's stream
	TargetDrainRatio = 0.8 // edge backlog drain over hub intake
)

// Options size a run. Zero fields take the defaults.
type Options struct {
	// Duration of each timed part: the hub intakes and the latency run.
	// Default 10s.
	Duration time.Duration
	// Postgres is the URL of the PostgreSQL to use; a fresh schema is
	// created there and dropped afterwards. Default DefaultPostgres.
	Postgres string
	// Parts to run (default all of Parts).
	Parts []string
	// Clients is how many concurrent clients post to the hub (default 16),
	// each RequestEvents events per request (default 100).
	Clients       int
	RequestEvents int
	// SKUs and Locations size the catalog (default 5,000 × 3).
	SKUs      int
	Locations int
	// Rate is the sales per second of the latency part (default 1,000).
	Rate int
	// Backlog is the edge backlog the drain part builds (default 100,000).
	Backlog int
	// CPUProfile, if set, is a file name prefix: each timed phase writes a
	// CPU profile PREFIX.<phase>.pprof (sqlite-hub, sqlite-raw, …).
	CPUProfile string
	// Progress receives progress lines (default: discarded).
	Progress io.Writer
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Postgres == "" {
		o.Postgres = DefaultPostgres
	}
	if len(o.Parts) == 0 {
		o.Parts = Parts
	}
	if o.Clients <= 0 {
		o.Clients = 16
	}
	if o.RequestEvents <= 0 {
		o.RequestEvents = 100
	}
	if o.SKUs <= 0 {
		o.SKUs = 5000
	}
	if o.Locations <= 0 {
		o.Locations = 3
	}
	if o.Rate <= 0 {
		o.Rate = 1000
	}
	if o.Backlog <= 0 {
		o.Backlog = 100_000
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Report is the outcome of a run; parts not run are nil.
type Report struct {
	SQLite   *Throughput `json:"sqlite,omitempty"`
	Postgres *Throughput `json:"postgres,omitempty"`
	Latency  *Latency    `json:"latency,omitempty"`
	Drain    *Drain      `json:"drain,omitempty"`
	// Redaction compares hub intake with first-hop redaction on and off.
	Redaction *Redaction `json:"redaction,omitempty"`
	// Tracing compares hub intake with OpenTelemetry tracing on and off.
	Tracing *Tracing `json:"tracing,omitempty"`
	Machine Machine  `json:"machine"`
}

// Machine is what the run ran on: on a shared machine, the load others put
// on it explains much of the spread between runs.
type Machine struct {
	CPUs int `json:"cpus"`
	// LoadBefore and LoadAfter are the one-minute load averages before and
	// after the run (0 where the platform does not tell).
	LoadBefore float64 `json:"load_avg_before"`
	LoadAfter  float64 `json:"load_avg_after"`
}

// loadAvg is the one-minute load average, or 0 where unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Throughput compares hub intake with a raw loop on one engine.
type Throughput struct {
	// Skipped says why the part did not run; nothing else is set then.
	Skipped string `json:"-"`
	// Error says why the part failed.
	Error string `json:"error,omitempty"`

	HubEventsPerS  float64 `json:"hub_events_per_s"`
	RawEventsPerS  float64 `json:"raw_events_per_s"`
	Ratio          float64 `json:"ratio"`
	Target         float64 `json:"target"`
	BatchEventsAvg float64 `json:"batch_events_avg"`
	AckP50Ms       float64 `json:"ack_p50_ms"`
	AckP99Ms       float64 `json:"ack_p99_ms"`
	Pass           bool    `json:"pass"`

	// Clients posted RequestEvents events per request; Events were stored
	// by the hub over Requests requests. HubEventsPerS counts the answers
	// in Seconds of steady load (ramp-ups and the last answers left out).
	Clients       int     `json:"clients"`
	RequestEvents int     `json:"request_events"`
	Events        int64   `json:"events"`
	Requests      int64   `json:"requests"`
	Seconds       float64 `json:"seconds"`
	// BatchRequestsAvg is the requests per group commit; CommitMsAvg the
	// time of one Append, FsyncMsAvg the COMMIT within it.
	BatchRequestsAvg float64 `json:"batch_requests_avg"`
	CommitMsAvg      float64 `json:"commit_ms_avg"`
	FsyncMsAvg       float64 `json:"fsync_ms_avg"`
	// RawBatch is the events per raw transaction; RawSeconds the time in
	// raw transactions.
	RawBatch   int     `json:"raw_batch"`
	RawSeconds float64 `json:"raw_seconds"`
	// HubCPUMicros and RawCPUMicros are the process's CPU time per event
	// stored (user + system; the hub's includes the in-process clients).
	// On a shared machine they are steadier than the rates.
	HubCPUMicros float64 `json:"hub_cpu_us_per_event"`
	RawCPUMicros float64 `json:"raw_cpu_us_per_event"`
	// HubServerCPUMicros and RawServerCPUMicros are a local PostgreSQL's
	// server CPU time per event (postgres part, Linux, when readable).
	HubServerCPUMicros float64 `json:"hub_server_cpu_us_per_event,omitempty"`
	RawServerCPUMicros float64 `json:"raw_server_cpu_us_per_event,omitempty"`
	// CPURatio is the raw loop's CPU per event over the hub's (server
	// included): the ratio again, by cost instead of by time.
	CPURatio float64 `json:"cpu_ratio"`
}

// MarshalJSON writes {"skipped": "..."} for a skipped part.
func (t *Throughput) MarshalJSON() ([]byte, error) {
	if t.Skipped != "" {
		return json.Marshal(map[string]string{"skipped": t.Skipped})
	}
	type plain Throughput
	return json.Marshal((*plain)(t))
}

// Latency is sale-to-availability through an edge and the hub.
type Latency struct {
	Error string `json:"error,omitempty"`

	RatePerS    int     `json:"rate_per_s"`
	Measured    int     `json:"measured"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	TargetP99Ms float64 `json:"target_p99_ms"`
	Pass        bool    `json:"pass"`

	// Sent sales were acknowledged by the edge at AchievedPerS; Unseen of
	// them never showed in the stream (an update names at most a few
	// causes). PosAckP99Ms is the edge's answer time to the till.
	Sent         int     `json:"sent"`
	AchievedPerS float64 `json:"achieved_per_s"`
	Unseen       int     `json:"unseen"`
	PosAckP99Ms  float64 `json:"pos_ack_p99_ms"`
	// CPUMicros is the process's CPU time per sale: till, edge, hub and
	// stream reader together.
	CPUMicros float64 `json:"cpu_us_per_sale"`
}

// Drain is the edge draining a backlog built while the hub was away.
type Drain struct {
	Error string `json:"error,omitempty"`

	Backlog             int     `json:"backlog"`
	EventsPerS          float64 `json:"events_per_s"`
	HubIntakeEventsPerS float64 `json:"hub_intake_events_per_s"`
	Ratio               float64 `json:"ratio"`
	Target              float64 `json:"target"`
	Pass                bool    `json:"pass"`

	// Seconds from the hub becoming reachable to backlog 0; FillEventsPerS
	// is how fast the edge took the backlog from the tills.
	Seconds        float64 `json:"seconds"`
	FillEventsPerS float64 `json:"fill_events_per_s"`
}

// Ingest runs the parts of the ingest benchmark in order. It returns the
// report of every part that ran and an error if any part failed (events
// lost, a server that would not start); missed targets are not errors.
func Ingest(ctx context.Context, opt Options) (*Report, error) {
	opt.defaults()
	for _, p := range opt.Parts {
		if !slices.Contains(Parts, p) {
			return nil, fmt.Errorf("bench: unknown part %q: use %s", p, strings.Join(Parts, ", "))
		}
	}
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	r := &runner{opt: opt, run: hex.EncodeToString(idb[:])}
	rep := &Report{Machine: Machine{CPUs: runtime.NumCPU(), LoadBefore: loadAvg()}}
	defer func() { rep.Machine.LoadAfter = loadAvg() }()
	var errs []error
	fail := func(part string, err error) string {
		err = fmt.Errorf("%s: %w", part, err)
		errs = append(errs, err)
		r.progress("%v", err)
		return err.Error()
	}
	want := func(p string) bool { return slices.Contains(opt.Parts, p) }
	if want("sqlite") {
		t, err := r.throughput(ctx, "sqlite")
		if err != nil {
			t.Error = fail("sqlite", err)
		}
		rep.SQLite = t
	}
	if want("postgres") {
		t, err := r.throughput(ctx, "postgres")
		if err != nil {
			t.Error = fail("postgres", err)
		}
		rep.Postgres = t
	}
	if want("latency") {
		l, err := r.latency(ctx)
		if err != nil {
			l.Error = fail("latency", err)
		}
		rep.Latency = l
	}
	if want("drain") {
		var intake float64
		if rep.SQLite != nil && rep.SQLite.Error == "" {
			intake = rep.SQLite.HubEventsPerS
		}
		d, err := r.drain(ctx, intake)
		if err != nil {
			d.Error = fail("drain", err)
		}
		rep.Drain = d
	}
	if want("redaction") {
		red, err := r.redaction(ctx)
		if err != nil {
			red.Error = fail("redaction", err)
		}
		rep.Redaction = red
	}
	if want("tracing") {
		tr, err := r.tracing(ctx)
		if err != nil {
			tr.Error = fail("tracing", err)
		}
		rep.Tracing = tr
	}
	return rep, errors.Join(errs...)
}

// runner carries a run's options and identity.
type runner struct {
	opt Options
	run string // random, so IDs never collide across runs on one PostgreSQL
	mu  sync.Mutex
}

// progress writes a line to Options.Progress; safe from any goroutine.
func (r *runner) progress(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opt.Progress, "bench: "+format+"\n", args...)
}

// profile starts a CPU profile of a phase when asked; the returned
// function stops it.
func (r *runner) profile(phase string) func() {
	if r.opt.CPUProfile == "" {
		return func() {}
	}
	name := r.opt.CPUProfile + "." + phase + ".pprof"
	f, err := os.Create(name)
	if err != nil {
		r.progress("cpu profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		r.progress("cpu profile: %v", err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		r.progress("cpu profile written to %s", name)
	}
}

// percentile returns the p-quantile (0 < p ≤ 1) of sorted values, by
// nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return round(a/b, 3)
}
