package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/store"
)

// runClose: tillsync close --config hub.yaml --store S [--date YYYY-MM-DD] [--json] [--wait 30s] [--report-only]
// [--settlement FILE ... [--format F] [--mapping M]]
func runClose(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("close", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the hub's YAML config")
	storeID := fs.String("store", "", "the store to close (its id in the config)")
	date := fs.String("date", "", "the store's local day, YYYY-MM-DD (default: yesterday in the store's zone)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	wait := fs.Duration("wait", 0, "how long to wait for re-delivered documents to be confirmed (default: close.wait, else 30s; the hub must be running)")
	reportOnly := fs.Bool("report-only", false, "report without re-delivering anything or raising exceptions")
	var files multiFlag
	fs.Var(&files, "settlement", "a bank or PSP settlement `FILE` to match the day's card tenders against (repeatable)")
	format := fs.String("format", "auto", "settlement files' format: auto, bai2, camt053, stripe, adyen or csv")
	mapping := fs.String("mapping", "", "YAML column mapping for --format csv")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *storeID == "" {
		return errors.New("close: --store is required")
	}
	cfg, st, err := openHubStore(ctx, *path)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	zones := cfg.Zones()
	c := closerFor(cfg, st, *reportOnly)
	if len(files) > 0 {
		eng, err := reconcile.NewEngine(reconcile.DefaultConfig(), exception.NewMemory())
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := readSettlementFile(f, settlement.Format(*format), *mapping, eng, stderr); err != nil {
				return err
			}
		}
		c.Settlement = eng
	}
	if *wait > 0 {
		c.Wait = *wait
	}
	if *date == "" {
		zone, ok := zones[*storeID]
		if !ok {
			return fmt.Errorf("close: no store %q in the config", *storeID)
		}
		loc, err := event.LoadZone(zone)
		if err != nil {
			return fmt.Errorf("close: store %s: zone %q: %w", *storeID, zone, err)
		}
		*date = time.Now().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	}
	rep, err := c.Close(ctx, *storeID, *date)
	if err != nil {
		return err
	}
	if !*reportOnly {
		auditCLI(ctx, st, "close store day "+*date, *storeID)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(stdout)
}

// runShrinkage: tillsync shrinkage --config hub.yaml --from YYYY-MM-DD --to YYYY-MM-DD [--json] [--report-only]
func runShrinkage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shrinkage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the hub's YAML config")
	from := fs.String("from", "", "first local day of the period, YYYY-MM-DD")
	to := fs.String("to", "", "last local day of the period, YYYY-MM-DD (default: from)")
	asJSON := fs.Bool("json", false, "print every subject's scores and the anomalies as JSON")
	reportOnly := fs.Bool("report-only", false, "score without raising exceptions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("shrinkage: --from is required")
	}
	if *to == "" {
		*to = *from
	}
	cfg, st, err := openHubStore(ctx, *path)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	c := closerFor(cfg, st, *reportOnly)
	res, err := c.Score(ctx, *from, *to)
	if err != nil {
		return err
	}
	if !*reportOnly {
		auditCLI(ctx, st, "score shrinkage "+res.Period, "")
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(stdout, "Shrinkage %s: %d subject(s) scored, %d stand out\n", res.Period, len(res.Scored), len(res.Anomalies))
	for _, a := range res.Anomalies {
		fmt.Fprintf(stdout, "  %s (against %d peers):\n", a.Subject, a.Peers)
		for _, f := range a.Flagged {
			fmt.Fprintf(stdout, "    %s %.1f%% vs peer median %.1f%% (robust z %.1f, %d events)\n", f.Metric, 100*f.Value, 100*f.PeerMedian, f.Z, f.Events)
		}
	}
	return nil
}

// closerFor builds the day's close on the hub's database, raising what it
// finds in the hub's inbox unless reportOnly.
func closerFor(cfg *config.Hub, st *store.Store, reportOnly bool) *closing.Closer {
	c := closing.FromConfig(cfg, st, exception.Hub{In: inbox.New(st, inbox.Options{Zones: cfg.Zones()})})
	c.ReportOnly = reportOnly
	return c
}
