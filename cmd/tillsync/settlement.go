package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/adyen"
	"github.com/tillsync/tillsync/internal/settlement/bai2"
	"github.com/tillsync/tillsync/internal/settlement/camt053"
	settlementcsv "github.com/tillsync/tillsync/internal/settlement/csv"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

// controlTotalsExit is the exit status of `tillsync settlement parse` when
// the file was read to its end but its control totals, record counts or
// balances do not check out: distinct from 1 (the file cannot be read) and 2
// (usage), so scripts can tell "does not add up" from "broken".
const controlTotalsExit = 3

const settlementUsage = `Usage: tillsync settlement parse FILE [--format auto|bai2|camt053|stripe|adyen|csv] [--mapping mapping.yaml] [--json]

Reads a bank statement or PSP settlement report and prints its normalised
transactions: BAI2, ISO 20022 camt.053 (.001.02 to .08), Stripe's itemized
payout reconciliation report, Adyen's Settlement details report, or any CSV
with a column mapping (--mapping, which implies --format csv).

With --json, one JSON object per transaction and a last line
{"summary": {...}}; without, a table and the totals.

Exit status: 0 read and every control total checks out; 1 the file cannot be
read (the line, record or element at fault is named); 2 usage; 3 read, but
control totals or balances do not check out (listed on stderr).

`

// runSettlement: tillsync settlement parse FILE [--format F] [--mapping M] [--json].
func runSettlement(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, settlementUsage)
		return exitCode(2)
	}
	switch args[0] {
	case "parse":
		return runSettlementParse(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, settlementUsage)
		return nil
	}
	fmt.Fprintf(stderr, "tillsync settlement: unknown command %q\n\n%s", args[0], settlementUsage)
	return exitCode(2)
}

func runSettlementParse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("settlement parse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, settlementUsage)
		fs.PrintDefaults()
	}
	format := fs.String("format", "auto", "the file's format: auto, bai2, camt053, stripe, adyen or csv")
	mappingPath := fs.String("mapping", "", "YAML column mapping for --format csv (see internal/settlement/csv)")
	asJSON := fs.Bool("json", false, "print JSON lines: one per transaction, then the summary")
	// Flags may come before or after FILE.
	var files []string
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
	if len(files) != 1 {
		fs.Usage()
		return exitCode(2)
	}
	path := files[0]

	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	in := bufio.NewReaderSize(f, 64<<10)
	head, _ := in.Peek(settlement.SniffLen) // a short file gives what it has

	kind := settlement.Format(*format)
	switch {
	case kind == "auto" && *mappingPath != "":
		kind = settlement.FormatCSV
	case kind == "auto":
		if kind, err = settlement.Detect(head); err != nil {
			return fmt.Errorf("settlement: %s: %w (--format; a generic CSV needs --mapping)", path, err)
		}
	}
	parser, err := settlementParser(kind, path, *mappingPath)
	if err != nil {
		return err
	}

	out := bufio.NewWriter(stdout)
	var (
		emit   func(settlement.Transaction) error
		finish func(settlement.Summary) error
	)
	if *asJSON {
		w := settlement.NewJSONWriter(out)
		emit, finish = w.Transaction, w.Summary
	} else {
		t := newSettlementTable(out, path)
		emit, finish = t.row, t.summary
	}
	sum, perr := parser.Parse(in, func(tx settlement.Transaction) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return emit(tx)
	})
	var ctl *settlement.ControlTotalError
	if perr != nil && !errors.As(perr, &ctl) {
		if ferr := out.Flush(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("settlement: %w", perr)
	}
	if err := finish(sum); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if ctl != nil {
		fmt.Fprintf(stderr, "tillsync settlement: %s: %d control total(s) do not check out:\n", path, len(ctl.Problems))
		for _, p := range ctl.Problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return exitCode(controlTotalsExit)
	}
	return nil
}

// settlementParser builds the parser of a format; csv reads its mapping.
func settlementParser(kind settlement.Format, file, mappingPath string) (settlement.Parser, error) {
	if mappingPath != "" && kind != settlement.FormatCSV {
		return nil, fmt.Errorf("settlement: --mapping is for --format csv, not %s", kind)
	}
	switch kind {
	case settlement.FormatBAI2:
		return &bai2.Parser{File: file}, nil
	case settlement.FormatCamt053:
		return &camt053.Parser{File: file}, nil
	case settlement.FormatStripe:
		return &stripe.Parser{File: file}, nil
	case settlement.FormatAdyen:
		return &adyen.Parser{File: file}, nil
	case settlement.FormatCSV:
		if mappingPath == "" {
			return nil, errors.New("settlement: --format csv needs --mapping mapping.yaml")
		}
		b, err := os.ReadFile(mappingPath)
		if err != nil {
			return nil, fmt.Errorf("settlement: %w", err)
		}
		m, err := settlementcsv.ParseMapping(b)
		if err != nil {
			return nil, fmt.Errorf("settlement: %s: %w", mappingPath, err)
		}
		return settlementcsv.New(file, m)
	}
	return nil, fmt.Errorf("settlement: --format %q: use auto, bai2, camt053, stripe, adyen or csv", kind)
}

// settlementTable prints transactions for people, flushing every so often
// so that a large file streams.
type settlementTable struct {
	w    *bufio.Writer
	tw   *tabwriter.Writer
	file string
	rows int
}

func newSettlementTable(w *bufio.Writer, file string) *settlementTable {
	t := &settlementTable{w: w, file: file}
	t.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(t.tw, "WHERE\tBOOKED\tTYPE\tAMOUNT\tREFERENCE\tDESCRIPTION")
	return t
}

func (t *settlementTable) row(tx settlement.Transaction) error {
	t.line(tx, "")
	for _, c := range tx.Children {
		t.line(c, "  ")
	}
	t.rows++
	if t.rows%200 == 0 {
		return t.tw.Flush()
	}
	return nil
}

func (t *settlementTable) line(tx settlement.Transaction, indent string) {
	where := tx.Element
	if where == "" {
		where = fmt.Sprintf("line %d", tx.Line)
	}
	r := tx.References
	ref := ""
	for _, v := range []string{r.Bank, r.EndToEnd, r.Payment, r.Merchant, r.Batch, r.Customer} {
		if v != "" {
			ref = v
			break
		}
	}
	fmt.Fprintf(t.tw, "%s%s\t%s\t%s\t%s\t%s\t%s\n", indent, where, tx.BookingDate, tx.Type, tx.Money(), clipText(ref, 32), clipText(tx.Description, 48))
}

func (t *settlementTable) summary(s settlement.Summary) error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(t.w, "\n%s (%s): %d transactions\n", t.file, s.Format, s.Transactions)
	tw := tabwriter.NewWriter(t.w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CURRENCY\tCREDITS\tDEBITS\tNET\t")
	for _, cur := range s.Currencies() {
		tot := s.Totals[cur]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", cur, settlement.FormatMoney(tot.Credits, cur), settlement.FormatMoney(tot.Debits, cur), settlement.FormatMoney(tot.Net, cur))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case s.ControlTotalsChecked == 0:
		fmt.Fprintln(t.w, "control totals: none in this file")
	case s.ControlTotalsOK:
		fmt.Fprintf(t.w, "control totals: %d checked, all check out\n", s.ControlTotalsChecked)
	default:
		fmt.Fprintf(t.w, "control totals: %d of %d do not check out:\n", len(s.Problems), s.ControlTotalsChecked)
		for _, p := range s.Problems {
			fmt.Fprintf(t.w, "  %s\n", p)
		}
	}
	return nil
}

// clipText shortens s to n runes for a table cell.
func clipText(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
