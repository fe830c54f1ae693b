package shopifybench_test

import (
	"context"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/channel/shopify/shopifybench"
)

// TestGovernorUnderBacklog drives the destination with backlogs several
// times its bucket. It asserts counts, not times: Shopify throttled at
// most 1 % of the requests, every sale reached Shopify, and a backlog of
// expensive reads was spent at 90 % or more of the restore rate. (A
// backlog of 10-point writes is paced just as well, but under the race
// detector on a loaded machine the process itself may not keep up with 50
// requests a second, so its utilisation is only logged.)
func TestGovernorUnderBacklog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		cfg         shopifybench.Config
		utilisation bool
	}{
		// 150 writes of 10 points (batch size 1) into a 300-point bucket
		// restored at 500 points/s: ~150 requests paced by the governor.
		{"writes", shopifybench.Config{RestoreRate: 500, BucketSize: 300, BatchSize: 1,
			KnownSKUs: 160, BacklogSKUs: -1, BacklogChanges: 150}, false},
		// 400 first contacts: reads of 186 points (0.75 s of restore) into
		// a 600-point bucket restored at 250 points/s, with sales
		// overtaking them.
		{"first contact reads", shopifybench.Config{RestoreRate: 250, BucketSize: 600,
			KnownSKUs: 50, BacklogSKUs: 400}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Dir, cfg.SaleRate, cfg.Duration, cfg.Latency = t.TempDir(), 20, 1500*time.Millisecond, 2*time.Millisecond
			r, err := shopifybench.Measure(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			if r.ThrottledShare > 0.01 {
				t.Errorf("%d of %d requests throttled, want at most 1%%", r.Throttled, r.Requests)
			}
			if !r.Saturated {
				t.Errorf("the backlog fit in the bucket: the governor was not tested")
			}
			if tc.utilisation && r.Utilisation < 0.9 {
				t.Errorf("backlog spent %.1f%% of the restore rate, want at least 90%%", 100*r.Utilisation)
			}
			if r.Delivered != r.Sales || r.Sales == 0 {
				t.Errorf("%d of %d sales reached Shopify", r.Delivered, r.Sales)
			}
			if r.Stale != 0 {
				t.Errorf("%d stale compares with no other writer", r.Stale)
			}
		})
	}
}
