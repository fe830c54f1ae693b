package shopify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/channel/shopify"
)

func TestGovernorFollowsThrottleStatus(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	g := shopify.NewGovernor(shopify.GovernorConfig{RestoreRate: 10, BucketSize: 100, Now: clk.Now})
	ctx := context.Background()
	avail := func() float64 { return g.Bucket().CurrentlyAvailable }

	t1, err := g.Acquire(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	// Until Shopify has described the bucket, one request at a time.
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	if _, err := g.Acquire(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second request before any throttleStatus: %v, want to wait", err)
	}
	cancel()
	// Shopify says: 75 left of 200, restoring 20/s (it refunded 5 of 30).
	t1.Answered(&shopify.ThrottleStatus{MaximumAvailable: 200, CurrentlyAvailable: 75, RestoreRate: 20}, 25)
	if got := avail(); got != 75 {
		t.Fatalf("after the answer: %v, want 75 (the answer replaces the model)", got)
	}
	t2, _ := g.Acquire(ctx, 20)
	t3, _ := g.Acquire(ctx, 10)
	if got := avail(); got != 45 {
		t.Fatalf("two in flight: %v, want 75-20-10", got)
	}
	// t3's answer cannot include t2, which may not have been charged yet.
	t3.Answered(&shopify.ThrottleStatus{MaximumAvailable: 200, CurrentlyAvailable: 64, RestoreRate: 20}, 10)
	if got := avail(); got != 44 {
		t.Errorf("after t3: %v, want 64 less t2's 20 in flight", got)
	}
	t2.Failed() // no answer: its deduction stays
	if got := avail(); got != 44 {
		t.Errorf("after a failure: %v, want 44", got)
	}
	clk.Add(2 * time.Second)
	if got := avail(); got != 84 {
		t.Errorf("two seconds later: %v, want 44+40", got)
	}
	clk.Add(time.Hour)
	if got := avail(); got != 200 {
		t.Errorf("an hour later: %v, want the capacity", got)
	}
	// A request costing more than is available waits for the restore (the
	// fake clock stands still, so it waits until ctx ends).
	t4, _ := g.Acquire(ctx, 150)
	t4.Throttled(&shopify.ThrottleStatus{MaximumAvailable: 200, CurrentlyAvailable: 7, RestoreRate: 20}, 0)
	if got := avail(); got != 7 {
		t.Errorf("after THROTTLED: %v, want 7", got)
	}
	short, cancel = context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(short, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("10 points with 7 available: %v, want to wait", err)
	}
	if s := g.Stats(); s.Requests != 4 || s.Throttled != 1 || s.Points != 35 {
		t.Errorf("stats %+v", s)
	}
}

func TestGovernorReserveAndCap(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	g := shopify.NewGovernor(shopify.GovernorConfig{RestoreRate: 100, Reserve: 500, Now: clk.Now})
	if b := g.Bucket(); b.MaximumAvailable != 2000 {
		t.Fatalf("default bucket %v, want 20 s of restore", b.MaximumAvailable)
	}
	ctx := context.Background()
	t1, err := g.Acquire(ctx, 1500) // 2000 ≥ 1500 + 500
	if err != nil {
		t.Fatal(err)
	}
	t1.Answered(&shopify.ThrottleStatus{MaximumAvailable: 2000, CurrentlyAvailable: 500, RestoreRate: 100}, 1500)
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dipping into the reserve: %v, want to wait", err)
	}
	clk.Add(time.Minute)
	// A request costing more than the bucket can hold is capped to the
	// bucket, not left waiting forever.
	if _, err := g.Acquire(ctx, 5000); err != nil {
		t.Errorf("oversized request: %v", err)
	}
}
