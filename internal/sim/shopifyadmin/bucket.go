package shopifyadmin

import (
	"fmt"
	"strings"
	"time"
)

// Plan is a Shopify plan, which sets the app's bucket.
type Plan string

// Plans and their GraphQL Admin API restore rates
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
const (
	Standard   Plan = "standard"   // 100 points/s
	Advanced   Plan = "advanced"   // 200 points/s
	Plus       Plan = "plus"       // 1,000 points/s
	Enterprise Plan = "enterprise" // 2,000 points/s (Commerce Components)
)

// RestoreRate is the plan's restore rate in points per second.
func (p Plan) RestoreRate() (float64, error) {
	switch Plan(strings.ToLower(string(p))) {
	case Standard, "":
		return 100, nil
	case Advanced:
		return 200, nil
	case Plus:
		return 1000, nil
	case Enterprise:
		return 2000, nil
	}
	return 0, fmt.Errorf("shopifyadmin: unknown plan %q (standard, advanced, plus, enterprise)", string(p))
}

// bucketSeconds is the bucket size in seconds of restore: live shops report
// maximumAvailable 2000 at restoreRate 100.
const bucketSeconds = 20

// bucket is a leaky bucket of cost points, kept as the points available.
type bucket struct {
	max, rate float64
	avail     float64
	at        time.Time
}

func (b *bucket) refill(now time.Time) {
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.avail = min(b.max, b.avail+dt*b.rate)
	}
	b.at = now
}

// take charges cost if it is available and reports whether it was.
func (b *bucket) take(now time.Time, cost float64) bool {
	b.refill(now)
	if b.avail < cost {
		return false
	}
	b.avail -= cost
	return true
}

// refund gives back points charged but not used.
func (b *bucket) refund(points float64) {
	if points > 0 {
		b.avail = min(b.max, b.avail+points)
	}
}
