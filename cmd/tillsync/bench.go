package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/bench"
)

const benchUsage = `Usage:
  tillsync bench ingest [--json] [--duration 10s] [--postgres URL]

Measures, side by side on this machine: hub intake over HTTP against raw
SQLite and PostgreSQL loops, sale-to-availability latency through an edge,
and an edge draining a backlog. Prints a table; with --json, also one JSON
object as the last line. Missed targets are reported, not failed.
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "ingest" {
		fmt.Fprint(stderr, benchUsage)
		return exitCode(2)
	}
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	duration := fs.Duration("duration", 10*time.Second, "length of each timed part (hub intakes, latency run)")
	postgres := fs.String("postgres", bench.DefaultPostgres, "PostgreSQL URL for the postgres part (a fresh schema is created and dropped)")
	parts := fs.String("parts", strings.Join(bench.Parts, ","), "parts to run, comma-separated")
	clients := fs.Int("clients", 16, "concurrent clients posting to the hub")
	perRequest := fs.Int("request-events", 100, "events per client request")
	backlog := fs.Int("backlog", 100_000, "events the drain part backs up at the edge")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of each timed phase to `PREFIX`.<phase>.pprof")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	opt := bench.Options{
		Duration: *duration, Postgres: *postgres, Parts: strings.Split(*parts, ","),
		Clients: *clients, RequestEvents: *perRequest, Backlog: *backlog,
		CPUProfile: *cpuprofile, Progress: stderr,
	}
	rep, err := bench.Ingest(ctx, opt)
	if rep == nil {
		return err
	}
	if werr := bench.WriteTable(stdout, rep, opt); werr != nil && err == nil {
		err = werr
	}
	if *asJSON {
		b, jerr := json.Marshal(rep)
		if jerr != nil && err == nil {
			err = jerr
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return err
}
