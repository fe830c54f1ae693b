// Command tillsync is the one binary of tillsync: the hub, the store edge,
// the demo and the tools, as subcommands. It holds no logic of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/redact"
)

const usage = `tillsync — real-time POS ↔ ERP synchronisation

Usage:
  tillsync demo   [--duration 60s] [--json]    the whole story in one process, on an embedded database
  tillsync hub    --config hub.yaml            run the central hub
  tillsync edge   --config edge.yaml           run the agent in one store
  tillsync bench  ingest [--json]              measure intake against raw database loops
  tillsync bench  erp [--json]                 measure ERP posting against the account's ceiling
  tillsync bench  oversell [--json]            a simulated Black Friday: oversold units and phantom stock, batch vs tillsync
  tillsync token                               make a store token and the hash the hub config needs
  tillsync deadletters --config hub.yaml       list what ERP destinations gave up on, with the ERP's error
  tillsync replay --config hub.yaml --destination NAME (--dead-letters | --from SEQ)
                                               re-deliver dead letters, or the log from a position
  tillsync destination --config hub.yaml pause|resume NAME
  tillsync inbox --config hub.yaml list [--state open] [--kind K] [--json]
                                               the exceptions inbox: problems that need a person
  tillsync inbox --config hub.yaml show ID     an exception with its evidence, suggestions and trail
  tillsync inbox --config hub.yaml act ID ACTION [--note ...] [--assignee ...]
                                               acknowledge, resolve, assign, reopen, comment, replay, …
  tillsync erp kinds                           the ERP connectors and their settings
  tillsync settlement parse FILE [--format F] [--mapping M] [--json]
                                               read a bank statement or PSP settlement report (BAI2, camt.053, Stripe, Adyen, CSV)
  tillsync reconcile --settlement FILE... [--tenders FILE | --config hub.yaml] [--json]
                                               match till card tenders against settlement reports and bank deposits
  tillsync close --config hub.yaml --store S --date YYYY-MM-DD [--json]
                                               end-of-day close: sales, tenders, ERP confirmed, cash variances, exceptions
  tillsync shrinkage --config hub.yaml --from D --to D [--json]
                                               score cashiers, registers and stores against their peers over a period
  tillsync bench  reconcile [--json]           1M tenders against 1M settlement lines, parse and match vs a hash join
  tillsync bench  rebalance [--json]           a simulated chain: lost sales and units moved, no transfers vs min/max vs predictive
  tillsync rebalance plan (--config hub.yaml [--rebalance FILE] | --input FILE) [--json]
                                               proposed stock transfers between locations, with forecast, cover, risk and cost
  tillsync redact [--mask]                     redact card and personal data from JSON or text on stdin
  tillsync scan PATH...                        find card data in files, databases and logs (exit 3 if any)
  tillsync notes parse [--json-in]             read cashier notes (one a line) as discounts: JSON lines out
  tillsync notes eval FILE [--json]            accuracy, precision, recall and share resolved on a labelled set
  tillsync mapping suggest --catalog FILE [--threshold 0.97]
                                               candidate catalog SKUs for unknown codes: JSON lines in and out
  tillsync mapping eval --catalog FILE LABELLED.jsonl [--json]
                                               precision of auto-applied repairs, recall, share repaired automatically
  tillsync erpsim --kind netsuite|sap|odoo|erpnext|webhook --listen ADDR
                                               a simulated ERP for trials, tests and benchmarks
  tillsync version

Run 'tillsync <command> -h' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ec exitCode
	switch {
	case errors.As(err, &ec):
		os.Exit(int(ec))
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "tillsync:", err)
		os.Exit(1)
	}
}

// exitCode ends the process with a status and no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode(2)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "hub":
		return runHub(ctx, rest, stderr)
	case "edge":
		return runEdge(ctx, rest, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "token":
		return runToken(rest, stdout)
	case "replay":
		return runReplay(ctx, rest, stdout, stderr)
	case "deadletters":
		return runDeadLetters(ctx, rest, stdout, stderr)
	case "destination":
		return runDestination(ctx, rest, stdout, stderr)
	case "inbox":
		return runInbox(ctx, rest, stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, rest, stdout, stderr)
	case "close":
		return runClose(ctx, rest, stdout, stderr)
	case "shrinkage":
		return runShrinkage(ctx, rest, stdout, stderr)
	case "settlement":
		return runSettlement(ctx, rest, stdout, stderr)
	case "redact":
		return runRedact(ctx, rest, os.Stdin, stdout, stderr)
	case "scan":
		return runScan(ctx, rest, stdout, stderr)
	case "mapping":
		return runMapping(ctx, rest, os.Stdin, stdout, stderr)
	case "notes":
		return runNotes(ctx, rest, os.Stdin, stdout, stderr)
	case "rebalance":
		return runRebalance(ctx, rest, stdout, stderr)
	case "erpsim":
		return runERPSim(ctx, rest, stdout, stderr)
	case "erp":
		if len(rest) == 1 && rest[0] == "kinds" {
			return runERPKinds(stdout)
		}
		return errors.New("usage: tillsync erp kinds")
	case "version":
		fmt.Fprintln(stdout, "tillsync", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "tillsync: unknown command %q\n\n%s", cmd, usage)
	return exitCode(2)
}

// newLogger builds the process logger from config.
func newLogger(l config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	switch l.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	// The redaction backstop: a card number cannot reach a log line even
	// if some code logs one by mistake. Above it, request, trace and event
	// IDs from the context (redacted like everything else).
	if l.Format == "text" {
		return slog.New(obs.NewLogHandler(redact.NewLogHandler(slog.NewTextHandler(w, opts))))
	}
	return slog.New(obs.NewLogHandler(redact.NewLogHandler(slog.NewJSONHandler(w, opts))))
}
