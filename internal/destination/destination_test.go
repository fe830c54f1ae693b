package destination_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/destination"
)

func TestBackoffDelayBounds(t *testing.T) {
	t.Parallel()
	b := destination.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for _, tc := range []struct {
		attempt int
		step    time.Duration // the exponential step before jitter
	}{
		{0, 100 * time.Millisecond},
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{5, 3200 * time.Millisecond},
		{6, 5 * time.Second}, // 6.4 s, capped
		{50, 5 * time.Second},
		{1 << 20, 5 * time.Second}, // no overflow however long the outage
	} {
		t.Run(fmt.Sprint(tc.attempt), func(t *testing.T) {
			t.Parallel()
			lo, hi := tc.step/2, tc.step
			seen := map[time.Duration]bool{}
			for range 500 {
				d := b.Delay(tc.attempt)
				if d < lo || d > hi {
					t.Fatalf("Delay(%d) = %s, want within [%s, %s]", tc.attempt, d, lo, hi)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Errorf("Delay(%d) returned the same value 500 times: no jitter", tc.attempt)
			}
		})
	}
}

func TestBackoffMinAboveMax(t *testing.T) {
	t.Parallel()
	// A misconfiguration still never waits longer than Max.
	b := destination.Backoff{Min: time.Second, Max: 100 * time.Millisecond}
	for range 100 {
		if d := b.Delay(0); d > 100*time.Millisecond || d < 50*time.Millisecond {
			t.Fatalf("Delay = %s, want within [50ms, 100ms]", d)
		}
	}
}

func TestNotifierWakesEveryWaiter(t *testing.T) {
	t.Parallel()
	n := destination.NewNotifier()
	const waiters = 10
	var wg sync.WaitGroup
	woke := make(chan int, waiters)
	taken := make(chan struct{}, waiters)
	for i := range waiters {
		wg.Go(func() {
			w := n.Wait()
			taken <- struct{}{}
			select {
			case <-w:
				woke <- i
			case <-time.After(10 * time.Second):
				t.Errorf("waiter %d was never woken", i)
			}
		})
	}
	for range waiters {
		<-taken
	}
	n.Broadcast()
	wg.Wait()
	if len(woke) != waiters {
		t.Errorf("%d of %d waiters woke", len(woke), waiters)
	}
}

func TestNotifierWaitBeforeBroadcastIsNeverMissed(t *testing.T) {
	t.Parallel()
	n := destination.NewNotifier()
	// A worker takes the channel, reads the log (a commit lands now), then
	// waits: it must find the channel closed.
	w := n.Wait()
	n.Broadcast()
	select {
	case <-w:
	default:
		t.Fatal("a Broadcast after Wait was missed")
	}
	// The next Wait is for the next Broadcast, not the last one.
	next := n.Wait()
	select {
	case <-next:
		t.Fatal("Wait after Broadcast returned an already closed channel")
	default:
	}
	n.Broadcast()
	n.Broadcast() // several commits before the worker looks: still one wake-up
	select {
	case <-next:
	default:
		t.Fatal("the second Broadcast was missed")
	}
}

func TestNotifierConcurrentBroadcasts(t *testing.T) {
	t.Parallel()
	n := destination.NewNotifier()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					n.Broadcast()
					time.Sleep(20 * time.Microsecond)
				}
			}
		})
	}
	for range 200 {
		w := n.Wait()
		select {
		case <-w:
		case <-time.After(10 * time.Second):
			t.Fatal("a waiter slept through constant broadcasts")
		}
	}
	close(stop)
	wg.Wait()
}

func TestMetricsRegister(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := destination.NewMetrics(reg)
	m.LagEvents.WithLabelValues("shop").Set(3)
	m.LagSeconds.WithLabelValues("shop").Set(1.5)
	m.Deliveries.WithLabelValues("shop", "ok").Inc()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			v := mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
			got[f.GetName()] = v
			if l := mt.GetLabel(); len(l) == 0 || l[0].GetName() != "destination" || l[0].GetValue() != "shop" {
				t.Errorf("%s labels %v, want destination=shop first", f.GetName(), l)
			}
		}
	}
	for name, want := range map[string]float64{
		"tillsync_destination_lag_events":       3,
		"tillsync_destination_lag_seconds":      1.5,
		"tillsync_destination_deliveries_total": 1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
