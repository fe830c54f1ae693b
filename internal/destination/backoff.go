package destination

import (
	"math/rand/v2"
	"time"
)

// Backoff computes retry delays: exponential from Min to Max with full
// jitter in the upper half, so many clients retrying after one outage do
// not arrive in lockstep.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before retry number attempt (0 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	half := d / 2
	return half + rand.N(half+1) //nolint:gosec // jitter, not security
}
