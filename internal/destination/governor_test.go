package destination_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
)

// acquire takes a permit or fails the test.
func acquire(t *testing.T, g *destination.Governor, lane erp.Lane) *destination.Permit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := g.Acquire(ctx, lane)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return p
}

// waitWaiting waits until n acquirers are queued in the governor.
func waitWaiting(t *testing.T, g *destination.Governor, n int) {
	t.Helper()
	eventually(t, 5*time.Second, func() (bool, string) {
		w := g.Stats().Waiting
		return w == n, "waiting acquirers"
	})
}

func TestGovernorNeverExceedsCeiling(t *testing.T) {
	t.Parallel()
	const ceiling = 3
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: ceiling})
	var inflight, peak atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		lane := erp.Lane(i % erp.NumLanes)
		wg.Go(func() {
			p, err := g.Acquire(context.Background(), lane)
			if err != nil {
				t.Errorf("Acquire: %v", err)
				return
			}
			n := inflight.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inflight.Add(-1)
			p.Release(destination.Done, 0)
		})
	}
	wg.Wait()
	if p := peak.Load(); p > ceiling || p < 2 {
		t.Errorf("peak in flight = %d, want 2..%d", p, ceiling)
	}
	st := g.Stats()
	if st.Peak > ceiling || st.InFlight != 0 || st.Waiting != 0 {
		t.Errorf("stats after the run = %+v, want peak ≤ %d, nothing in flight or waiting", st, ceiling)
	}
}

func TestGovernorStockLaneServedFirst(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1})
	holder := acquire(t, g, erp.LaneFinancial)

	granted := make(chan string, 8)
	var wg sync.WaitGroup
	enqueue := func(name string, lane erp.Lane, waiting int) {
		wg.Go(func() {
			p, err := g.Acquire(context.Background(), lane)
			if err != nil {
				t.Errorf("%s: Acquire: %v", name, err)
				return
			}
			granted <- name
			p.Release(destination.Done, 0)
		})
		waitWaiting(t, g, waiting) // queued in this order
	}
	enqueue("financial-1", erp.LaneFinancial, 1)
	enqueue("financial-2", erp.LaneFinancial, 2)
	enqueue("stock-1", erp.LaneStock, 3)
	enqueue("financial-3", erp.LaneFinancial, 4)
	enqueue("stock-2", erp.LaneStock, 5)

	holder.Release(destination.Done, 0)
	wg.Wait()
	close(granted)
	var order []string
	for name := range granted {
		order = append(order, name)
	}
	want := []string{"stock-1", "stock-2", "financial-1", "financial-2", "financial-3"}
	if !equal(order, want) {
		t.Errorf("grant order = %v, want %v (stock lane first, each lane in arrival order)", order, want)
	}
}

func TestGovernorFinancialDoesNotJumpWaitingStock(t *testing.T) {
	t.Parallel()
	// A slot frees while a stock acquirer waits: a financial acquirer that
	// arrives just then must not take it on the fast path.
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1})
	holder := acquire(t, g, erp.LaneStock)
	stock := make(chan *destination.Permit, 1)
	go func() {
		p, err := g.Acquire(context.Background(), erp.LaneStock)
		if err != nil {
			t.Errorf("stock Acquire: %v", err)
		}
		stock <- p
	}()
	waitWaiting(t, g, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(ctx, erp.LaneFinancial); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("financial Acquire while saturated = %v, want DeadlineExceeded", err)
	}
	holder.Release(destination.Done, 0)
	if p := <-stock; p != nil {
		p.Release(destination.Done, 0)
	}
}

func TestGovernorOverloadCutsOncePerCooldown(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 8, Cooldown: time.Hour})
	ps := []*destination.Permit{acquire(t, g, erp.LaneStock), acquire(t, g, erp.LaneStock), acquire(t, g, erp.LaneStock)}
	// Three refusals from one overload are one signal.
	for _, p := range ps {
		p.Release(destination.Overloaded, 0)
	}
	st := g.Stats()
	if st.Limit != 4 {
		t.Errorf("limit after one burst of refusals = %v, want 4 (halved once)", st.Limit)
	}
	if st.Throttles != 3 {
		t.Errorf("throttles = %d, want 3", st.Throttles)
	}

	// After the cool-down a new refusal cuts again, down to 1 at least.
	g = destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 8, Cooldown: 5 * time.Millisecond})
	for _, want := range []float64{4, 2, 1, 1} {
		acquire(t, g, erp.LaneStock).Release(destination.Overloaded, 0)
		if got := g.Stats().Limit; got != want {
			t.Fatalf("limit = %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGovernorWorkingLimitBoundsConcurrency(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 4, Cooldown: time.Hour})
	acquire(t, g, erp.LaneStock).Release(destination.Overloaded, 0) // limit 2
	a, b := acquire(t, g, erp.LaneStock), acquire(t, g, erp.LaneStock)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(ctx, erp.LaneStock); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("third Acquire at working limit 2 = %v, want DeadlineExceeded", err)
	}
	a.Release(destination.Failed, 0)
	b.Release(destination.Failed, 0)
	if st := g.Stats(); st.Limit != 2 || st.InFlight != 0 {
		t.Errorf("after failures without an answer: %+v, want limit 2 unchanged, nothing in flight", st)
	}
}

func TestGovernorAdditiveIncreaseClimbsToCeiling(t *testing.T) {
	t.Parallel()
	// ProbeHold of a nanosecond: the climb is not held below the level of
	// the overload (TestGovernorProbesBelowTheOverloadLevel covers that).
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 4, Cooldown: time.Hour, ProbeHold: time.Nanosecond})
	acquire(t, g, erp.LaneStock).Release(destination.Overloaded, 0)
	if got := g.Stats().Limit; got != 2 {
		t.Fatalf("limit after overload = %v, want 2", got)
	}
	// One success adds 1/limit: one more slot per window of successes, not
	// a jump back to the ceiling.
	acquire(t, g, erp.LaneStock).Release(destination.Done, 0)
	if got := g.Stats().Limit; got != 2.5 {
		t.Fatalf("limit after one success = %v, want 2.5", got)
	}
	successes := 1
	for g.Stats().Limit < 4 {
		acquire(t, g, erp.LaneStock).Release(destination.Done, 0)
		successes++
		if successes > 100 {
			t.Fatalf("limit %v after 100 successes, want back at the ceiling 4", g.Stats().Limit)
		}
	}
	if successes < 4 {
		t.Errorf("limit climbed from 2 to 4 in %d successes, want about one slot per window (≥ 4)", successes)
	}
	for range 10 {
		acquire(t, g, erp.LaneStock).Release(destination.Done, 0)
	}
	if got := g.Stats().Limit; got != 4 {
		t.Errorf("limit = %v, want capped at the ceiling 4", got)
	}
}

func TestGovernorRetryAfterPausesEveryone(t *testing.T) {
	t.Parallel()
	const pause = 300 * time.Millisecond
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1})
	holder := acquire(t, g, erp.LaneStock)
	// One acquirer already waits for the slot when the refusal arrives.
	grantedAt := make(chan time.Time, 1)
	go func() {
		p, err := g.Acquire(context.Background(), erp.LaneStock)
		if err != nil {
			t.Errorf("waiting Acquire: %v", err)
			grantedAt <- time.Time{}
			return
		}
		grantedAt <- time.Now()
		p.Release(destination.Done, 0)
	}()
	waitWaiting(t, g, 1)
	refused := time.Now()
	holder.Release(destination.Overloaded, pause)

	// A newcomer waits out the pause too.
	p := acquire(t, g, erp.LaneFinancial)
	if waited := time.Since(refused); waited < pause-20*time.Millisecond {
		t.Errorf("a new acquirer started %s after a Retry-After of %s", waited, pause)
	}
	p.Release(destination.Done, 0)
	if waited := (<-grantedAt).Sub(refused); waited < pause-20*time.Millisecond {
		t.Errorf("an acquirer already waiting started %s after a Retry-After of %s", waited, pause)
	}
}

func TestGovernorPauseHonoursContext(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 2})
	acquire(t, g, erp.LaneStock).Release(destination.Overloaded, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(ctx, erp.LaneStock); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire during an hour's pause = %v, want DeadlineExceeded", err)
	}
	if st := g.Stats(); st.InFlight != 0 {
		t.Errorf("in flight = %d after an abandoned Acquire, want 0", st.InFlight)
	}
}

func TestGovernorSetCeiling(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 4})
	g.SetCeiling(2)
	if st := g.Stats(); st.Ceiling != 2 || st.Limit != 2 {
		t.Fatalf("after SetCeiling(2): %+v, want ceiling and limit 2", st)
	}
	a, b := acquire(t, g, erp.LaneStock), acquire(t, g, erp.LaneStock)
	// A waiter is woken when the ceiling rises.
	woke := make(chan *destination.Permit, 1)
	go func() {
		p, err := g.Acquire(context.Background(), erp.LaneStock)
		if err != nil {
			t.Errorf("Acquire: %v", err)
		}
		woke <- p
	}()
	waitWaiting(t, g, 1)
	// The ceiling read from the ERP at start: a governor at full working
	// limit follows it at once, not one success at a time.
	g.SetCeiling(6)
	if st := g.Stats(); st.Ceiling != 6 || st.Limit != 6 {
		t.Errorf("after SetCeiling(6): %+v, want ceiling and limit 6", st)
	}
	select {
	case p := <-woke:
		p.Release(destination.Done, 0)
	case <-time.After(5 * time.Second):
		t.Fatal("a waiter was not woken when the ceiling rose")
	}
	a.Release(destination.Done, 0)
	b.Release(destination.Done, 0)

	g.SetCeiling(0)
	if st := g.Stats(); st.Ceiling != 1 || st.Limit != 1 {
		t.Errorf("after SetCeiling(0): %+v, want ceiling and limit 1", st)
	}

	// A limit cut back by an overload stays cut when the ceiling rises: it
	// climbs back by successes.
	g = destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 8, Cooldown: time.Hour})
	acquire(t, g, erp.LaneStock).Release(destination.Overloaded, 0)
	g.SetCeiling(10)
	if st := g.Stats(); st.Ceiling != 10 || st.Limit != 4 {
		t.Errorf("after an overload and SetCeiling(10): %+v, want ceiling 10, limit still 4", st)
	}
}

func TestGovernorCancelledWaiterLeaksNoSlot(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1})
	holder := acquire(t, g, erp.LaneStock)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if _, err := g.Acquire(ctx, erp.Lane(i%erp.NumLanes)); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Acquire = %v, want DeadlineExceeded", err)
			}
		})
	}
	wg.Wait()
	if st := g.Stats(); st.Waiting != 0 || st.InFlight != 1 {
		t.Errorf("after cancelled waiters: %+v, want 0 waiting and the holder in flight", st)
	}
	holder.Release(destination.Done, 0)

	// Cancellation racing the grant: whichever wins, the slot comes back.
	for range 200 {
		holder := acquire(t, g, erp.LaneStock)
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan *destination.Permit, 1)
		go func() {
			p, _ := g.Acquire(ctx, erp.LaneStock)
			got <- p
		}()
		waitWaiting(t, g, 1)
		go cancel()
		holder.Release(destination.Done, 0)
		if p := <-got; p != nil {
			p.Release(destination.Done, 0)
		}
		cancel()
	}
	if st := g.Stats(); st.InFlight != 0 || st.Waiting != 0 {
		t.Fatalf("after grants racing cancellations: %+v, want nothing in flight or waiting", st)
	}
	acquire(t, g, erp.LaneStock).Release(destination.Done, 0)

	// Release is idempotent: a double release does not free a second slot.
	p := acquire(t, g, erp.LaneStock)
	p.Release(destination.Done, 0)
	p.Release(destination.Done, 0)
	if st := g.Stats(); st.InFlight != 0 {
		t.Errorf("in flight = %d after a double release, want 0", st.InFlight)
	}
}

func TestGovernorRateSpacesStarts(t *testing.T) {
	t.Parallel()
	const perSecond = 20 // one start every 50 ms
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 10, RatePerSecond: perSecond})
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			p, err := g.Acquire(context.Background(), erp.LaneStock)
			if err != nil {
				t.Errorf("Acquire: %v", err)
				return
			}
			p.Release(destination.Done, 0)
		})
	}
	wg.Wait()
	// Burst 1: the first starts at once, the other five 50 ms apart.
	if took := time.Since(start); took < 5*time.Second/perSecond-25*time.Millisecond {
		t.Errorf("6 starts at %d/s took %s, want ≥ 250ms", perSecond, took)
	}

	// Waiting for a token holds a slot; giving up returns it.
	g = destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1, RatePerSecond: 0.5})
	acquire(t, g, erp.LaneStock).Release(destination.Done, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(ctx, erp.LaneStock); err == nil {
		t.Fatal("Acquire with no token for 2 s succeeded within 50 ms")
	}
	if st := g.Stats(); st.InFlight != 0 {
		t.Errorf("in flight = %d after giving up on a token, want 0", st.InFlight)
	}
}

func TestGovernorDefaults(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct"})
	if g.Name() != "acct" {
		t.Errorf("Name = %q", g.Name())
	}
	if st := g.Stats(); st.Ceiling != 1 || st.Limit != 1 {
		t.Errorf("default stats %+v, want ceiling and limit 1", st)
	}
}

// After an overload the governor climbs back only to just below the level
// that overloaded the ERP: an account limit of 5 shared with tillsync's
// configured 6 costs one burst of refusals, not one every few requests.
func TestGovernorProbesBelowTheOverloadLevel(t *testing.T) {
	t.Parallel()
	g := destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 6, Cooldown: time.Hour, ProbeHold: time.Hour})
	var held []*destination.Permit
	for range 6 {
		held = append(held, acquire(t, g, erp.LaneStock))
	}
	held[5].Release(destination.Overloaded, 0) // the sixth had no room
	for _, p := range held[:5] {
		p.Release(destination.Done, 0)
	}
	for range 200 {
		acquire(t, g, erp.LaneStock).Release(destination.Done, 0)
	}
	if got := g.Stats().Limit; got != 5 {
		t.Fatalf("limit after an overload at 6 in flight and 200 successes = %v, want 5 (just below the overload)", got)
	}
}
