package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/bench"
)

const benchUsage = `Usage:
  tillsync bench ingest [--json] [--duration 10s] [--postgres URL]
  tillsync bench erp    [--json] [--duration 20s]
  tillsync bench mapping [--json] [--items 100000] [--queries 20000]
  tillsync bench oversell [--json] [--stores 50] [--skus 1000] [--hours 10] [--seed 0]
  tillsync bench reconcile [--json] [--tenders 1000000] [--lines 1000000]
  tillsync bench rebalance [--json] [--stores 20] [--skus 500] [--weeks 8] [--plan-stores 1000] [--plan-skus 10000]
  tillsync bench quarantine [--json] [--items 20000] [--events 20000] [--batch 200] [--rounds 5]

ingest measures, side by side on this machine: hub intake over HTTP against
raw SQLite and PostgreSQL loops, sale-to-availability latency through an
edge, an edge draining a backlog, and intake with first-hop redaction and
with OpenTelemetry tracing each on against off (--parts picks some of
sqlite,postgres,latency,drain,redaction,tracing).

erp drains a backlog of POS documents through the ERP destination engine
into a simulated NetSuite account at concurrency limits 5 and 15 and 200 ms
and 1 s per request, against the ceiling the account allows, then posts a
day of till events as hourly summaries. It fails if a document is lost or
duplicated.

oversell simulates a Black Friday of stores and an online shop competing for
scarce SKUs under 15-minute and 60-second batch sync and under tillsync, and
reports oversold units, cancelled orders and phantom exposure; then it
measures the Shopify destination under a backlog (bucket utilisation,
throttled requests, sale-to-Shopify p95).

Both print a table; with --json, also one JSON object as the last line.
Missed targets are reported, not failed.
`

// benches are the benchmarks by name; each prints a table and, with --json,
// one JSON object as its last line.
var benches = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"ingest":     runBenchIngest,
	"erp":        runBenchERP,
	"mapping":    runBenchMapping,
	"oversell":   runBenchOversell,
	"reconcile":  runBenchReconcile,
	"rebalance":  runBenchRebalance,
	"quarantine": runBenchQuarantine,
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || benches[args[0]] == nil {
		fmt.Fprint(stderr, benchUsage)
		return exitCode(2)
	}
	return benches[args[0]](ctx, args[1:], stdout, stderr)
}

func runBenchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	if err := fs.Parse(args); err != nil {
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
		if jerr := jsonLine(stdout, rep); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

func runBenchERP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench erp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage+"\nFlags of bench erp:\n")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	duration := fs.Duration("duration", 20*time.Second, "how long each detail case takes at its ceiling (its backlog is ceiling × duration)")
	cases := fs.String("cases", "5@200ms,15@200ms,5@1s,15@1s", "detail cases to run, comma-separated `LIMIT@LATENCY`")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of each timed run to `PREFIX`.erp-<run>.pprof")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	opt := bench.ERPOptions{Duration: *duration, CPUProfile: *cpuprofile, Progress: stderr}
	for _, c := range strings.Split(*cases, ",") {
		l, lat, ok := strings.Cut(strings.TrimSpace(c), "@")
		n, nerr := strconv.Atoi(l)
		d, derr := time.ParseDuration(lat)
		if !ok || nerr != nil || derr != nil || n < 1 || d <= 0 {
			fmt.Fprintf(stderr, "tillsync bench erp: --cases: %q is not LIMIT@LATENCY, e.g. 15@200ms\n", c)
			return exitCode(2)
		}
		opt.Cases = append(opt.Cases, bench.ERPCase{Limit: n, Latency: d})
	}
	rep, err := bench.ERP(ctx, opt)
	if rep == nil {
		return err
	}
	if werr := bench.WriteERPTable(stdout, rep, opt); werr != nil && err == nil {
		err = werr
	}
	if *asJSON {
		if jerr := jsonLine(stdout, rep); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

// jsonLine writes v as one JSON object on a line of its own: the last line
// of a command's output that scripts read.
func jsonLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
