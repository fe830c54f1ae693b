package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tillsync/tillsync/internal/mapping/quarantine"
)

func runBenchQuarantine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench quarantine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage+"\nFlags of bench quarantine:\n"); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	items := fs.Int("items", 20_000, "catalog items to generate")
	events := fs.Int("events", 20_000, "events per timed run")
	batch := fs.Int("batch", 200, "events per commit")
	rounds := fs.Int("rounds", 5, "timed runs of each variant, alternating")
	repair := fs.Float64("repair", 0.05, "share of lines with a code the resolver repairs (mixed run)")
	unknown := fs.Float64("unknown", 0.01, "share of lines with a code it cannot resolve (mixed run)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	fmt.Fprintf(stderr, "bench quarantine: %d items, %d events × %d rounds per variant…\n", *items, *events, *rounds)
	rep, err := quarantine.Bench(ctx, quarantine.BenchOptions{Items: *items, Events: *events, Batch: *batch, Rounds: *rounds,
		RepairShare: *repair, UnknownShare: *unknown})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "workload: %d sales of %d lines, %d per commit, catalog of %d items\n", rep.Events, rep.Lines, rep.Batch, rep.Items)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, part := range []struct {
		title string
		runs  []quarantine.BenchRun
	}{{"into the SQLite log (fsync per commit)", rep.Stored}, {"into a sink that stores nothing", rep.NoLog}} {
		fmt.Fprintf(tw, "%s\tbest events/s\tmedian\theld\trepaired lines\n", part.title)
		for _, r := range part.runs {
			fmt.Fprintf(tw, "  %s\t%.0f\t%.0f\t%d\t%d\n", r.Name, r.BestPerS, r.MedianPer, r.Held, r.Repaired)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ratio to baseline into the SQLite log (best of %d): %.2f× with catalog SKUs, %.2f× mixed\n", *rounds, rep.StoredRatio, rep.StoredMixedRatio)
	fmt.Fprintf(stdout, "added per event without a log: %.0f ns with catalog SKUs, %.0f ns mixed\n", rep.NoLogNanosPerEvent, rep.NoLogNanosMixed)
	if *asJSON {
		if err := jsonLine(stdout, rep); err != nil {
			return err
		}
	}
	return nil
}
