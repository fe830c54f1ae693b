package mapping

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Items    int           // catalog size (default 100,000)
	Queries  int           // erroneous codes looked up (default 20,000)
	Baseline int           // codes the linear-scan baseline looks up (default 200)
	Duration time.Duration // minimum time of each timed indexed run (default 2s)
	Seed     uint64
}

// BenchReport is what `tillsync bench mapping` prints.
type BenchReport struct {
	Items           int     `json:"catalog_items"`
	BuildSeconds    float64 `json:"index_build_seconds"`
	Queries         int     `json:"queries"`
	Lookups         int     `json:"lookups"`
	LookupsPerSec   float64 `json:"lookups_per_sec"`
	ParallelWorkers int     `json:"parallel_workers"`
	ParallelPerSec  float64 `json:"parallel_lookups_per_sec"`
	MicrosPerLookup float64 `json:"micros_per_lookup"`
	// CPUPerSec is lookups per second of process CPU time in the
	// one-goroutine run: what one unshared core does, whatever else
	// the machine runs.
	CPUPerSec            float64 `json:"lookups_per_cpu_sec"`
	BaselineName         string  `json:"baseline"`
	BaselineQueries      int     `json:"baseline_queries"`
	BaselinePerSec       float64 `json:"baseline_lookups_per_sec"`
	BaselineCPUPerSec    float64 `json:"baseline_lookups_per_cpu_sec"`
	IndexedSamePerSec    float64 `json:"indexed_same_queries_per_sec"`
	IndexedSameCPUPerSec float64 `json:"indexed_same_queries_per_cpu_sec"`
	Ratio                float64 `json:"ratio"`
	Agreement            float64 `json:"baseline_top1_agreement"`
	Target               float64 `json:"target_lookups_per_sec"`
	TargetMet            bool    `json:"target_met"`
	// Eval is the resolver's precision and auto share on the benchmark's
	// own queries against the large catalog (calibrated on the small one).
	Eval Report `json:"eval"`
	// EvalSelf is the same with the resolver calibrated on 20,000
	// synthetic codes made from the large catalog (Options.SelfCalibrate).
	EvalSelf             Report  `json:"eval_self_calibrated"`
	SelfCalibrateSeconds float64 `json:"self_calibrate_seconds"`
}

// Bench generates a catalog and erroneous codes, and measures lookups per
// second through the indexes, and through a linear scan of the catalog with
// the same checks on a sample of the same codes, in the same run.
func Bench(ctx context.Context, opt BenchOptions) (*BenchReport, error) {
	if opt.Items <= 0 {
		opt.Items = 100_000
	}
	if opt.Queries <= 0 {
		opt.Queries = 20_000
	}
	if opt.Baseline <= 0 {
		opt.Baseline = 200
	}
	if opt.Duration <= 0 {
		opt.Duration = 2 * time.Second
	}
	if opt.Seed == 0 {
		opt.Seed = 42
	}
	rep := &BenchReport{Items: opt.Items, Queries: opt.Queries, Target: 10_000}
	cat := GenerateCatalog(opt.Seed, opt.Items)
	qs := GenerateLabelled(cat, opt.Seed+1, opt.Queries, unknownShareBench)
	start := time.Now()
	r := NewResolver(cat, Options{})
	rep.BuildSeconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Indexed, one goroutine, whole passes over the queries until the
	// duration is reached.
	n := 0
	cpu0 := cpuTime()
	start = time.Now()
	for time.Since(start) < opt.Duration || n == 0 {
		for _, q := range qs {
			r.Suggest(q.Code, q.Description, q.Source)
		}
		n += len(qs)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	el := time.Since(start)
	if cpu := cpuTime() - cpu0; cpu > 0 {
		rep.CPUPerSec = float64(n) / cpu.Seconds()
	}
	rep.Lookups = n
	rep.LookupsPerSec = float64(n) / el.Seconds()
	rep.MicrosPerLookup = el.Seconds() * 1e6 / float64(n)

	// Indexed, one goroutine per CPU.
	workers := runtime.GOMAXPROCS(0)
	rep.ParallelWorkers = workers
	var total atomic.Int64
	start = time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; time.Since(start) < opt.Duration; k += workers {
				q := qs[k%len(qs)]
				r.Suggest(q.Code, q.Description, q.Source)
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	rep.ParallelPerSec = float64(total.Load()) / time.Since(start).Seconds()

	// Baseline: the same codes, every item checked.
	sample := qs[:min(opt.Baseline, len(qs))]
	rep.BaselineName = "linear scan of the catalog, same checks and scorer"
	rep.BaselineQueries = len(sample)
	agree := 0
	cpu0 = cpuTime()
	start = time.Now()
	base := make([]Suggestion, len(sample))
	for i, q := range sample {
		base[i] = r.suggest(q.Code, q.Description, q.Source, linear{r})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	rep.BaselinePerSec = float64(len(sample)) / time.Since(start).Seconds()
	if cpu := cpuTime() - cpu0; cpu > 0 {
		rep.BaselineCPUPerSec = float64(len(sample)) / cpu.Seconds()
	}
	cpu0 = cpuTime()
	start = time.Now()
	for range 10 {
		for i, q := range sample {
			s := r.Suggest(q.Code, q.Description, q.Source)
			if b, ok := base[i].Best(); ok == (len(s.Candidates) > 0) && (!ok || b.SKU == s.Candidates[0].SKU) {
				agree++
			}
		}
	}
	rep.IndexedSamePerSec = float64(10*len(sample)) / time.Since(start).Seconds()
	if cpu := cpuTime() - cpu0; cpu > 0 {
		rep.IndexedSameCPUPerSec = float64(10*len(sample)) / cpu.Seconds()
	}
	rep.Agreement = float64(agree) / float64(10*len(sample))
	rep.Ratio = rep.IndexedSamePerSec / rep.BaselinePerSec
	rep.TargetMet = rep.LookupsPerSec >= rep.Target
	rep.Eval = Evaluate(r, qs)
	rep.Eval.ByError, rep.Eval.Reliability = nil, nil
	// The same codes with a table calibrated on the large catalog itself
	// (other synthetic codes, another seed).
	start = time.Now()
	r.cal = CalibrateOn(r, selfCalibrationSeed, 20_000)
	rep.SelfCalibrateSeconds = time.Since(start).Seconds()
	rep.EvalSelf = Evaluate(r, qs)
	rep.EvalSelf.ByError, rep.EvalSelf.Reliability = nil, nil
	return rep, nil
}

const unknownShareBench = 0.15
