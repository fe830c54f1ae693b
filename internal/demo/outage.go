package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed*31+7)) } //nolint:gosec // simulation

// outage cuts one store's link for the middle third of the run and measures
// the backlog it builds and how fast it drains once restored.
type outage struct {
	mu         sync.Mutex
	store      string
	cut        bool
	backlog    int64
	backlogMax int64
	downFor    time.Duration
	drainFrom  int64
	drainTook  time.Duration
	drained    bool
	// cutAt and drainedAt bound the window in which the store's sales
	// waited for the link rather than the pipeline.
	cutAt, drainedAt time.Time
}

// affects reports whether a sale the store acknowledged at ackAt had to
// wait for the outage: made while cut or draining, or just before the cut
// and not yet sent.
func (o *outage) affects(store string, ackAt time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if store != o.store || o.cutAt.IsZero() {
		return false
	}
	return ackAt.After(o.cutAt.Add(-time.Second)) && (o.drainedAt.IsZero() || ackAt.Before(o.drainedAt))
}

func (o *outage) run(ctx context.Context, nd *node, total time.Duration, progress io.Writer) {
	if !sleepCtx(ctx, total/4) {
		return
	}
	nd.proxy.Cut()
	cutAt := time.Now()
	o.mu.Lock()
	o.cut, o.cutAt = true, cutAt
	o.mu.Unlock()
	fmt.Fprintf(progress, "  ✂  link from %s to the hub cut: the store keeps selling offline\n", nd.id)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	restoreAt := cutAt.Add(total * 35 / 100)
	for time.Now().Before(restoreAt) {
		select {
		case <-ctx.Done():
			nd.proxy.Restore()
			return
		case <-poll.C:
		}
		o.observe(ctx, nd)
	}
	o.observe(ctx, nd)
	o.mu.Lock()
	o.cut, o.downFor, o.drainFrom = false, time.Since(cutAt), o.backlog
	o.mu.Unlock()
	nd.proxy.Restore()
	restored := time.Now()
	fmt.Fprintf(progress, "  ↺  link restored after %s with %d events buffered: draining\n", time.Since(cutAt).Round(100*time.Millisecond), o.drainFrom)
	for {
		st, err := nd.edge.Status(context.WithoutCancel(ctx))
		if err == nil && st.Backlog == 0 {
			o.mu.Lock()
			o.drainTook, o.drained, o.drainedAt = time.Since(restored), true, time.Now()
			o.mu.Unlock()
			fmt.Fprintf(progress, "  ✓  %s drained its backlog in %s\n", nd.id, o.drainTook.Round(time.Millisecond))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (o *outage) observe(ctx context.Context, nd *node) {
	st, err := nd.edge.Status(ctx)
	if err != nil {
		return
	}
	o.mu.Lock()
	o.backlog = st.Backlog
	o.backlogMax = max(o.backlogMax, st.Backlog)
	o.mu.Unlock()
}

func (o *outage) status() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.store == "":
		return ""
	case o.cut:
		return fmt.Sprintf("%s OFFLINE, backlog %5d", o.store, o.backlog)
	case o.drained:
		return fmt.Sprintf("%s drained %5d   ", o.store, o.drainFrom)
	}
	return fmt.Sprintf("%s online          ", o.store)
}

func (o *outage) results() (store string, downS float64, backlogMax int64, drainRate, drainS float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.drained && o.drainTook > 0 {
		drainRate = float64(o.drainFrom) / o.drainTook.Seconds()
	}
	return o.store, o.downFor.Seconds(), o.backlogMax, drainRate, o.drainTook.Seconds()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
