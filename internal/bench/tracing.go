package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tillsync/tillsync/internal/config"
)

// TargetTracing is the least share of intake throughput that tracing (on,
// every trace sampled) may leave.
const TargetTracing = 0.9

// Tracing is hub intake over HTTP with OpenTelemetry tracing on (every
// request sampled, spans handed to an exporter that drops them, so the
// cost measured is tillsync's and the SDK's, not a collector's) against a
// hub with tracing off, in alternating rounds of one run.
type Tracing struct {
	OnEventsPerS  float64 `json:"on_events_per_s"`
	OffEventsPerS float64 `json:"off_events_per_s"`
	Ratio         float64 `json:"ratio"`
	Target        float64 `json:"target"`
	Pass          bool    `json:"pass"`
	Rounds        int     `json:"rounds"`
	// OnCPUPerEvent and OffCPUPerEvent are the process's CPU time (hubs and
	// clients) per stored event, µs; CPURatio is off/on — steadier than
	// throughput on a busy machine.
	OnCPUPerEvent  float64 `json:"on_cpu_us_per_event"`
	OffCPUPerEvent float64 `json:"off_cpu_us_per_event"`
	CPURatio       float64 `json:"cpu_ratio"`
	// Spans is how many spans the traced hub ended.
	Spans int64  `json:"spans"`
	Error string `json:"error,omitempty"`
}

// dropExporter counts spans and drops them.
type dropExporter struct{ n atomic.Int64 }

func (d *dropExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	d.n.Add(int64(len(spans)))
	return nil
}

func (d *dropExporter) Shutdown(context.Context) error { return nil }

// tracing measures what tracing costs intake: two SQLite hubs, one traced,
// driven by the same clients in alternating rounds so both see the same
// machine.
func (r *runner) tracing(ctx context.Context) (*Tracing, error) {
	opt := r.opt
	res := &Tracing{Target: TargetTracing}
	cat := newCatalog(opt.SKUs, opt.Locations)
	now := time.Now().UTC()
	exp := &dropExporter{}
	type side struct {
		h       *runningHub
		streams []*stream
		next    []int64
		events  int64
		dur     time.Duration
		stored  int64
		cpu     time.Duration
	}
	var sides [2]*side // 0: off, 1: on
	for i := range sides {
		eng, err := sqliteEngine()
		if err != nil {
			return res, err
		}
		defer eng.cleanup()
		var tune func(*config.Hub)
		if i == 1 {
			tune = func(c *config.Hub) { c.Telemetry.Exporter = exp }
		}
		h, err := startHubWith(ctx, eng.hubDSN, cat, tune)
		if err != nil {
			return res, err
		}
		defer h.stop()
		s := &side{h: h, streams: make([]*stream, opt.Clients), next: make([]int64, opt.Clients)}
		for j := range s.streams {
			loc := cat.locations[j%len(cat.locations)]
			if s.streams[j], err = newStream(newGenerator(cat, uint64(j+201)), (*generator).next, fmt.Sprintf("%s-t%d-%02d-", r.run, i, j), loc, 1024, now, false); err != nil {
				return res, err
			}
		}
		sides[i] = s
	}
	client := newClient(opt.Clients)
	defer client.CloseIdleConnections()
	for i, s := range sides {
		if _, err := seedHub(ctx, client, s.h.url, cat, fmt.Sprintf("%s-tseed%d", r.run, i), now); err != nil {
			return res, err
		}
	}
	rounds := max(int(opt.Duration/(2500*time.Millisecond))/2*2, 2)
	r.progress("tracing: hub intake with tracing on and off, %d alternating rounds of %s", rounds, opt.Duration/time.Duration(rounds))
	for round := range rounds {
		on := round%4 == 0 || round%4 == 3 // on, off, off, on, …: neither side always goes first
		s := sides[0]
		if on {
			s = sides[1]
		}
		cpu := cpuTime()
		load, err := r.drive(ctx, "tracing", client, s.h.url, s.streams, s.next, opt.RequestEvents, opt.Duration/time.Duration(rounds))
		if err != nil {
			return res, err
		}
		s.cpu, s.stored = s.cpu+cpuTime()-cpu, s.stored+load.events
		r.progress("tracing: round %d (tracing %v): %d events in %s", round+1, on, load.steadyEvents, load.steady.Round(time.Millisecond))
		s.events, s.dur = s.events+load.steadyEvents, s.dur+load.steady
	}
	res.Rounds, res.Spans = rounds, exp.n.Load()
	if d := sides[1].dur; d > 0 {
		res.OnEventsPerS = float64(sides[1].events) / d.Seconds()
	}
	if d := sides[0].dur; d > 0 {
		res.OffEventsPerS = float64(sides[0].events) / d.Seconds()
	}
	if res.OffEventsPerS > 0 {
		res.Ratio = res.OnEventsPerS / res.OffEventsPerS
	}
	if sides[1].stored > 0 && sides[0].stored > 0 {
		res.OnCPUPerEvent = float64(sides[1].cpu.Microseconds()) / float64(sides[1].stored)
		res.OffCPUPerEvent = float64(sides[0].cpu.Microseconds()) / float64(sides[0].stored)
		if res.OnCPUPerEvent > 0 {
			res.CPURatio = res.OffCPUPerEvent / res.OnCPUPerEvent
		}
	}
	res.Pass = res.Ratio >= TargetTracing
	r.progress("tracing: %.0f events/s with, %.0f without: ratio %.2f (target ≥ %.1f); CPU %.0f / %.0f µs per event; %d spans",
		res.OnEventsPerS, res.OffEventsPerS, res.Ratio, TargetTracing, res.OnCPUPerEvent, res.OffCPUPerEvent, res.Spans)
	return res, nil
}
