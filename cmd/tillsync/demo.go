package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tillsync/tillsync/internal/demo"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 60*time.Second, "how long the POS and web traffic runs")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object on the last line of stdout")
	stores := fs.Int("stores", 3, "number of stores (edges), 2 to 6; the second has the outage")
	rate := fs.Float64("rate", 60, "POS events per second per store")
	orders := fs.Float64("orders", 4, "web orders per second")
	keep := fs.String("keep", "", "keep the databases and demo.log in this directory instead of a temporary one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stores < 1 || *stores > 6 {
		return fmt.Errorf("demo: --stores %d: use 1 to 6", *stores)
	}
	if *keep != "" {
		if err := os.MkdirAll(*keep, 0o750); err != nil {
			return err
		}
	}
	s, err := demo.Run(ctx, demo.Options{Duration: *duration, Stores: *stores, Rate: *rate, OrderRate: *orders, Progress: stderr, Dir: *keep})
	if err != nil {
		return err
	}
	printSummary(stdout, s)
	if *asJSON {
		if err := jsonLine(stdout, s); err != nil {
			return err
		}
	}
	if !s.OK() {
		fmt.Fprintln(stderr, "tillsync demo: FAILED — an acknowledged event was lost or duplicated (in the hub or the ERP), the ledger does not match the log, or card data leaked")
		return exitCode(1)
	}
	return nil
}

func printSummary(w io.Writer, s *demo.Summary) {
	check := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	fmt.Fprintf(w, `
tillsync demo — %d stores, %.0f s
  events acknowledged        %8d   (POS tills through their store edge, web orders at the hub)
  events in the hub's log    %8d
  %s lost                     %8d   acknowledged but not in the log
  %s duplicated               %8d   (%d retries were recognised and not stored twice)
  %s ledger = log replay      %8d differences
  rejected with a reason     %8d
  oversells detected         %8d   (web orders %d; each with its evidence: GET /v1/oversells)
  sale → availability        p50 %.1f ms, p99 %.1f ms over %d sales (edge ack → SSE message;
                             %d sales made offline waited for the link instead)
  outage at %s: %.1f s offline, backlog peaked at %d events, drained in %.2f s (%.0f events/s)
  signed webhooks delivered  %8d   (%d bad signatures)
  NetSuite (simulated)       %8d records posted; %s %d duplicates by NetSuite's own count
                             %d dead letters; %d refusals for load (429) taught the governor the limit
                             (peak %d requests in flight); %d injected faults survived
  card data                  %d sales carried card numbers, tracks or CVVs; %d values removed at the first hop;
                             %s %d found afterwards in the databases, the log, or what the ERP and shop received
`, s.Stores, s.DurationS, s.EventsAccepted, s.EventsInHub, check(s.EventsLost == 0), s.EventsLost,
		check(s.Duplicates == 0), s.Duplicates, s.RetriesDeduplicated, check(s.LedgerDifferences == 0), s.LedgerDifferences,
		s.EventsRejected, s.Oversells, s.OrdersPlaced, s.SaleToAvailP50MS, s.SaleToAvailP99MS, s.SaleToAvailSamples, s.SalesDuringOutage,
		s.OutageStore, s.OutageS, s.OutageBacklogMax, s.DrainS, s.BurstDrainEventsPerS, s.WebhookDeliveries, s.WebhookBadSignatures,
		s.ERPPosted, check(s.ERPDuplicates == 0), s.ERPDuplicates, s.ERPDeadLetters, s.ERP429s, s.ERPPeakInFlight, s.ERPFaults,
		s.SalesWithCardData, s.PANsSeenAtIntake, check(s.PANsLeaked == 0), s.PANsLeaked)
	for _, l := range s.Leaks {
		fmt.Fprintf(w, "                               %s\n", l)
	}
}
