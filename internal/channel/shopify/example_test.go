package shopify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/channel/shopify"
)

func ExampleGovernor() {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	g := shopify.NewGovernor(shopify.GovernorConfig{RestoreRate: 100, Now: func() time.Time { return now }})

	// A 10-point mutation: admitted at once, then Shopify reports the
	// bucket (another process of the same app had spent most of it).
	t, _ := g.Acquire(context.Background(), 10)
	t.Answered(&shopify.ThrottleStatus{MaximumAvailable: 2000, CurrentlyAvailable: 35, RestoreRate: 100}, 10)
	fmt.Println(g.Bucket().CurrentlyAvailable, "points available")

	// Half a second later 50 more are restored.
	now = now.Add(500 * time.Millisecond)
	fmt.Println(g.Bucket().CurrentlyAvailable, "points available")
	// Output:
	// 35 points available
	// 85 points available
}
