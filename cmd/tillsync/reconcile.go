package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/reconcile/recbench"
	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/store"
)

// openExceptionsExit is the exit status of `tillsync reconcile` when the
// run left exceptions open: distinct from 1 (cannot run) and 2 (usage).
const openExceptionsExit = 3

const reconcileUsage = `Usage: tillsync reconcile --settlement FILE... [--tenders FILE | --config hub.yaml] [--json]

Matches the card tenders taken at the tills against PSP settlement reports
and bank statements (BAI2, camt.053, Stripe, Adyen, CSV with --mapping), on
demand: by processor reference, by card last four, authorisation code,
amount and date, by sums over a reference (tips, split tenders); payouts
and deposits against their batches or a day's card tenders of a store less
fees; chargebacks to the sale they dispute. Every match says which rule made
it and why. What stays open too long (--window-days, as of --as-of) is an
exception.

Tenders come from --tenders (a tenders CSV: event,tender,location,zone,
processor,at,currency,amount,tip,reference,card_last4,auth_code; or JSON
lines of sale and return events) or from the hub's event log (--config).
--settlement may be repeated, and further files may follow it.

With --state FILE the open items and raised exceptions are read before and
written after the run, so that a later file resolves what an earlier run
left open.

With --config the exceptions (kind settlement_unmatched) go to the hub's
exceptions inbox, and a later run that matches an item auto-resolves its
exception there; the state defaults to reconcile-state.json beside a SQLite
database (give --state on PostgreSQL) and records the log position read.

Output: a summary, the open exceptions and, with --matches, every match;
with --json, JSON lines {"exception": …} / {"match": …} and a last line
{"summary": …}. A progress bar goes to stderr while large files are read.

Exit status: 0 nothing open; 1 cannot run; 2 usage; 3 exceptions are open.

`

// runReconcile: tillsync reconcile --settlement FILE... [--tenders FILE | --config hub.yaml] [--json].
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, reconcileUsage+"Flags:\n")
		fs.PrintDefaults()
	}
	var files multiFlag
	fs.Var(&files, "settlement", "a settlement `FILE` (repeatable; more may follow the flags)")
	tendersPath := fs.String("tenders", "", "tenders `FILE`: tenders CSV, or JSON lines of sale and return events")
	hubConfig := fs.String("config", "", "read tenders from the event log of the hub with this YAML config")
	format := fs.String("format", "auto", "settlement files' format: auto, bai2, camt053, stripe, adyen or csv")
	mapping := fs.String("mapping", "", "YAML column mapping for --format csv")
	statePath := fs.String("state", "", "JSON `FILE` of open items kept between runs (read if it exists, then written)")
	asJSON := fs.Bool("json", false, "print JSON lines: exceptions (and matches), then the summary")
	showMatches := fs.Bool("matches", false, "also print every match with its rule and explanation")
	asOfFlag := fs.String("as-of", "", "judge what is overdue as of this `DATE` (YYYY-MM-DD, default now)")
	cfg := reconcile.DefaultConfig()
	tolerance := fs.Int64("tolerance", int64(cfg.Tolerance), "amount tolerance in minor units, either way")
	fs.IntVar(&cfg.WindowDays, "window-days", cfg.WindowDays, "days after the sale a settlement line may be booked (and an item may stay open)")
	fs.IntVar(&cfg.DepositWindowDays, "deposit-window-days", cfg.DepositWindowDays, "days after its batch a deposit may arrive")
	fs.Int64Var(&cfg.MaxFeeBP, "max-fee-bp", cfg.MaxFeeBP, "most a deposit may fall short of a day's card tenders, in basis points")
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	cfg.Tolerance = event.Amount(*tolerance)
	switch {
	case len(files) == 0:
		fmt.Fprintln(stderr, "tillsync reconcile: give at least one --settlement FILE")
		fs.Usage()
		return exitCode(2)
	case *tendersPath != "" && *hubConfig != "":
		fmt.Fprintln(stderr, "tillsync reconcile: give --tenders or --config, not both")
		return exitCode(2)
	}
	asOf := time.Now().UTC()
	if *asOfFlag != "" {
		t, err := time.Parse("2006-01-02", *asOfFlag)
		if err != nil {
			fmt.Fprintf(stderr, "tillsync reconcile: --as-of %q is not a date (YYYY-MM-DD)\n", *asOfFlag)
			return exitCode(2)
		}
		asOf = t.Add(24*time.Hour - time.Second)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	// Without a hub, exceptions live in memory for this run (and in
	// --state between runs); with one, they go to its exceptions inbox.
	var (
		exc    exception.Inbox
		mem    *exception.Memory
		hubInb exception.Hub
		st     *store.Store
	)
	if *hubConfig != "" {
		hc, s, err := openHubStore(ctx, *hubConfig)
		if err != nil {
			return err
		}
		defer func() { _ = s.Close() }()
		if *statePath == "" {
			p, ok := hubStatePath(hc.Database)
			if !ok {
				fmt.Fprintln(stderr, "tillsync reconcile: with a PostgreSQL hub give --state FILE (the open items kept between runs)")
				return exitCode(2)
			}
			*statePath = p
		}
		zones := hc.Zones()
		st, hubInb = s, exception.Hub{In: inbox.New(s, inbox.Options{Zones: zones})}
		exc = hubInb
	} else {
		mem = exception.NewMemory()
		exc = mem
	}
	e, err := loadEngine(ctx, cfg, mem, exc, *statePath)
	if err != nil {
		return err
	}
	switch {
	case *tendersPath != "":
		if err := readTendersFile(*tendersPath, e, stderr); err != nil {
			return err
		}
	case st != nil:
		if err := readHubTenders(ctx, st, e); err != nil {
			return err
		}
	}
	for _, path := range files {
		if err := readSettlementFile(path, settlement.Format(*format), *mapping, e, stderr); err != nil {
			return err
		}
	}
	if err := e.Run(ctx); err != nil {
		return err
	}
	if err := e.Review(ctx, asOf); err != nil {
		return err
	}
	if *statePath != "" {
		if err := saveState(e, *statePath); err != nil {
			return err
		}
	}
	var open []exception.Exception
	if mem != nil {
		open = mem.Open()
	} else if open, err = hubInb.Active(ctx, exception.KindSettlementUnmatched); err != nil {
		return err
	}
	rank := map[exception.Severity]int{exception.Critical: 0, exception.Error: 1, exception.Warning: 2, exception.Info: 3}
	sort.SliceStable(open, func(i, j int) bool { return rank[open[i].Severity] < rank[open[j].Severity] })
	out := bufio.NewWriter(stdout)
	if *asJSON {
		err = writeReconcileJSON(out, e, open, *showMatches)
	} else {
		err = writeReconcileTable(out, e, open, *showMatches)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if len(open) > 0 {
		return exitCode(openExceptionsExit)
	}
	return nil
}

// hubStatePath is where a hub on SQLite keeps reconciliation's open items:
// beside its database.
func hubStatePath(database string) (string, bool) {
	db, ok := strings.CutPrefix(database, "sqlite:")
	if !ok {
		return "", false
	}
	return filepath.Join(filepath.Dir(db), "reconcile-state.json"), true
}

// loadEngine restores the engine from the state file, if there is one. mem,
// when not nil, is the in-memory inbox behind exc: the exceptions earlier
// runs raised are put back in it (a hub's inbox keeps its own).
func loadEngine(ctx context.Context, cfg reconcile.Config, mem *exception.Memory, exc exception.Inbox, path string) (*reconcile.Engine, error) {
	if path == "" {
		return reconcile.NewEngine(cfg, exc)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return reconcile.NewEngine(cfg, exc)
	}
	if err != nil {
		return nil, fmt.Errorf("reconcile: --state: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	st, err := reconcile.ReadState(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Exceptions raised by earlier runs are open again in this one.
	for _, k := range st.Raised {
		if mem == nil {
			break
		}
		if err := mem.Raise(ctx, exception.Exception{Key: k, Kind: exception.KindSettlementUnmatched, Severity: exception.Warning,
			Title: "raised by an earlier run (" + path + ")"}); err != nil {
			return nil, err
		}
	}
	return reconcile.Restore(ctx, cfg, exc, st)
}

// saveState writes the state next to its final name, then renames it, so a
// crash never leaves half a file.
func saveState(e *reconcile.Engine, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("reconcile: --state: %w", err)
	}
	w := bufio.NewWriter(tmp)
	err = e.WriteState(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("reconcile: write state %s: %w", path, err)
	}
	return nil
}

func readTendersFile(path string, e *reconcile.Engine, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reconcile: --tenders: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	bar := newProgress(f, path, stderr)
	defer bar.done()
	var batch []reconcile.Tender
	err = reconcile.ReadTenders(bar, path, func(t reconcile.Tender) error {
		batch = append(batch, t)
		return nil
	})
	e.AddTenders(batch...)
	return err
}

// readHubTenders feeds the card tenders of the events after the engine's
// log sequence (all of them on a first run).
func readHubTenders(ctx context.Context, st *store.Store, e *reconcile.Engine) error {
	after := e.LogSeq()
	for {
		batch, err := st.EventsAfter(ctx, after, 5000)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, s := range batch {
			e.AddTenders(reconcile.TendersFromEvent(s.Event)...)
			after = s.Seq
		}
		e.SetLogSeq(after)
	}
}

func readSettlementFile(path string, kind settlement.Format, mapping string, e *reconcile.Engine, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	bar := newProgress(f, path, stderr)
	defer bar.done()
	in := bufio.NewReaderSize(bar, 64<<10)
	if kind == "auto" && mapping != "" {
		kind = settlement.FormatCSV
	}
	if kind == "auto" {
		head, _ := in.Peek(settlement.SniffLen)
		if kind, err = settlement.Detect(head); err != nil {
			return fmt.Errorf("reconcile: %s: %w (--format; a generic CSV needs --mapping)", path, err)
		}
	}
	p, err := settlementParser(kind, path, mapping)
	if err != nil {
		return err
	}
	var lines []reconcile.Line
	if (kind == settlement.FormatStripe || kind == settlement.FormatAdyen) && bar.size >= progressMin {
		// Rows of these reports stand alone: parse pieces on every core.
		lines, _, err = reconcile.ParallelParse(f, bar.size, runtime.GOMAXPROCS(0), func() settlement.Parser {
			p, _ := settlementParser(kind, path, "") // cannot fail: it did above
			return p
		}, bar.add)
	} else {
		_, err = reconcile.ReadSettlement(p, in, func(l reconcile.Line) error {
			lines = append(lines, l)
			return nil
		})
	}
	var ctl *settlement.ControlTotalError
	if errors.As(err, &ctl) {
		bar.done()
		fmt.Fprintf(stderr, "tillsync reconcile: %s: %d control total(s) do not check out (see tillsync settlement parse); its lines are matched anyway\n", path, len(ctl.Problems))
		err = nil
	}
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	e.AddLines(lines...)
	return nil
}

func writeReconcileJSON(w io.Writer, e *reconcile.Engine, open []exception.Exception, matches bool) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var err error
	if matches {
		e.Matches(func(m reconcile.Match) bool {
			err = enc.Encode(struct {
				Match reconcile.Match `json:"match"`
			}{m})
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	for _, x := range open {
		if err := enc.Encode(struct {
			Exception exception.Exception `json:"exception"`
		}{x}); err != nil {
			return err
		}
	}
	return enc.Encode(struct {
		Summary reconcile.Summary `json:"summary"`
	}{e.Summary()})
}

func writeReconcileTable(w io.Writer, e *reconcile.Engine, open []exception.Exception, matches bool) error {
	if matches {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tEXPLANATION")
		e.Matches(func(m reconcile.Match) bool {
			fmt.Fprintf(tw, "%s\t%s\n", m.Rule, m.Explanation)
			return true
		})
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	s := e.Summary()
	fmt.Fprintf(w, "%d tenders, %d settlement lines: %d matches (%s); %d tenders matched\n",
		s.Tenders, s.Lines, s.Matches, byRule(s.ByRule), s.MatchedTenders)
	if s.DuplicateTenders+s.DuplicateLines > 0 {
		fmt.Fprintf(w, "ignored as fed twice: %d tenders, %d lines\n", s.DuplicateTenders, s.DuplicateLines)
	}
	fmt.Fprintf(w, "open: %d tenders, %d settlement lines, %d deposits or payouts; %d chargebacks\n", s.OpenTenders, s.OpenLines, s.OpenDeposits, s.Chargebacks)
	if len(open) == 0 {
		fmt.Fprintln(w, "no exceptions")
		return nil
	}
	fmt.Fprintf(w, "\n%d exception(s):\n", len(open))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tEXCEPTION")
	const most = 50
	for i, x := range open {
		if i == most {
			fmt.Fprintf(tw, "…\t%d more (--json lists them all)\n", len(open)-most)
			break
		}
		fmt.Fprintf(tw, "%s\t%s\n", x.Severity, x.Title)
	}
	return tw.Flush()
}

func byRule(m map[string]int) string {
	var parts []string
	for _, r := range reconcile.Rules {
		if n := m[r.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// progressMin is the file size from which reading shows a progress bar.
const progressMin = 8 << 20

// progress counts what is read from a file and draws a bar on stderr at
// most five times a second while the file is large.
type progress struct {
	r    io.Reader
	name string
	out  io.Writer
	size int64
	once sync.Once

	mu    sync.Mutex // pieces of a file may be read at once
	read  int64
	last  time.Time
	shown bool
}

func newProgress(f *os.File, name string, out io.Writer) *progress {
	p := &progress{r: f, name: filepath.Base(name), out: out}
	if st, err := f.Stat(); err == nil {
		p.size = st.Size()
	}
	return p
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.add(n)
	return n, err
}

// add counts n bytes read.
func (p *progress) add(n int) {
	if p.size < progressMin {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	pct := int(p.read * 100 / max(p.size, 1))
	fill := pct * width / 100
	fmt.Fprintf(p.out, "\r%s [%s%s] %3d%% %d/%d MB", p.name, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, p.read>>20, p.size>>20)
	p.shown = true
}

// done finishes the bar's line (once).
func (p *progress) done() {
	p.once.Do(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.shown {
			p.read = p.size
			p.draw()
			fmt.Fprintln(p.out)
		}
	})
}

// runBenchReconcile: tillsync bench reconcile [--json] [--tenders N] [--lines N].
func runBenchReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage+"\nFlags of bench reconcile:\n")
		fs.PrintDefaults()
	}
	o := recbench.DefaultOptions()
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	fs.IntVar(&o.Data.Tenders, "tenders", o.Data.Tenders, "card tenders in the tenders file")
	fs.IntVar(&o.Data.Lines, "lines", o.Data.Lines, "lines in the settlement report")
	fs.IntVar(&o.Data.Stores, "stores", o.Data.Stores, "stores (one payout batch per store and day)")
	fs.IntVar(&o.Data.Days, "days", o.Data.Days, "days of trading")
	fs.IntVar(&o.Data.MissingRefPct, "missing-ref-pct", o.Data.MissingRefPct, "percent of settlement lines without the payment reference")
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "rounds of matching and hash join, alternating (the best of each is compared)")
	fs.StringVar(&o.Dir, "dir", "", "write the files here and keep them (default: a temporary directory, removed)")
	limit := fs.Int64("memory-limit-mib", 0, "Go soft memory limit for the run, in MiB (as GOMEMLIMIT; 0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	o.MemoryLimit = *limit << 20
	o.Progress = stderr
	rep, err := recbench.Run(ctx, o)
	if err != nil {
		return err
	}
	if err := recbench.WriteTable(stdout, rep); err != nil {
		return err
	}
	if *asJSON {
		if err := jsonLine(stdout, rep); err != nil {
			return err
		}
	}
	return nil
}
