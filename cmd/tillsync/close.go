package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/settlement"
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
	zones := map[string]string{}
	for _, s := range cfg.Stores {
		zones[s.ID] = s.Zone
	}
	c := closing.FromConfig(cfg, st, exception.Hub{In: inbox.New(st, inbox.Options{Zones: zones})})
	c.ReportOnly = *reportOnly
	if len(files) > 0 {
		eng, err := reconcile.NewEngine(reconcile.DefaultConfig(), reconcile.NewMemoryExceptions())
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
