package quarantine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/store"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Items  int // catalog size (default 20,000)
	Events int // events per timed run (default 20,000)
	Batch  int // events per commit, as the group committer makes them (default 200)
	Lines  int // lines per sale (default 3)
	Rounds int // timed runs per variant, alternating (default 5)
	// RepairShare and UnknownShare are the shares of lines, in the mixed
	// workload, with a code the resolver repairs and one it cannot
	// (defaults 0.05 and 0.01).
	RepairShare, UnknownShare float64
	// Dir holds the SQLite files (default: a new temporary directory).
	Dir  string
	Seed uint64
}

// BenchRun is one variant's figures: events per second, best and median
// of the rounds.
type BenchRun struct {
	Name      string  `json:"name"`
	BestPerS  float64 `json:"best_events_per_sec"`
	MedianPer float64 `json:"median_events_per_sec"`
	Held      int     `json:"held"`
	Repaired  int     `json:"repaired_lines"`
}

// BenchReport is what `tillsync bench quarantine` prints.
type BenchReport struct {
	Items  int `json:"catalog_items"`
	Events int `json:"events"`
	Batch  int `json:"batch"`
	Lines  int `json:"lines_per_event"`
	// Stored are runs into a real SQLite log (fsync at every commit): the
	// baseline without a catalog, the quarantine with every code a
	// catalog SKU, and with repaired and unknown codes mixed in.
	Stored []BenchRun `json:"stored"`
	// NoLog are the same three into a sink that stores nothing: what the
	// quarantine itself costs — resolving codes, and in the mixed run its
	// own fsynced writes of held events and repairs.
	NoLog []BenchRun `json:"no_log"`
	// StoredRatio is the quarantine's throughput (all catalog SKUs) over
	// the baseline's, into the real log; NoLogNanosPerEvent what it adds per
	// event, all codes catalog SKUs and mixed.
	StoredRatio        float64 `json:"stored_ratio"`
	StoredMixedRatio   float64 `json:"stored_mixed_ratio"`
	NoLogNanosPerEvent float64 `json:"no_log_added_ns_per_event"`
	NoLogNanosMixed    float64 `json:"no_log_added_ns_per_event_mixed"`
}

type nullSink struct{}

func (nullSink) Commit(_ context.Context, events []*event.Event) ([]intake.Outcome, error) {
	out := make([]intake.Outcome, len(events))
	for i := range out {
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: int64(i + 1)}
	}
	return out, nil
}

// storeSink appends to a store, as the hub's sink does.
type storeSink struct{ st *store.Store }

func (s storeSink) Commit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	app, err := s.st.Append(ctx, events, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]intake.Outcome, len(events))
	for i, r := range app.Results {
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: r.Seq}
		if r.Outcome != store.Accepted {
			out[i].Status = intake.StatusDuplicate
		}
	}
	return out, nil
}

// validCode is what intake accepts as a SKU: letters, digits and . _ : / @ # -.
func validCode(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '/', c == '@', c == '#', c == '-':
		default:
			return false
		}
	}
	return true
}

// Bench measures commits through the quarantine against the same commits
// without it, side by side in one run: into a real SQLite log, and into a
// sink that stores nothing.
func Bench(ctx context.Context, opt BenchOptions) (*BenchReport, error) {
	if opt.Items <= 0 {
		opt.Items = 20_000
	}
	if opt.Events <= 0 {
		opt.Events = 20_000
	}
	if opt.Batch <= 0 {
		opt.Batch = 200
	}
	if opt.Lines <= 0 {
		opt.Lines = 3
	}
	if opt.Rounds <= 0 {
		opt.Rounds = 5
	}
	if opt.RepairShare == 0 && opt.UnknownShare == 0 {
		opt.RepairShare, opt.UnknownShare = 0.05, 0.01
	}
	if opt.Dir == "" {
		dir, err := os.MkdirTemp("", "tillsync-bench-quarantine-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		opt.Dir = dir
	}
	cat := mapping.GenerateCatalog(opt.Seed+1, opt.Items)
	res := mapping.NewResolver(cat, mapping.Options{})
	var repairable, unknown []string
	for _, l := range mapping.GenerateLabelled(cat, opt.Seed+2, 4000, 0.3) {
		if !validCode(l.Code) {
			continue
		}
		if _, ok := cat.Item(l.Code); ok {
			continue
		}
		s := res.Suggest(l.Code, "", "pos")
		best, _ := s.Best()
		switch {
		case l.SKU != "" && s.AutoApply && best.SKU == l.SKU:
			repairable = append(repairable, l.Code)
		case !s.AutoApply:
			unknown = append(unknown, l.Code)
		}
	}
	if len(repairable) == 0 || len(unknown) == 0 {
		return nil, fmt.Errorf("bench quarantine: no repairable (%d) or unknown (%d) codes generated", len(repairable), len(unknown))
	}
	items := cat.Items()
	gen := func(round int, mixed bool) []*event.Event {
		rng := rand.New(rand.NewPCG(opt.Seed+uint64(round), 7)) //nolint:gosec // benchmark data
		base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		evs := make([]*event.Event, opt.Events)
		for i := range evs {
			s := &event.Sale{Currency: "EUR", Register: "r1"}
			for range opt.Lines {
				code := items[rng.IntN(len(items))].SKU
				if mixed {
					switch p := rng.Float64(); {
					case p < opt.UnknownShare:
						code = unknown[rng.IntN(len(unknown))]
					case p < opt.UnknownShare+opt.RepairShare:
						code = repairable[rng.IntN(len(repairable))]
					}
				}
				s.Lines = append(s.Lines, event.SaleLine{SKU: code, Quantity: event.Units(1), UnitPrice: 1000})
			}
			s.Tenders = []event.Tender{{Kind: event.TenderCash, Amount: event.Amount(1000 * opt.Lines)}}
			evs[i] = &event.Event{ID: fmt.Sprintf("r%d-e%d", round, i), Type: event.TypeSale, Location: "s1", Source: "pos",
				OccurredAt: base.Add(time.Duration(i) * time.Second), Zone: "Europe/Berlin", ReceivedAt: base, Body: s}
		}
		return evs
	}
	type variant struct {
		name  string
		quar  bool
		mixed bool
	}
	variants := []variant{{"baseline (no catalog)", false, false}, {"quarantine, catalog SKUs", true, false}, {"quarantine, mixed codes", true, true}}
	run := func(v variant, round int, stored bool) (float64, int, int, error) {
		var next intake.Sink = nullSink{}
		var st *store.Store
		if stored || v.quar {
			var err error
			st, err = store.Open(ctx, "sqlite:"+filepath.Join(opt.Dir, fmt.Sprintf("bench-%d-%t-%t-%t.db", round, stored, v.quar, v.mixed)))
			if err != nil {
				return 0, 0, 0, err
			}
			defer func() { _ = st.Close() }()
			if stored {
				next = storeSink{st}
			}
		}
		sink := next
		var q *Quarantine
		if v.quar {
			var err error
			if q, err = New(ctx, Config{Store: st, Next: next, Resolver: res}); err != nil {
				return 0, 0, 0, err
			}
			sink = q
		}
		evs := gen(round, v.mixed)
		repaired := 0
		start := time.Now()
		held := 0
		for i := 0; i < len(evs); i += opt.Batch {
			outs, err := sink.Commit(ctx, evs[i:min(i+opt.Batch, len(evs))])
			if err != nil {
				return 0, 0, 0, err
			}
			for _, o := range outs {
				if o.Quarantined {
					held++
				}
			}
		}
		took := time.Since(start)
		for _, e := range evs {
			for _, l := range e.Body.(*event.Sale).Lines {
				if l.Code != "" {
					repaired++
				}
			}
		}
		return float64(len(evs)) / took.Seconds(), held, repaired, nil
	}
	rep := &BenchReport{Items: opt.Items, Events: opt.Events, Batch: opt.Batch, Lines: opt.Lines}
	for _, stored := range []bool{true, false} {
		rates := make([][]float64, len(variants))
		runs := make([]BenchRun, len(variants))
		for round := range opt.Rounds {
			for i, v := range variants {
				r, held, repaired, err := run(v, round, stored)
				if err != nil {
					return nil, fmt.Errorf("bench quarantine %s: %w", v.name, err)
				}
				rates[i] = append(rates[i], r)
				runs[i].Name, runs[i].Held, runs[i].Repaired = v.name, held, repaired
			}
		}
		for i := range runs {
			sort.Float64s(rates[i])
			runs[i].BestPerS, runs[i].MedianPer = rates[i][len(rates[i])-1], rates[i][len(rates[i])/2]
		}
		if stored {
			rep.Stored = runs
			rep.StoredRatio = runs[1].BestPerS / runs[0].BestPerS
			rep.StoredMixedRatio = runs[2].BestPerS / runs[0].BestPerS
		} else {
			rep.NoLog = runs
			rep.NoLogNanosPerEvent = 1e9/runs[1].BestPerS - 1e9/runs[0].BestPerS
			rep.NoLogNanosMixed = 1e9/runs[2].BestPerS - 1e9/runs[0].BestPerS
		}
	}
	return rep, nil
}
