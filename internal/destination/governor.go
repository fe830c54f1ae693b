package destination

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tillsync/tillsync/internal/erp"
)

// Governor keeps every destination that shares one ERP account inside the
// account's limits: a concurrency limit (the ceiling the ERP allows, e.g.
// NetSuite's tier base plus SuiteCloud Plus licences), an optional request
// rate (token bucket), and adaptive control on top — halve the working
// limit when the ERP says it is overloaded (429, concurrency errors, at most
// once per cool-down so one burst of refusals is one signal), climb back by
// one per window of successes, and pause everything for the ERP's
// Retry-After. Waiters are served by priority lane: stock-affecting
// postings before financial summaries.
type Governor struct {
	name    string
	ceiling int
	limiter *rate.Limiter

	mu         sync.Mutex
	limit      float64 // adaptive working limit, 1 ≤ limit ≤ ceiling
	inflight   int
	waiters    [erp.NumLanes][]*waiter
	pauseUntil time.Time
	lastCut    time.Time
	cooldown   time.Duration
	// overloadAt is the in-flight level of the last overload; probing
	// stays below it for probeHold after the cut.
	overloadAt int
	probeHold  time.Duration

	// counters for metrics and tests
	throttles int64
	peak      int
}

type waiter struct {
	ready chan struct{}
	done  bool // granted (true) or abandoned
}

// GovernorConfig sets an account's limits.
type GovernorConfig struct {
	Name string
	// Concurrency is the ceiling of requests in flight (default 1).
	Concurrency int
	// RatePerSecond limits request starts (0: none); Burst defaults to 1.
	RatePerSecond float64
	Burst         int
	// Cooldown is the least time between two cuts of the working limit
	// (default 1 s): concurrent refusals from one overload count once.
	Cooldown time.Duration
	// ProbeHold is how long after an overload the working limit stays
	// below the level that overloaded the ERP (default 30 s).
	ProbeHold time.Duration
}

// NewGovernor returns a governor at full working limit.
func NewGovernor(cfg GovernorConfig) *Governor {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Second
	}
	if cfg.ProbeHold <= 0 {
		cfg.ProbeHold = 30 * time.Second
	}
	g := &Governor{name: cfg.Name, ceiling: cfg.Concurrency, limit: float64(cfg.Concurrency), cooldown: cfg.Cooldown,
		probeHold: cfg.ProbeHold}
	if cfg.RatePerSecond > 0 {
		g.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerSecond), max(cfg.Burst, 1))
	}
	return g
}

// Name is the account's name.
func (g *Governor) Name() string { return g.name }

// SetCeiling changes the concurrency ceiling (e.g. read from the ERP's
// governance limits at start).
func (g *Governor) SetCeiling(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// A working limit at the old ceiling (not cut back by an overload)
	// follows the new one; a cut-back limit climbs back by successes.
	full := g.limit >= float64(g.ceiling)
	g.ceiling = max(n, 1)
	if full || g.limit > float64(g.ceiling) {
		g.limit = float64(g.ceiling)
	}
	g.wakeLocked()
}

// Outcome of a governed request, for adaptive control.
type Outcome int

// Outcomes.
const (
	// Done: the ERP answered (success or a data error): capacity is fine.
	Done Outcome = iota
	// Overloaded: the ERP refused for load (429, concurrency limit).
	Overloaded
	// Failed: no answer (timeout, reset): says nothing about limits.
	Failed
)

// Permit is one request slot; Release it exactly once.
type Permit struct {
	g    *Governor
	once sync.Once
}

// Release returns the slot and feeds the outcome to adaptive control;
// retryAfter is the ERP's Retry-After on an overload (0 if none).
func (p *Permit) Release(o Outcome, retryAfter time.Duration) {
	p.once.Do(func() { p.g.release(o, retryAfter) })
}

// Acquire waits for a slot in a lane, honouring pauses, the rate and the
// working limit.
func (g *Governor) Acquire(ctx context.Context, lane erp.Lane) (*Permit, error) {
	if err := g.waitPause(ctx); err != nil {
		return nil, err
	}
	if err := g.slot(ctx, lane); err != nil {
		return nil, err
	}
	// A pause that began while this waited for its slot (usually the very
	// refusal that freed the slot) holds for it too.
	if err := g.waitPause(ctx); err != nil {
		g.release(Failed, 0)
		return nil, err
	}
	if g.limiter != nil {
		if err := g.limiter.Wait(ctx); err != nil {
			g.release(Failed, 0)
			return nil, err
		}
	}
	return &Permit{g: g}, nil
}

// waitPause waits out a Retry-After pause.
func (g *Governor) waitPause(ctx context.Context) error {
	for {
		g.mu.Lock()
		wait := time.Until(g.pauseUntil)
		g.mu.Unlock()
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (g *Governor) slot(ctx context.Context, lane erp.Lane) error {
	g.mu.Lock()
	if g.inflight < int(g.limit) && g.nobodyAheadLocked(lane) {
		g.takeLocked()
		g.mu.Unlock()
		return nil
	}
	w := &waiter{ready: make(chan struct{})}
	g.waiters[lane] = append(g.waiters[lane], w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		if w.done { // granted just as ctx ended: give the slot back
			g.inflight--
			g.wakeLocked()
		} else {
			w.done = true
			g.removeLocked(lane, w)
		}
		return ctx.Err()
	}
}

func (g *Governor) nobodyAheadLocked(lane erp.Lane) bool {
	for l := erp.Lane(0); l <= lane; l++ {
		if len(g.waiters[l]) > 0 {
			return false
		}
	}
	return true
}

func (g *Governor) removeLocked(lane erp.Lane, w *waiter) {
	q := g.waiters[lane]
	for i, x := range q {
		if x == w {
			g.waiters[lane] = append(q[:i], q[i+1:]...)
			return
		}
	}
}

func (g *Governor) takeLocked() {
	g.inflight++
	g.peak = max(g.peak, g.inflight)
}

// wakeLocked grants free slots to waiters, highest lane first.
func (g *Governor) wakeLocked() {
	for l := range g.waiters {
		for len(g.waiters[l]) > 0 && g.inflight < int(g.limit) {
			w := g.waiters[l][0]
			g.waiters[l] = g.waiters[l][1:]
			if w.done {
				continue
			}
			w.done = true
			g.takeLocked()
			close(w.ready)
		}
	}
}

func (g *Governor) release(o Outcome, retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	now := time.Now()
	switch o {
	case Overloaded:
		g.throttles++
		// The ERP had no room with inflight+1 of ours in flight: remember
		// that level so probing stops below it for a while.
		if now.Sub(g.lastCut) >= g.cooldown {
			g.overloadAt = g.inflight + 1 // a new overload
		} else {
			g.overloadAt = min(g.overloadAt, g.inflight+1)
		}
		if now.Sub(g.lastCut) >= g.cooldown {
			g.limit = max(1, g.limit/2)
			g.lastCut = now
		}
		if retryAfter > 0 && now.Add(retryAfter).After(g.pauseUntil) {
			g.pauseUntil = now.Add(retryAfter)
		}
	case Done:
		// Additive increase: about one more slot per limit's worth of
		// successful requests — up to the level that last overloaded the
		// ERP, until probeHold has passed (the account is shared: other
		// integrations come and go), then up to the ceiling.
		top := float64(g.ceiling)
		if g.overloadAt > 0 && now.Sub(g.lastCut) < g.probeHold {
			top = min(top, float64(max(g.overloadAt-1, 1)))
		}
		if g.limit < top {
			g.limit = min(top, g.limit+1/g.limit)
		}
	}
	g.wakeLocked()
}

// GovernorStats is a governor's state.
type GovernorStats struct {
	Ceiling   int     `json:"ceiling"`
	Limit     float64 `json:"limit"`
	InFlight  int     `json:"in_flight"`
	Peak      int     `json:"peak"`
	Throttles int64   `json:"throttles"`
	Waiting   int     `json:"waiting"`
}

// Stats returns the governor's state.
func (g *Governor) Stats() GovernorStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, q := range g.waiters {
		n += len(q)
	}
	return GovernorStats{Ceiling: g.ceiling, Limit: g.limit, InFlight: g.inflight, Peak: g.peak, Throttles: g.throttles, Waiting: n}
}
