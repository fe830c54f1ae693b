package oversell

import (
	"fmt"
	"time"
)

// Config shapes the simulated day. Zero values take the defaults.
type Config struct {
	// SKUs are the scarce catalogue: each is stocked at StoresPerSKU of
	// the Stores, with MinUnits to MaxUnits at each when the day opens
	// (defaults 50 stores, 1,000 SKUs at 3 stores, 1–5 units).
	Stores       int
	SKUs         int
	StoresPerSKU int
	MinUnits     int
	MaxUnits     int
	// Hours is the simulated trading day (default 10).
	Hours float64
	// StoreRate is till customers per store per hour at the base rate,
	// each asking for a SKU at a store that stocks it; OnlineRate is
	// online customers per hour (defaults 15 and 400).
	// Both rise to Peak times the base rate (default 4) around the
	// afternoon peak. SKUs are chosen by popularity (weight 1/rank^0.8).
	StoreRate  float64
	OnlineRate float64
	Peak       float64
	// Seed fixes the demand stream; every strategy sees the same one.
	Seed uint64
	// Webhook bounds the time (uniform) from an online order to the hub
	// and the store knowing it (default 0.5–3 s). Every strategy gets the
	// same delay: a batch connector would learn of orders later still.
	WebhookMin, WebhookMax time.Duration
	// PickMin and PickMax bound the time from a reserved order to its
	// fulfilment (default 20–120 min).
	PickMin, PickMax time.Duration
	// EdgeDelay is a till sale's trip to the hub (default 200 ms).
	EdgeDelay time.Duration
	// Intervals are the batch strategies (default 15 min and 60 s).
	Intervals []time.Duration
	// SettleAfter is how long the destination keeps a Shopify-side
	// decrease it has not seen in the ledger yet (default 2 min, the
	// Shopify destination's default).
	SettleAfter time.Duration
	// RestoreRate and BucketSize are the simulated shop's bucket (default
	// the Standard plan: 100 points/s, 2,000 points).
	RestoreRate float64
	BucketSize  float64
	// Propagation is tillsync's sale-to-Shopify latency: each push lands
	// after a delay drawn from it. Oversell sets it from the measured
	// shopifybench run unless it is given.
	Propagation Propagation
}

// Propagation is a latency distribution given by its quantiles. Samples
// are interpolated linearly between p50, p95, p99 and max; below the
// median they are the median (never faster than measured).
type Propagation struct {
	P50, P95, P99, Max time.Duration
	// Source says where the numbers come from ("measured", "given").
	Source string
}

// IsZero reports whether no distribution is set.
func (p Propagation) IsZero() bool { return p.Max == 0 && p.P50 == 0 }

// sample maps u in [0, 1) to a delay.
func (p Propagation) sample(u float64) time.Duration {
	pts := []struct {
		q float64
		d time.Duration
	}{{0.5, p.P50}, {0.95, p.P95}, {0.99, p.P99}, {1, p.Max}}
	if u <= pts[0].q {
		return pts[0].d
	}
	for i := 1; i < len(pts); i++ {
		if u <= pts[i].q {
			a, b := pts[i-1], pts[i]
			f := (u - a.q) / (b.q - a.q)
			return a.d + time.Duration(f*float64(b.d-a.d))
		}
	}
	return p.Max
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Stores, 50)
	def(&c.SKUs, 1000)
	def(&c.StoresPerSKU, 3)
	c.StoresPerSKU = min(c.StoresPerSKU, c.Stores)
	def(&c.MinUnits, 1)
	def(&c.MaxUnits, 5)
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	deff(&c.Hours, 10)
	deff(&c.StoreRate, 15)
	deff(&c.OnlineRate, 400)
	deff(&c.Peak, 4)
	deff(&c.RestoreRate, 100)
	deff(&c.BucketSize, 20*c.RestoreRate)
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defd(&c.WebhookMin, 500*time.Millisecond)
	defd(&c.WebhookMax, 3*time.Second)
	defd(&c.PickMin, 20*time.Minute)
	defd(&c.PickMax, 120*time.Minute)
	defd(&c.EdgeDelay, 200*time.Millisecond)
	defd(&c.SettleAfter, 2*time.Minute)
	if len(c.Intervals) == 0 {
		c.Intervals = []time.Duration{15 * time.Minute, time.Minute}
	}
}

// Validate names the first field that cannot be simulated.
func (c *Config) Validate() error {
	switch {
	case c.Stores < 1 || c.Stores > 10_000:
		return fmt.Errorf("oversell: stores %d: want 1 to 10,000", c.Stores)
	case c.SKUs < 1 || c.SKUs > 100_000:
		return fmt.Errorf("oversell: skus %d: want 1 to 100,000", c.SKUs)
	case c.Stores*c.SKUs > 2_000_000:
		return fmt.Errorf("oversell: %d stores × %d skus is more than 2,000,000 levels", c.Stores, c.SKUs)
	case c.MinUnits > c.MaxUnits:
		return fmt.Errorf("oversell: units %d–%d: the minimum is above the maximum", c.MinUnits, c.MaxUnits)
	case c.Hours > 48:
		return fmt.Errorf("oversell: hours %g: want at most 48 simulated hours", c.Hours)
	case c.WebhookMin > c.WebhookMax:
		return fmt.Errorf("oversell: webhook delay %s–%s: the minimum is above the maximum", c.WebhookMin, c.WebhookMax)
	case c.PickMin > c.PickMax:
		return fmt.Errorf("oversell: pick delay %s–%s: the minimum is above the maximum", c.PickMin, c.PickMax)
	case c.Propagation.IsZero():
		return fmt.Errorf("oversell: no sale-to-Shopify propagation latency given")
	case c.Propagation.P50 > c.Propagation.P95 || c.Propagation.P95 > c.Propagation.P99 || c.Propagation.P99 > c.Propagation.Max:
		return fmt.Errorf("oversell: propagation quantiles %s/%s/%s/%s are not increasing", c.Propagation.P50, c.Propagation.P95, c.Propagation.P99, c.Propagation.Max)
	}
	for _, iv := range c.Intervals {
		if iv < time.Second {
			return fmt.Errorf("oversell: batch interval %s: want at least 1s", iv)
		}
	}
	return nil
}
