package recbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

// Targets of the benchmark (issue 6).
const (
	TargetTotalSeconds = 10.0
	TargetRatio        = 1.5
	TargetPeakMiB      = 1024.0
)

// Options configure a run.
type Options struct {
	Data Data
	// Dir holds the files; empty makes a temporary directory, removed
	// afterwards.
	Dir string
	// Rounds of matching and hash join, alternating; the best of each is
	// compared (and the medians reported).
	Rounds   int
	Config   reconcile.Config
	Progress io.Writer
	// MemoryLimit, when positive, is the Go runtime's soft memory limit in
	// bytes (as GOMEMLIMIT would set it) for the run.
	MemoryLimit int64
}

// DefaultOptions is the size: a million tenders against a million
// settlement lines, 2 % of them without the payment reference.
func DefaultOptions() Options {
	return Options{
		Data:   Data{Tenders: 1_000_000, Lines: 1_000_000, Stores: 50, Days: 30, MissingRefPct: 2, Seed: 6},
		Rounds: 5, Config: reconcile.DefaultConfig(),
	}
}

// Report is what a run measured.
type Report struct {
	Tenders         int     `json:"tenders"`
	Lines           int     `json:"lines"`
	TenderFileMB    float64 `json:"tender_file_mb"`
	SettlementMB    float64 `json:"settlement_file_mb"`
	GenerateSeconds float64 `json:"generate_seconds"`
	// ParseSeconds reads both files at once: the tenders in one goroutine,
	// the report in as many pieces as there are cores.
	ParseSeconds float64 `json:"parse_seconds"`
	// MatchSeconds is the engine's Run and Review, HashJoinSeconds a plain
	// map join on the payment reference over the same parsed data, each the
	// best of the rounds (the round least disturbed by other work on the
	// machine); Ratio is the one over the other, RatioMedian the same of
	// the medians.
	MatchSeconds    float64   `json:"match_seconds"`
	HashJoinSeconds float64   `json:"hash_join_seconds"`
	Ratio           float64   `json:"ratio"`
	RatioMedian     float64   `json:"ratio_median"`
	MatchRounds     []float64 `json:"match_rounds"`
	HashJoinRounds  []float64 `json:"hash_join_rounds"`
	// The CPU seconds of the same phases (best of the rounds), which other
	// processes on the machine disturb less than the wall clock.
	ParseCPUSeconds    float64 `json:"parse_cpu_seconds"`
	MatchCPUSeconds    float64 `json:"match_cpu_seconds"`
	HashJoinCPUSeconds float64 `json:"hash_join_cpu_seconds"`
	CPURatio           float64 `json:"cpu_ratio"`
	LoadAverage        string  `json:"load_average,omitempty"`
	MemoryLimitMiB     float64 `json:"memory_limit_mib,omitempty"`
	// TotalSeconds is parsing plus the first matching round: a
	// reconciliation of the files from cold.
	TotalSeconds float64 `json:"total_seconds"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"`
	Cores        int     `json:"cores"`

	HashJoinMatched int               `json:"hash_join_matched"`
	Summary         reconcile.Summary `json:"summary"`
	Exceptions      int               `json:"exceptions"`
	Expected        Files             `json:"expected"`
	// Problems are the checks of the result that failed: a bench that is
	// fast but wrong is not a result.
	Problems []string `json:"problems"`

	TotalOK  bool `json:"total_ok"`
	RatioOK  bool `json:"ratio_ok"`
	MemoryOK bool `json:"memory_ok"`
}

func (o Options) logf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// Run generates the files, then parses and matches them, and runs the hash
// join, in the same process.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Rounds < 1 {
		o.Rounds = 1
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "tillsync-bench-reconcile-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(d) }()
		dir = d
	}
	rep := &Report{Cores: runtime.GOMAXPROCS(0), Problems: []string{}}
	if o.MemoryLimit > 0 {
		old := debug.SetMemoryLimit(o.MemoryLimit)
		defer debug.SetMemoryLimit(old)
		rep.MemoryLimitMiB = float64(o.MemoryLimit) / (1 << 20)
	}
	o.logf("generating %d tenders and %d settlement lines in %s", o.Data.Tenders, o.Data.Lines, dir)
	t0 := time.Now()
	files, err := Generate(dir, o.Data)
	if err != nil {
		return nil, err
	}
	rep.GenerateSeconds = time.Since(t0).Seconds()
	rep.Expected = files
	rep.TenderFileMB = float64(files.TenderBytes) / (1 << 20)
	rep.SettlementMB = float64(files.SettlementBytes) / (1 << 20)
	runtime.GC()

	o.logf("parsing %.0f MB of tenders and %.0f MB of settlement report", rep.TenderFileMB, rep.SettlementMB)
	t0, c0 := time.Now(), cpuSeconds()
	tenders, lines, err := parse(files, o.Data)
	if err != nil {
		return nil, err
	}
	rep.ParseSeconds = time.Since(t0).Seconds()
	rep.ParseCPUSeconds = cpuSeconds() - c0
	rep.Tenders, rep.Lines = len(tenders), len(lines)

	asOf := start.AddDate(0, 0, o.Data.Days+30)
	var matchCPU, joinCPU []float64
	for r := 0; r < o.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		runtime.GC()
		t0, c0 = time.Now(), cpuSeconds()
		exc := exception.NewMemory()
		e, err := reconcile.NewEngine(o.Config, exc)
		if err != nil {
			return nil, err
		}
		e.AddTenders(tenders...)
		e.AddLines(lines...)
		if err := e.Run(ctx); err != nil {
			return nil, err
		}
		if err := e.Review(ctx, asOf); err != nil {
			return nil, err
		}
		sec := time.Since(t0).Seconds()
		matchCPU = append(matchCPU, cpuSeconds()-c0)
		rep.MatchRounds = append(rep.MatchRounds, sec)
		if r == 0 {
			rep.TotalSeconds = rep.ParseSeconds + sec
			rep.Summary = e.Summary()
			rep.Exceptions = len(exc.Open())
		}
		e, exc = nil, nil //nolint:ineffassign,wastedassign // let the round's engine go before the join
		_, _ = e, exc
		runtime.GC()
		t0, c0 = time.Now(), cpuSeconds()
		n := HashJoin(tenders, lines)
		rep.HashJoinRounds = append(rep.HashJoinRounds, time.Since(t0).Seconds())
		joinCPU = append(joinCPU, cpuSeconds()-c0)
		rep.HashJoinMatched = n
		o.logf("round %d: match %.3fs, hash join %.3fs", r+1, sec, rep.HashJoinRounds[r])
	}
	rep.MatchSeconds = best(rep.MatchRounds)
	rep.HashJoinSeconds = best(rep.HashJoinRounds)
	if rep.HashJoinSeconds > 0 {
		rep.Ratio = rep.MatchSeconds / rep.HashJoinSeconds
	}
	if m := median(rep.HashJoinRounds); m > 0 {
		rep.RatioMedian = median(rep.MatchRounds) / m
	}
	rep.MatchCPUSeconds, rep.HashJoinCPUSeconds = best(matchCPU), best(joinCPU)
	if rep.HashJoinCPUSeconds > 0 {
		rep.CPURatio = rep.MatchCPUSeconds / rep.HashJoinCPUSeconds
	}
	rep.LoadAverage = loadAverage()
	rep.PeakRSSMiB = peakRSSMiB()
	rep.check()
	rep.TotalOK = rep.TotalSeconds <= TargetTotalSeconds
	rep.RatioOK = rep.Ratio <= TargetRatio
	rep.MemoryOK = rep.PeakRSSMiB > 0 && rep.PeakRSSMiB <= TargetPeakMiB
	runtime.KeepAlive(tenders)
	runtime.KeepAlive(lines)
	return rep, nil
}

// check compares the engine's result with what the generator wrote.
func (r *Report) check() {
	s, x := &r.Summary, &r.Expected
	bad := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	if s.OpenTenders != x.Unsettled {
		bad("open tenders %d, generated %d unsettled", s.OpenTenders, x.Unsettled)
	}
	if s.OpenLines != x.Orphans {
		bad("open payment lines %d, generated %d orphans", s.OpenLines, x.Orphans)
	}
	if s.ByRule["payout"] != x.Batches {
		bad("payouts matched %d of %d batches", s.ByRule["payout"], x.Batches)
	}
	if s.ByRule["card"] < x.MissingRefs*9/10 {
		bad("card rule matched %d of %d lines without reference", s.ByRule["card"], x.MissingRefs)
	}
	if s.DuplicateLines+s.DuplicateTenders != 0 {
		bad("duplicates reported in distinct data: %d lines, %d tenders", s.DuplicateLines, s.DuplicateTenders)
	}
}

// parse reads both files at once, one goroutine each.
func parse(f Files, d Data) ([]reconcile.Tender, []reconcile.Line, error) {
	tenders := make([]reconcile.Tender, 0, d.Tenders)
	terr := make(chan error, 1)
	go func() {
		in, err := os.Open(f.Tenders)
		if err != nil {
			terr <- err
			return
		}
		defer func() { _ = in.Close() }()
		terr <- reconcile.ReadTenders(in, f.Tenders, func(t reconcile.Tender) error {
			tenders = append(tenders, t)
			return nil
		})
	}()
	in, err := os.Open(f.Settlement)
	if err != nil {
		return nil, nil, errors.Join(err, <-terr)
	}
	defer func() { _ = in.Close() }()
	st, err := in.Stat()
	if err != nil {
		return nil, nil, errors.Join(err, <-terr)
	}
	lines, _, serr := reconcile.ParallelParse(in, st.Size(), runtime.GOMAXPROCS(0),
		func() settlement.Parser { return &stripe.Parser{File: f.Settlement} }, nil)
	var ctl *settlement.ControlTotalError
	if errors.As(serr, &ctl) {
		serr = nil // net ≠ gross − fee is the parser's report, not a reason to stop
	}
	if err := errors.Join(<-terr, serr); err != nil {
		return nil, nil, err
	}
	return tenders, lines, nil
}

// HashJoin is the baseline: a map from the tenders' reference, probed with
// each line's payment reference, keeping the pairs whose amounts agree.
func HashJoin(ts []reconcile.Tender, ls []reconcile.Line) int {
	m := make(map[string]int32, len(ts))
	for i := range ts {
		if ts[i].Reference != "" {
			m[ts[i].Reference] = int32(i) //nolint:gosec // G115: fewer than 2^31
		}
	}
	pairs := make([][2]int32, 0, len(ls))
	for j := range ls {
		if i, ok := m[ls[j].Refs.Payment]; ok && ts[i].Total() == ls[j].Gross {
			pairs = append(pairs, [2]int32{i, int32(j)}) //nolint:gosec // G115: as above
		}
	}
	return len(pairs)
}

// loadAverage is /proc/loadavg's first three fields, where there is one:
// other work on the machine, which the timings include.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func best(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	b := v[0]
	for _, x := range v[1:] {
		b = min(b, x)
	}
	return b
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64{}, v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
