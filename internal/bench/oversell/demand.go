package oversell

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// demand is one customer: at a till (store) or online.
type demand struct {
	at     time.Duration
	online bool
	store  int // till customers only
	sku    int
	qty    int64
	// Online orders: when the hub and the store learn of it, when it is
	// picked, and where the shop's routing starts among equal locations.
	webhook time.Duration
	pick    time.Duration
	route   int
}

// day is the simulated day every strategy replays: the opening stock of
// each level (sku × stores + store) and the customers in time order.
type day struct {
	stock   []int64
	demands []demand
}

// rate is the demand multiplier at fraction x of the day: 1, rising to
// peak in the afternoon (a Gaussian centred at 60 % of the day).
func rate(x, peak float64) float64 {
	z := (x - 0.6) / 0.12
	return 1 + (peak-1)*math.Exp(-z*z/2)
}

// newDay draws the opening stock and the demand from the seed.
func newDay(c *Config) *day {
	rng := rand.New(rand.NewPCG(c.Seed, 0x0b1acf41)) //nolint:gosec // a simulation's demand, not security
	d := &day{stock: make([]int64, c.SKUs*c.Stores)}
	stockedAt := make([][]int, c.SKUs)
	for k := range stockedAt {
		stockedAt[k] = rng.Perm(c.Stores)[:c.StoresPerSKU]
		for _, st := range stockedAt[k] {
			d.stock[k*c.Stores+st] = int64(c.MinUnits + rng.IntN(c.MaxUnits-c.MinUnits+1))
		}
	}
	// Popularity: weight 1/rank^0.8, a few SKUs everyone wants.
	cum := make([]float64, c.SKUs)
	var total float64
	for i := range cum {
		total += 1 / math.Pow(float64(i+1), 0.8)
		cum[i] = total
	}
	pickSKU := func() int {
		return min(sort.SearchFloat64s(cum, rng.Float64()*total), c.SKUs-1)
	}
	hours := time.Duration(c.Hours * float64(time.Hour))
	// Non-homogeneous Poisson arrivals by thinning: candidates at the peak
	// rate, each kept with probability rate(t)/peak.
	arrivals := func(perHour float64, f func(at time.Duration)) {
		maxPerS := perHour * c.Peak / 3600
		for t := 0.0; ; {
			t += rng.ExpFloat64() / maxPerS
			at := time.Duration(t * float64(time.Second))
			if at >= hours {
				return
			}
			if rng.Float64()*c.Peak <= rate(t/hours.Seconds(), c.Peak) {
				f(at)
			}
		}
	}
	qty := func() int64 {
		if rng.IntN(10) == 0 {
			return 2
		}
		return 1
	}
	between := func(lo, hi time.Duration) time.Duration {
		return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	}
	arrivals(c.StoreRate*float64(c.Stores), func(at time.Duration) {
		sku := pickSKU()
		st := stockedAt[sku][rng.IntN(len(stockedAt[sku]))]
		d.demands = append(d.demands, demand{at: at, store: st, sku: sku, qty: qty()})
	})
	arrivals(c.OnlineRate, func(at time.Duration) {
		d.demands = append(d.demands, demand{at: at, online: true, sku: pickSKU(), qty: qty(),
			webhook: between(c.WebhookMin, c.WebhookMax), pick: between(c.PickMin, c.PickMax), route: rng.IntN(c.Stores)})
	})
	slices.SortStableFunc(d.demands, func(a, b demand) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	return d
}
