package shopify

import (
	"context"
	"sync"
	"time"
)

// ThrottleStatus is the bucket as Shopify reports it in every response's
// extensions.cost.throttleStatus
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// Governor keeps one app's requests on one shop inside the shop's leaky
// bucket of cost points. Shopify charges a query's requested cost before
// running it, refunds the difference to the actual cost afterwards, and
// refuses it (THROTTLED) when the bucket holds less than the requested
// cost; the bucket refills continuously at the plan's restore rate.
//
// The governor keeps a model of the bucket — points available at an
// instant, capacity and restore rate — and:
//
//   - before a request, waits until the model holds the request's
//     estimated cost, then deducts it (so concurrent requests through one
//     governor never spend the same points twice);
//   - after every answer, replaces the model with the answer's
//     throttleStatus (less the estimates of requests still in flight, which
//     Shopify may not have charged yet), so the model follows the real
//     bucket — including points spent by other processes using the same app
//     and refunds of unused requested cost — instead of drifting;
//   - after an answer with no throttleStatus (timeout, 5xx), keeps the
//     deduction: the request may have been charged.
//
// The model is refreshed at the moment the answer arrives, later than when
// Shopify computed it, so it under-counts the points restored meanwhile:
// its errors are on the safe side. Under a backlog the bucket is drained
// once, then each request waits exactly until its cost has been restored,
// which keeps spending at the restore rate without a throttled request.
//
// A Governor may be shared by destinations that use the same app on the
// same shop (they share Shopify's bucket).
type Governor struct {
	now  func() time.Time
	turn chan struct{} // one waiter at a time, in arrival order

	mu         sync.Mutex
	max, rate  float64
	avail      float64 // points available at `at`, per the model
	at         time.Time
	known      bool // a throttleStatus has been seen
	reserve    float64
	inflight   map[uint64]float64
	next       uint64
	pauseUntil time.Time

	stats GovernorStats
}

// GovernorConfig is the bucket assumed until Shopify reports its own.
type GovernorConfig struct {
	// RestoreRate is points per second (the plan's).
	RestoreRate float64
	// BucketSize is the bucket's capacity (default 20 s of restore, what
	// throttleStatus reports on live shops: 2,000 at 100 points/s).
	BucketSize float64
	// Reserve is points left unspent for other users of the same app and
	// shop (default 0).
	Reserve float64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// GovernorStats are a governor's counters.
type GovernorStats struct {
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
	// Points is the actual cost of answered requests, as Shopify reported
	// it.
	Points float64 `json:"points"`
	// Waited is the total time requests waited for points.
	Waited time.Duration `json:"waited"`
}

// NewGovernor returns a governor assuming a full bucket.
func NewGovernor(cfg GovernorConfig) *Governor {
	if cfg.RestoreRate <= 0 {
		cfg.RestoreRate = 100
	}
	if cfg.BucketSize <= 0 {
		cfg.BucketSize = bucketSeconds * cfg.RestoreRate
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Governor{
		now: cfg.Now, turn: make(chan struct{}, 1), max: cfg.BucketSize, rate: cfg.RestoreRate,
		avail: cfg.BucketSize, at: cfg.Now(), reserve: max(cfg.Reserve, 0), inflight: map[uint64]float64{},
	}
}

// bucketSeconds is the bucket size in seconds of restore.
const bucketSeconds = 20

// Ticket is one admitted request. Call exactly one of Answered, Throttled or
// Failed.
type Ticket struct {
	g    *Governor
	id   uint64
	cost float64
	once sync.Once
}

// availableLocked is the model's points now.
func (g *Governor) availableLocked(now time.Time) float64 {
	a := g.avail
	if dt := now.Sub(g.at).Seconds(); dt > 0 {
		a += dt * g.rate
	}
	return min(a, g.max)
}

// Acquire waits until the bucket holds cost points (capped at the bucket's
// capacity) plus the reserve, then deducts cost.
func (g *Governor) Acquire(ctx context.Context, cost float64) (*Ticket, error) {
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-g.turn }()
	start := g.now()
	for {
		g.mu.Lock()
		now := g.now()
		c := min(cost, g.max)
		need := min(c+g.reserve, g.max)
		avail := g.availableLocked(now)
		var wait time.Duration
		switch {
		case now.Before(g.pauseUntil):
			wait = g.pauseUntil.Sub(now)
		case !g.known && len(g.inflight) > 0:
			// Until Shopify has described the bucket, one request at a
			// time: the assumed bucket may be wrong.
			wait = 10 * time.Millisecond
		case avail >= need:
			g.avail, g.at = avail-c, now
			g.next++
			g.inflight[g.next] = c
			g.stats.Requests++
			g.stats.Waited += now.Sub(start)
			g.mu.Unlock()
			return &Ticket{g: g, id: g.next, cost: c}, nil
		default:
			wait = time.Duration((need - avail) / g.rate * float64(time.Second))
		}
		g.mu.Unlock()
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// Answered records an answer: the bucket Shopify reported (nil if none) and
// the actual cost charged.
func (t *Ticket) Answered(st *ThrottleStatus, actual float64) {
	t.once.Do(func() { t.g.answered(t, st, actual, false) })
}

// Throttled records a THROTTLED refusal: nothing was charged, and the
// bucket holds what st says (nil if the answer did not say).
func (t *Ticket) Throttled(st *ThrottleStatus, retryAfter time.Duration) {
	t.once.Do(func() {
		g := t.g
		g.mu.Lock()
		g.stats.Throttled++
		if retryAfter > 0 {
			g.pauseUntil = maxTime(g.pauseUntil, g.now().Add(retryAfter))
		}
		g.mu.Unlock()
		g.answered(t, st, 0, true)
	})
}

// Failed records a request that got no usable answer: its deduction stays,
// since Shopify may have charged it.
func (t *Ticket) Failed() {
	t.once.Do(func() {
		t.g.mu.Lock()
		delete(t.g.inflight, t.id)
		t.g.mu.Unlock()
	})
}

func (g *Governor) answered(t *Ticket, st *ThrottleStatus, actual float64, throttled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.inflight, t.id)
	g.stats.Points += actual
	now := g.now()
	if st == nil || st.RestoreRate <= 0 || st.MaximumAvailable <= 0 {
		if throttled {
			// Refused, but no figures: assume the bucket is empty.
			g.avail, g.at = 0, now
		}
		return
	}
	g.known = true
	g.max, g.rate = st.MaximumAvailable, st.RestoreRate
	others := 0.0
	for _, c := range g.inflight {
		others += c
	}
	g.avail, g.at = min(st.CurrentlyAvailable, g.max)-others, now
}

// Bucket returns the model's capacity, points available now and restore
// rate.
func (g *Governor) Bucket() ThrottleStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	return ThrottleStatus{MaximumAvailable: g.max, CurrentlyAvailable: g.availableLocked(g.now()), RestoreRate: g.rate}
}

// Stats returns the governor's counters.
func (g *Governor) Stats() GovernorStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
