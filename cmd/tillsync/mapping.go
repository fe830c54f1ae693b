package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/mapping"
)

const mappingUsage = `Usage:
  tillsync mapping suggest --catalog FILE [--threshold 0.97] [--mappings FILE] [--rules FILE] [--source NAME] [--explain] [--self-calibrate N]
  tillsync mapping eval    --catalog FILE LABELLED.jsonl [--threshold 0.97] [--json] [--self-calibrate N]

suggest reads JSON lines {"code": ..., "description": ..., "source": ...} on
stdin (description and source optional) and writes one JSON line per input:
{"code": ..., "candidates": [{"sku": ..., "confidence": ...}, ...], "auto_apply": true|false}
with candidates best first; --explain adds each candidate's evidence.

eval runs the resolver over a labelled set (JSON lines with "code",
"description", "source" and the right "sku", "" when the item is not in the
catalog) and prints the precision of auto-applied answers, recall, and the
share of resolvable codes repaired automatically, by kind of error; with
--json, also one JSON object as the last line.

The catalog is CSV (a sku column, gtin/upc/ean columns, description, brand;
other columns are attributes such as size and colour) or JSON (an array of
{"sku", "gtins", "description", "brand", "attributes"} or one per line).
`

func runMapping(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, mappingUsage)
		return exitCode(2)
	}
	switch args[0] {
	case "suggest":
		return runMappingSuggest(ctx, args[1:], stdin, stdout, stderr)
	case "eval":
		return runMappingEval(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, mappingUsage)
		return nil
	}
	fmt.Fprintf(stderr, "tillsync mapping: unknown command %q\n\n%s", args[0], mappingUsage)
	return exitCode(2)
}

// mappingFlags are the flags suggest and eval share.
type mappingFlags struct {
	catalog, mappings, rules *string
	threshold                *float64
	self                     *int
}

func addMappingFlags(fs *flag.FlagSet) mappingFlags {
	return mappingFlags{
		catalog:   fs.String("catalog", "", "catalog `FILE`, CSV or JSON (required)"),
		mappings:  fs.String("mappings", "", "per-source mappings, CSV `FILE` with header source,code,sku"),
		rules:     fs.String("rules", "", "human decisions, JSON-lines `FILE` (read and learned from)"),
		threshold: fs.Float64("threshold", mapping.DefaultThreshold, "confidence at or above which a repair is applied automatically"),
		self:      fs.Int("self-calibrate", 0, "calibrate on `N` synthetic codes made from the catalog itself instead of the built-in table (large catalogs)"),
	}
}

func (f mappingFlags) resolver() (*mapping.Resolver, func(), error) {
	if *f.catalog == "" {
		return nil, nil, errors.New("--catalog is required")
	}
	if *f.threshold <= 0 || *f.threshold > 1 {
		return nil, nil, fmt.Errorf("--threshold %v: want a confidence in (0, 1]", *f.threshold)
	}
	cat, err := mapping.Load(*f.catalog)
	if err != nil {
		return nil, nil, err
	}
	if *f.mappings != "" {
		mf, err := os.Open(*f.mappings)
		if err != nil {
			return nil, nil, fmt.Errorf("mappings: %w", err)
		}
		err = cat.ReadMappings(mf)
		_ = mf.Close() // read only
		if err != nil {
			return nil, nil, fmt.Errorf("mappings %s: %w", *f.mappings, err)
		}
	}
	if *f.self < 0 {
		return nil, nil, fmt.Errorf("--self-calibrate %d: want a number of codes, or 0 for the built-in table", *f.self)
	}
	opt := mapping.Options{Threshold: *f.threshold, SelfCalibrate: *f.self}
	closer := func() {}
	if *f.rules != "" {
		fr, err := mapping.OpenFileRules(*f.rules)
		if err != nil {
			return nil, nil, err
		}
		opt.Rules = fr
		closer = func() { _ = fr.Close() }
	}
	return mapping.NewResolver(cat, opt), closer, nil
}

// mappingArgs parses flags that may come before or after positional
// arguments.
func mappingArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}

type suggestIn struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Source      string `json:"source"`
}

type candidateOut struct {
	SKU        string  `json:"sku"`
	Confidence float64 `json:"confidence"`
	Evidence   string  `json:"evidence,omitempty"`
	Detail     string  `json:"detail,omitempty"`
}

type suggestOut struct {
	Code       string         `json:"code"`
	Candidates []candidateOut `json:"candidates"`
	AutoApply  bool           `json:"auto_apply"`
}

func runMappingSuggest(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mapping suggest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, mappingUsage+"\nFlags of suggest:\n"); fs.PrintDefaults() }
	mf := addMappingFlags(fs)
	source := fs.String("source", "", "source `NAME` for lines that do not name one")
	explain := fs.Bool("explain", false, "add each candidate's evidence and detail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	r, closer, err := mf.resolver()
	if err != nil {
		return fmt.Errorf("mapping suggest: %w", err)
	}
	defer closer()
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var in suggestIn
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			_ = out.Flush()
			return fmt.Errorf("mapping suggest: stdin line %d: %w", line, err)
		}
		if in.Source == "" {
			in.Source = *source
		}
		s := r.Suggest(in.Code, in.Description, in.Source)
		o := suggestOut{Code: in.Code, Candidates: make([]candidateOut, 0, len(s.Candidates)), AutoApply: s.AutoApply}
		for _, c := range s.Candidates {
			co := candidateOut{SKU: c.SKU, Confidence: math.Round(c.Confidence*1e4) / 1e4}
			if *explain {
				co.Evidence, co.Detail = c.Evidence, c.Detail
			}
			o.Candidates = append(o.Candidates, co)
		}
		if err := enc.Encode(o); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		_ = out.Flush()
		return fmt.Errorf("mapping suggest: stdin: %w", err)
	}
	return out.Flush()
}

func runMappingEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mapping eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, mappingUsage+"\nFlags of eval:\n"); fs.PrintDefaults() }
	mf := addMappingFlags(fs)
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	files, err := mappingArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return exitCode(2)
	}
	r, closer, err := mf.resolver()
	if err != nil {
		return fmt.Errorf("mapping eval: %w", err)
	}
	defer closer()
	set, err := mapping.LoadLabelled(files[0])
	if err != nil {
		return fmt.Errorf("mapping eval: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	rep := mapping.Evaluate(r, set)
	el := time.Since(start)
	out := bufio.NewWriter(stdout)
	fmt.Fprintf(out, "mapping eval: %s against %s (%d items), threshold %.2f\n\n", files[0], *mf.catalog, r.Catalog().Len(), rep.Threshold)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "error\tlines\tauto-applied\tauto right\tfirst right\t")
	for _, f := range rep.ByError {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", f.Error, f.Lines, f.AutoApplied, f.AutoCorrect, f.Top1Correct)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nlines %d: resolvable %d, not in catalog %d\n", rep.Lines, rep.Resolvable, rep.Unresolvable)
	fmt.Fprintf(out, "precision of auto-applied   %.2f%%  (%d of %d; %d wrong, %d of them codes not in the catalog)  target ≥ 99%%\n",
		100*rep.Precision, rep.AutoCorrect, rep.AutoApplied, rep.AutoWrong, rep.UnknownAuto)
	fmt.Fprintf(out, "repaired automatically      %.2f%% of resolvable  target ≥ 70%%\n", 100*rep.AutoShare)
	fmt.Fprintf(out, "recall (first candidate)    %.2f%%\n", 100*rep.Recall)
	fmt.Fprintf(out, "right SKU among candidates  %.2f%%\n", 100*rep.InCandidates)
	fmt.Fprintf(out, "\nreliability of first candidates (confidence vs how often right):\n")
	for _, b := range rep.Reliability {
		if b.N > 0 {
			fmt.Fprintf(out, "  %.2f–%.2f  %5d  mean confidence %.3f  right %.3f\n", b.From, b.To, b.N, b.MeanConfidence, b.Accuracy)
		}
	}
	fmt.Fprintf(out, "\n%d lookups in %s\n", rep.Lines, el.Round(time.Millisecond))
	if *asJSON {
		if err := jsonLine(out, rep); err != nil {
			return err
		}
	}
	return out.Flush()
}

func runBenchMapping(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench mapping", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage+"\nFlags of bench mapping:\n"); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	items := fs.Int("items", 100_000, "catalog items to generate")
	queries := fs.Int("queries", 20_000, "erroneous codes to look up")
	baseline := fs.Int("baseline", 200, "codes the linear-scan baseline looks up")
	duration := fs.Duration("duration", 2*time.Second, "minimum length of each timed indexed run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	fmt.Fprintf(stderr, "bench mapping: generating %d items and %d codes…\n", *items, *queries)
	rep, err := mapping.Bench(ctx, mapping.BenchOptions{Items: *items, Queries: *queries, Baseline: *baseline, Duration: *duration})
	if err != nil {
		return fmt.Errorf("bench mapping: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "catalog items\t%d\t(index built in %.2fs)\n", rep.Items, rep.BuildSeconds)
	fmt.Fprintf(tw, "indexed, 1 goroutine\t%.0f lookups/s\t(%d lookups, %.1f µs each)\n", rep.LookupsPerSec, rep.Lookups, rep.MicrosPerLookup)
	fmt.Fprintf(tw, "  per CPU-second\t%.0f lookups\t(process CPU time: what one unshared core does)\n", rep.CPUPerSec)
	fmt.Fprintf(tw, "indexed, %d goroutines\t%.0f lookups/s\t\n", rep.ParallelWorkers, rep.ParallelPerSec)
	fmt.Fprintf(tw, "baseline: %s\t%.1f lookups/s\t(%d codes; %.1f per CPU-second)\n", rep.BaselineName, rep.BaselinePerSec, rep.BaselineQueries, rep.BaselineCPUPerSec)
	fmt.Fprintf(tw, "indexed on the same codes\t%.0f lookups/s\tratio %.0f×, same first candidate %.1f%%\n", rep.IndexedSamePerSec, rep.Ratio, 100*rep.Agreement)
	met := "met"
	if !rep.TargetMet {
		met = "MISSED"
	}
	fmt.Fprintf(tw, "target\t≥ %.0f lookups/s\t%s\n", rep.Target, met)
	fmt.Fprintf(tw, "on these codes\tprecision %.2f%%\tauto-repaired %.2f%% of resolvable, %d codes not in the catalog auto-applied (dev-set calibration)\n",
		100*rep.Eval.Precision, 100*rep.Eval.AutoShare, rep.Eval.UnknownAuto)
	fmt.Fprintf(tw, "  self-calibrated\tprecision %.2f%%\tauto-repaired %.2f%% of resolvable, %d codes not in the catalog auto-applied (calibrated on this catalog in %.1fs)\n",
		100*rep.EvalSelf.Precision, 100*rep.EvalSelf.AutoShare, rep.EvalSelf.UnknownAuto, rep.SelfCalibrateSeconds)
	if err := tw.Flush(); err != nil {
		return err
	}
	if *asJSON {
		if err := jsonLine(stdout, rep); err != nil {
			return err
		}
	}
	return nil
}
