package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/rebalance"
	"github.com/tillsync/tillsync/internal/store"
)

const rebalanceUsage = `Usage:
  tillsync rebalance plan --config hub.yaml [--rebalance rebalance.yaml] [--json] [--submit]
  tillsync rebalance plan --input positions.json [--json]
  tillsync rebalance approve --config hub.yaml EXCEPTION-ID [--note TEXT]

plan forecasts demand per SKU and location from the hub's event log, reads
positions (on hand, reserved, in transit) from its ledger, and prints the
transfers worth making now, each with its reasoning: forecast, days of
cover, stockout probability before and after, expected lost sales avoided
and the transfer's cost. Lanes (lead time and cost per unit between
locations), margins, pack sizes and display minimums come from the
rebalance file; --input reads positions and sales history from a JSON file
instead of a hub (see docs/rebalance.md).

With --submit each proposal goes to the hub's exceptions inbox (kind
transfer_proposal; the same proposal twice is one exception) and those
within the auto_approve limits are approved at once. approve carries one
out: the TransferOut is appended to the hub's log (stock leaves the source
and is in transit at the destination, not available to promise) and the ERP
destinations post it as a transfer order. Reject with
'tillsync inbox act ID resolve --note REASON'.
`

func runRebalance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "approve" {
		return runRebalanceApprove(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "plan" {
		fmt.Fprint(stderr, rebalanceUsage)
		return exitCode(2)
	}
	fs := flag.NewFlagSet("rebalance plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, rebalanceUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	hubPath := fs.String("config", "", "the hub's YAML config: its database holds the event log and ledger")
	rbPath := fs.String("rebalance", "", "rebalance settings: lanes, margins, pack sizes, display minimums (YAML)")
	input := fs.String("input", "", "read positions and sales history from this JSON file instead of a hub")
	asJSON := fs.Bool("json", false, "print the proposals as JSON")
	asOfFlag := fs.String("as-of", "", "plan as of this RFC 3339 time (default: now)")
	submit := fs.Bool("submit", false, "raise the proposals in the hub's inbox and auto-approve those within the rules")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*hubPath == "") == (*input == "") || *submit && *hubPath == "" {
		fmt.Fprintln(stderr, "tillsync rebalance plan: give either --config hub.yaml or --input FILE (--submit needs --config)")
		return exitCode(2)
	}
	asOf := time.Now().UTC()
	if *asOfFlag != "" {
		t, err := time.Parse(time.RFC3339, *asOfFlag)
		if err != nil {
			return fmt.Errorf("rebalance plan: --as-of: %w", err)
		}
		asOf = t.UTC()
	}
	var (
		res *rebalance.Result
		err error
	)
	if *input != "" {
		f, oerr := os.Open(*input)
		if oerr != nil {
			return fmt.Errorf("rebalance plan: %w", oerr)
		}
		defer func() { _ = f.Close() }()
		res, err = rebalance.PlanInput(ctx, f, *input, asOf, *asOfFlag != "")
	} else {
		cfg := rebalance.DefaultConfig()
		if *rbPath != "" {
			if cfg, err = rebalance.LoadConfig(*rbPath); err != nil {
				return err
			}
		}
		hcfg, st, oerr := openHubStore(ctx, *hubPath)
		if oerr != nil {
			return oerr
		}
		defer func() { _ = st.Close() }()
		if res, err = rebalance.PlanStore(ctx, st, cfg, asOf); err != nil {
			return err
		}
		if *submit {
			in := rebalanceInbox(hcfg, st)
			subs, serr := rebalance.Submit(ctx, in, cfg.AutoApprove, res.Proposals)
			if serr != nil {
				return serr
			}
			auto := 0
			for _, s := range subs {
				if s.AutoApproved {
					auto++
				}
			}
			fmt.Fprintf(stderr, "submitted %d proposals to the inbox, %d auto-approved\n", len(subs), auto)
		}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "as of %s: %d SKUs at %d locations, %d proposals, %s units\n\n", res.AsOf.Format(time.RFC3339),
		res.Stats.SKUs, res.Locations, res.Stats.Proposals, res.Stats.Units)
	fmt.Fprintln(tw, "SKU\tFROM\tTO\tQTY\tLEAD\tCOST\tTO COVER\tTO RISK\tFROM RISK\tLOST SALES AVOIDED\tID")
	for _, p := range res.Proposals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fd\t%s\t%.1f→%.1fd\t%.0f%%→%.0f%%\t%.0f%%→%.0f%%\t%.2f\t%s\n",
			p.SKU, p.From, p.To, p.Quantity, p.LeadTimeDays, p.TransferCost,
			p.Destination.CoverDays, p.Destination.CoverDaysAfter,
			100*p.Destination.StockoutProbability, 100*p.Destination.StockoutProbabilityAfter,
			100*p.Source.StockoutProbability, 100*p.Source.StockoutProbabilityAfter,
			p.ExpectedLostSalesAvoided, p.ID)
	}
	return tw.Flush()
}

// rebalanceInbox is the hub's inbox with the approval action registered.
func rebalanceInbox(cfg *config.Hub, st *store.Store) *inbox.Inbox {
	zones := rebalance.Zones{}
	for _, s := range cfg.Stores {
		zones[s.ID] = s.Zone
	}
	in := inbox.Standard(st, inbox.Options{Zones: zones})
	ap := &rebalance.Approver{Emit: rebalance.StoreEmitter(st, nil), Zones: zones}
	_ = ap.Register(in) // a fresh inbox: the name is free
	return in
}

// runRebalanceApprove: tillsync rebalance approve --config hub.yaml ID [--note TEXT]
func runRebalanceApprove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rebalance approve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubPath := fs.String("config", "", "the hub's YAML config")
	note := fs.String("note", "", "a note for the inbox trail")
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, rebalanceUsage)
		return exitCode(2)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("rebalance approve: exception ID must be a positive integer, not %q", pos[0])
	}
	hcfg, st, err := openHubStore(ctx, *hubPath)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	in := rebalanceInbox(hcfg, st)
	x, err := in.Act(ctx, id, inbox.Action{Name: rebalance.ActApprove, Actor: cliActor(), Note: *note, Suggestion: "approve"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exception %d %s: %s\n", x.ID, x.State, x.Title)
	return nil
}

const benchRebalanceUsage = `Usage:
  tillsync bench rebalance [--json] [--stores 20] [--skus 500] [--weeks 8]
                           [--plan-stores 1000] [--plan-skus 10000]

Simulates a chain (weekly seasonality, promotions, demand shocks, lead
times by region) and runs it side by side on the same demand under: no
transfers; classic min/max reorder rules; tillsync predictive transfers.
Prints per strategy stockout events, lost sales units, transfers and units
moved, the forecast's WAPE against seasonal naive, checks the targets
(≥ 30 % fewer lost sales than min/max with no more units moved; WAPE
better than seasonal naive), then times one plan of a synthetic
1,000-store × 10,000-SKU chain (target ≤ 30 s). With --json, one JSON
object is the last line. Missed targets are reported, not failed.
`

func runBenchRebalance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench rebalance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchRebalanceUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	o := rebalance.DefaultSimOptions
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	fs.IntVar(&o.Stores, "stores", o.Stores, "stores in the simulated chain")
	fs.IntVar(&o.SKUs, "skus", o.SKUs, "SKUs in the simulated chain")
	fs.IntVar(&o.Weeks, "weeks", o.Weeks, "weeks simulated")
	seed := fs.Uint64("seed", o.Seed, "random seed of the chain")
	planStores := fs.Int("plan-stores", 1000, "stores of the timed plan (0 skips it)")
	planSKUs := fs.Int("plan-skus", 10000, "SKUs of the timed plan")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	o.Seed = *seed
	fmt.Fprintf(stderr, "simulating %d stores × %d SKUs × %d weeks under three strategies…\n", o.Stores, o.SKUs, o.Weeks)
	rep, err := rebalance.Simulate(ctx, o)
	if err != nil {
		return err
	}
	out := struct {
		*rebalance.SimReport
		Plan *rebalance.PlanTiming `json:"plan,omitempty"`
	}{SimReport: rep}
	if *planStores > 0 {
		fmt.Fprintf(stderr, "planning a synthetic chain of %d stores × %d SKUs…\n", *planStores, *planSKUs)
		if out.Plan, err = rebalance.PlanLargeChain(ctx, *planStores, *planSKUs, rebalance.DefaultSettings, *seed); err != nil {
			return err
		}
	}
	writeRebalanceTable(stdout, rep, out.Plan)
	if *asJSON {
		if err := jsonLine(stdout, out); err != nil {
			return err
		}
	}
	return nil
}

func writeRebalanceTable(w io.Writer, rep *rebalance.SimReport, plan *rebalance.PlanTiming) {
	fmt.Fprintf(w, "Chain: %d stores × %d SKUs × %d days, same demand draws for every strategy\n\n", rep.Stores, rep.SKUs, rep.Days)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tdemand\tsold\tlost units\tstockout events\ttransfers\tunits moved\ttransfer cost\tlost margin\t")
	for _, s := range rep.Strategies {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", s.Name, s.Demand, s.Sold, s.LostUnits, s.Stockouts,
			s.Transfers, s.UnitsMoved, money(s.TransferCost, rep.Currency), money(s.LostValue, rep.Currency))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, s := range rep.Strategies {
		fmt.Fprintf(w, "  %-10s %s\n", s.Name+":", s.Description)
	}
	mm, pv := rep.Strategies[1], rep.Strategies[2]
	fmt.Fprintf(w, "\nForecast WAPE (one day ahead, store-days not cut short by a stockout): model %.3f, seasonal naive %.3f → %s\n",
		rep.ForecastWAPE, rep.SeasonalNaiveWAPE, verdict(rep.MeetsWAPE))
	fmt.Fprintf(w, "Lost sales units: predictive %d vs min/max %d = %.1f %% fewer (target ≥ 30 %%) → %s\n",
		pv.LostUnits, mm.LostUnits, 100*rep.LostSalesReduction, verdict(rep.MeetsLostSales))
	fmt.Fprintf(w, "Units moved: predictive %d vs min/max %d = ratio %.3f (target ≤ 1, no more units moved) → %s\n",
		pv.UnitsMoved, mm.UnitsMoved, rep.UnitsMovedRatio, verdict(rep.MeetsUnitsMoved))
	if plan != nil {
		fmt.Fprintf(w, "Plan of %d stores × %d SKUs (%d positions) on %d workers: %.1f s wall, %.1f s CPU, %d proposals, %d units (target ≤ %.0f s) → %s\n",
			plan.Stores, plan.SKUs, plan.Sites, plan.Workers, plan.Seconds, plan.CPUSeconds, plan.Proposals, plan.Units, plan.TargetSeconds, verdict(plan.Met))
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func money(minor int64, currency string) string {
	return event.Money{Amount: event.Amount(minor), Currency: currency}.String()
}
