package oversell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/channel/shopify/shopifybench"
	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

// Targets of the benchmark. A missed one is reported, not failed.
const (
	// TargetOversold is the most units tillsync may oversell.
	TargetOversold = 0
	// TargetPhantomRatio is how many times less phantom exposure tillsync
	// must have than the 15-minute batch.
	TargetPhantomRatio = 100
	// TargetUtilisation is the least share of the shop's restore rate a
	// backlog must use, TargetThrottled the most requests Shopify may
	// throttle, TargetP95 the slowest sale-to-Shopify p95.
	TargetUtilisation = 0.9
	TargetThrottled   = 0.01
	TargetP95         = 2 * time.Second
)

// Options configure a run.
type Options struct {
	Day Config
	// Shopify configures the measurement of the real destination against
	// the simulated shop (Dir is filled in). Its sale-to-Shopify latency
	// becomes Day.Propagation unless that is given. SkipShopify leaves the
	// measurement out (then Day.Propagation is required).
	Shopify     shopifybench.Config
	SkipShopify bool
	// Progress receives progress lines (default: discarded).
	Progress io.Writer
}

// Report is the outcome.
type Report struct {
	Day        DaySummary `json:"day"`
	Strategies []*Result  `json:"strategies"`
	// PhantomRatio is the 15-minute batch's phantom exposure over
	// tillsync's; null (and PhantomRatioText "∞") when tillsync had none.
	PhantomRatio     *float64 `json:"phantom_ratio"`
	PhantomRatioText string   `json:"phantom_ratio_text"`
	// Baseline names the strategy the ratio is taken against.
	Baseline string `json:"phantom_baseline"`

	TillsyncOversold   int64    `json:"tillsync_oversold_units"`
	OversoldTarget     int64    `json:"oversold_target"`
	OversoldPass       bool     `json:"oversold_pass"`
	PhantomRatioTarget float64  `json:"phantom_ratio_target"`
	PhantomRatioPass   bool     `json:"phantom_ratio_pass"`
	SimulationSeconds  float64  `json:"simulation_wall_seconds"`
	Propagation        Latency  `json:"propagation"`
	Shopify            *Shopify `json:"shopify,omitempty"`
	Pass               bool     `json:"pass"`
	CPUs               int      `json:"cpus"`
}

// DaySummary is the simulated day.
type DaySummary struct {
	Stores          int     `json:"stores"`
	SKUs            int     `json:"skus"`
	Hours           float64 `json:"hours"`
	Seed            uint64  `json:"seed"`
	StoresPerSKU    int     `json:"stores_per_sku"`
	UnitsPerLevel   string  `json:"units_per_level"`
	OpeningUnits    int64   `json:"opening_units"`
	TillCustomers   int     `json:"till_customers"`
	OnlineCustomers int     `json:"online_customers"`
	PeakFactor      float64 `json:"peak_factor"`
	WebhookDelay    string  `json:"webhook_delay"`
	EdgeDelayMs     float64 `json:"edge_delay_ms"`
	SettleAfterS    float64 `json:"settle_after_s"`
	ShopRestoreRate float64 `json:"shop_restore_rate"`
}

// Latency is the sale-to-Shopify distribution tillsync's pushes used.
type Latency struct {
	Source string  `json:"source"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Shopify is the measured part: the real destination against the
// simulated shop under a backlog, in real time.
type Shopify struct {
	Error  string              `json:"error,omitempty"`
	Report shopifybench.Report `json:"report"`
	// The report's headline numbers in plain units (its durations are
	// nanoseconds).
	UtilisationPct float64 `json:"utilisation_pct"`
	ThrottledPct   float64 `json:"throttled_pct"`
	P50Ms          float64 `json:"p50_ms"`
	P95Ms          float64 `json:"p95_ms"`

	UtilisationTarget float64 `json:"utilisation_target"`
	UtilisationPass   bool    `json:"utilisation_pass"`
	ThrottledTarget   float64 `json:"throttled_target"`
	ThrottledPass     bool    `json:"throttled_pass"`
	P95TargetMs       float64 `json:"p95_target_ms"`
	P95Pass           bool    `json:"p95_pass"`
	Seconds           float64 `json:"seconds"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// Run measures the Shopify destination (unless skipped), then simulates
// the day under every batch interval and under tillsync, on the same
// demand. It returns what it has and an error if a part failed or the
// ledger disagreed with the stores; missed targets are not errors.
func Run(ctx context.Context, opt Options) (*Report, error) {
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(progress, "bench oversell: "+format+"\n", args...)
	}
	cfg := opt.Day
	cfg.defaults()
	rep := &Report{CPUs: runtime.NumCPU(), OversoldTarget: TargetOversold, PhantomRatioTarget: TargetPhantomRatio}
	var errs []error

	if !opt.SkipShopify {
		sh, err := measureShopify(ctx, opt.Shopify, say)
		rep.Shopify = sh
		if err != nil {
			errs = append(errs, err)
		} else if cfg.Propagation.IsZero() {
			r := sh.Report
			cfg.Propagation = Propagation{P50: r.P50, P95: r.P95, P99: r.P99, Max: r.Max, Source: "measured"}
		}
	}
	if cfg.Propagation.Source == "" {
		cfg.Propagation.Source = "given"
	}
	p := cfg.Propagation
	rep.Propagation = Latency{Source: p.Source, P50Ms: ms(p.P50), P95Ms: ms(p.P95), P99Ms: ms(p.P99), MaxMs: ms(p.Max)}
	if err := cfg.Validate(); err != nil {
		return rep, errors.Join(append(errs, err)...)
	}

	t0 := time.Now()
	d := newDay(&cfg)
	rep.Day = summarise(&cfg, d)
	say("%d stores × %d SKUs over %g simulated hours: %d till customers, %d online customers; pushes land after %s-%s (%s)",
		cfg.Stores, cfg.SKUs, cfg.Hours, rep.Day.TillCustomers, rep.Day.OnlineCustomers, p.P50, p.Max, p.Source)
	type job struct {
		name     string
		interval time.Duration
	}
	var jobs []job
	for _, iv := range cfg.Intervals {
		jobs = append(jobs, job{"batch " + every(iv), iv})
	}
	jobs = append(jobs, job{"tillsync", 0})
	rep.Strategies = make([]*Result, len(jobs))
	runErrs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			t := time.Now()
			r, err := run(&cfg, d, j.name, j.interval)
			if err != nil {
				runErrs[i] = err
				say("%s: %v", j.name, err)
				return
			}
			rep.Strategies[i] = r
			say("%s: %d oversold units, %.0f phantom SKU-seconds (%.1fs)", j.name, r.OversoldUnits, r.PhantomSKUSeconds, time.Since(t).Seconds())
		})
	}
	wg.Wait()
	rep.SimulationSeconds = math.Round(time.Since(t0).Seconds()*1000) / 1000
	errs = append(errs, runErrs...)
	rep.judge()
	return rep, errors.Join(errs...)
}

// judge fills the ratio and the verdicts.
func (rep *Report) judge() {
	var till, base *Result
	for _, r := range rep.Strategies {
		switch {
		case r == nil:
		case r.Strategy == "tillsync":
			till = r
		case base == nil || r.IntervalS > base.IntervalS:
			base = r // the slowest batch: 15 minutes by default
		}
	}
	if till == nil {
		return
	}
	rep.TillsyncOversold = till.OversoldUnits
	rep.OversoldPass = till.OversoldUnits <= TargetOversold
	if base != nil {
		rep.Baseline = base.Name
		switch {
		case till.PhantomSKUSeconds == 0 && base.PhantomSKUSeconds > 0:
			rep.PhantomRatioText, rep.PhantomRatioPass = "∞", true
		case till.PhantomSKUSeconds > 0:
			r := math.Round(base.PhantomSKUSeconds/till.PhantomSKUSeconds*10) / 10
			rep.PhantomRatio, rep.PhantomRatioText = &r, fmt.Sprintf("%.1f×", r)
			rep.PhantomRatioPass = r >= TargetPhantomRatio
		default:
			rep.PhantomRatioText = "n/a (no phantom stock in either)"
		}
	}
	rep.Pass = rep.OversoldPass && rep.PhantomRatioPass
	if sh := rep.Shopify; sh != nil {
		rep.Pass = rep.Pass && sh.UtilisationPass && sh.ThrottledPass && sh.P95Pass
	}
}

func every(d time.Duration) string {
	switch {
	case d%time.Minute == 0 && d >= 2*time.Minute:
		return fmt.Sprintf("every %d min", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("every %d s", d/time.Second)
	}
	return "every " + d.String()
}

func summarise(c *Config, d *day) DaySummary {
	s := DaySummary{Stores: c.Stores, SKUs: c.SKUs, StoresPerSKU: c.StoresPerSKU, Hours: c.Hours, Seed: c.Seed,
		UnitsPerLevel: fmt.Sprintf("%d-%d", c.MinUnits, c.MaxUnits), PeakFactor: c.Peak,
		WebhookDelay: fmt.Sprintf("%s-%s", c.WebhookMin, c.WebhookMax), EdgeDelayMs: ms(c.EdgeDelay),
		SettleAfterS: c.SettleAfter.Seconds(), ShopRestoreRate: c.RestoreRate}
	for _, q := range d.stock {
		s.OpeningUnits += q
	}
	for _, x := range d.demands {
		if x.online {
			s.OnlineCustomers++
		} else {
			s.TillCustomers++
		}
	}
	return s
}

// measureShopify runs shopifybench.Measure: the real Shopify destination
// (its governor, batching and compare-and-set) against the simulated shop
// on the Standard plan under a backlog, in real time.
func measureShopify(ctx context.Context, cfg shopifybench.Config, say func(string, ...any)) (*Shopify, error) {
	sh := &Shopify{UtilisationTarget: TargetUtilisation, ThrottledTarget: TargetThrottled, P95TargetMs: ms(TargetP95)}
	if cfg.Plan == "" {
		cfg.Plan = shopifyadmin.Standard
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "tillsync-bench-oversell-")
		if err != nil {
			sh.Error = err.Error()
			return sh, fmt.Errorf("bench oversell: temp dir: %w", err)
		}
		defer func() { _ = os.RemoveAll(dir) }()
		cfg.Dir = dir
	}
	say("shopify: the destination against a simulated %s shop under a backlog, in real time (about half a minute)", cfg.Plan)
	t := time.Now()
	r, err := shopifybench.Measure(ctx, cfg)
	sh.Seconds = math.Round(time.Since(t).Seconds()*10) / 10
	if err != nil {
		sh.Error = err.Error()
		return sh, fmt.Errorf("bench oversell: shopify: %w", err)
	}
	sh.Report = r
	sh.UtilisationPct = math.Round(r.Utilisation*1000) / 10
	sh.ThrottledPct = math.Round(r.ThrottledShare*10000) / 100
	sh.P50Ms, sh.P95Ms = ms(r.P50), ms(r.P95)
	sh.UtilisationPass = r.Saturated && r.Utilisation >= TargetUtilisation
	sh.ThrottledPass = r.ThrottledShare <= TargetThrottled
	sh.P95Pass = r.Delivered == r.Sales && r.P95 <= TargetP95
	say("shopify: %s", r)
	return sh, nil
}
