package bench

import (
	"context"
	"fmt"
	"time"
)

// TargetRedaction is the least share of intake throughput redaction may
// leave: it must not be the bottleneck.
const TargetRedaction = 0.9

// Redaction is hub intake over HTTP with first-hop redaction on, against
// the same hub with it off, in alternating rounds of one run.
type Redaction struct {
	OnEventsPerS  float64 `json:"on_events_per_s"`
	OffEventsPerS float64 `json:"off_events_per_s"`
	Ratio         float64 `json:"ratio"`
	Target        float64 `json:"target"`
	Pass          bool    `json:"pass"`
	Rounds        int     `json:"rounds"`
	Error         string  `json:"error,omitempty"`
}

// redaction measures what redacting every event costs intake: one SQLite
// hub, the same clients and events, rounds alternating redaction on and
// off so both see the same machine.
func (r *runner) redaction(ctx context.Context) (*Redaction, error) {
	opt := r.opt
	res := &Redaction{Target: TargetRedaction}
	eng, err := sqliteEngine()
	if err != nil {
		return res, err
	}
	defer eng.cleanup()
	cat := newCatalog(opt.SKUs, opt.Locations)
	now := time.Now().UTC()
	h, err := startHub(ctx, eng.hubDSN, cat)
	if err != nil {
		return res, err
	}
	defer h.stop()
	client := newClient(opt.Clients)
	defer client.CloseIdleConnections()
	if _, err := seedHub(ctx, client, h.url, cat, r.run+"-rseed", now); err != nil {
		return res, err
	}
	streams := make([]*stream, opt.Clients)
	for i := range streams {
		loc := cat.locations[i%len(cat.locations)]
		if streams[i], err = newStream(newGenerator(cat, uint64(i+101)), (*generator).next, fmt.Sprintf("%s-r%02d-", r.run, i), loc, 1024, now, false); err != nil {
			return res, err
		}
	}
	rounds := max(int(opt.Duration/(2500*time.Millisecond))/2*2, 2) // even: as many with as without
	r.progress("redaction: hub intake with first-hop redaction on and off, %d alternating rounds of %s", rounds, opt.Duration/time.Duration(rounds))
	next := make([]int64, len(streams))
	var on, off struct {
		events int64
		dur    time.Duration
	}
	for round := range rounds {
		redacting := round%2 == 0
		h.h.MeasureWithoutRedaction(!redacting)
		load, err := r.drive(ctx, "redaction", client, h.url, streams, next, opt.RequestEvents, opt.Duration/time.Duration(rounds))
		if err != nil {
			return res, err
		}
		r.progress("redaction: round %d (redaction %v): %d events in %s", round+1, redacting, load.steadyEvents, load.steady.Round(time.Millisecond))
		if redacting {
			on.events, on.dur = on.events+load.steadyEvents, on.dur+load.steady
		} else {
			off.events, off.dur = off.events+load.steadyEvents, off.dur+load.steady
		}
	}
	h.h.MeasureWithoutRedaction(false)
	res.Rounds = rounds
	if on.dur > 0 {
		res.OnEventsPerS = float64(on.events) / on.dur.Seconds()
	}
	if off.dur > 0 {
		res.OffEventsPerS = float64(off.events) / off.dur.Seconds()
	}
	if res.OffEventsPerS > 0 {
		res.Ratio = res.OnEventsPerS / res.OffEventsPerS
	}
	res.Pass = res.Ratio >= TargetRedaction
	r.progress("redaction: %.0f events/s with, %.0f without: ratio %.2f (target ≥ %.1f)", res.OnEventsPerS, res.OffEventsPerS, res.Ratio, TargetRedaction)
	return res, nil
}
