package oversell

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"text/tabwriter"
)

// WriteTable prints the report for people.
func WriteTable(w io.Writer, rep *Report) error {
	d := rep.Day
	fmt.Fprintf(w, "tillsync bench oversell — simulated Black Friday: %d stores, %s SKUs (each at %d stores, %s units), %g simulated hours from 08:00 Berlin, seed %d; %d CPUs, %s\n",
		d.Stores, thousands(int64(d.SKUs)), d.StoresPerSKU, d.UnitsPerLevel, d.Hours, d.Seed, rep.CPUs, runtime.Version())
	fmt.Fprintf(w, "%s till customers and %s online customers for %s units; demand peaks at %g× the base rate; the same demand for every strategy; simulated in %.1fs\n\n",
		thousands(int64(d.TillCustomers)), thousands(int64(d.OnlineCustomers)), thousands(d.OpeningUnits), d.PeakFactor, rep.SimulationSeconds)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "strategy\toversold units\tcancelled orders\tphantom SKU-seconds\tphantom level-seconds\tonline orders\tshown sold out\trerouted\ttill units sold\tshop requests\tthrottled\tstale compares")
	for _, r := range rep.Strategies {
		if r == nil {
			continue
		}
		over := thousands(r.OversoldUnits)
		if r.Strategy == "tillsync" {
			over += fmt.Sprintf(" (target %d) %s", rep.OversoldTarget, verdict(rep.OversoldPass))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, over, thousands(r.CancelledOrders),
			thousands(int64(r.PhantomSKUSeconds+0.5)), thousands(int64(r.PhantomLevelSeconds+0.5)),
			thousands(r.OnlineOrders), thousands(r.OnlineTurnedAway), thousands(r.Rerouted), thousands(r.StoreUnitsSold),
			thousands(r.Requests), thousands(r.Throttled), thousands(r.StaleCompares))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var till, base *Result
	for _, r := range rep.Strategies {
		if r != nil && r.Strategy == "tillsync" {
			till = r
		}
		if r != nil && r.Name == rep.Baseline {
			base = r
		}
	}
	if till != nil && base != nil {
		fmt.Fprintf(w, "\nphantom exposure, %s / tillsync: %s (target ≥ %g×) %s — %s vs %s SKU-seconds (%.2f vs %.2f SKU-hours)\n",
			base.Name, rep.PhantomRatioText, rep.PhantomRatioTarget, verdict(rep.PhantomRatioPass),
			strconv.FormatFloat(base.PhantomSKUSeconds, 'f', 1, 64), strconv.FormatFloat(till.PhantomSKUSeconds, 'f', 1, 64),
			base.PhantomSKUSeconds/3600, till.PhantomSKUSeconds/3600)
		fmt.Fprintf(w, "tillsync: %s ledger events, %d oversells detected by the ledger; %s quantities written in %s requests, %.1f points/s on average of the shop's %g\n",
			thousands(till.LedgerEvents), till.LedgerOversells, thousands(till.Quantities), thousands(till.Requests),
			till.Points/(d.Hours*3600), d.ShopRestoreRate)
	}
	p := rep.Propagation
	fmt.Fprintf(w, "tillsync pushes land %.0f ms (till to hub) + a sale-to-Shopify latency drawn from p50 %.0f / p95 %.0f / p99 %.0f / max %.0f ms (%s)\n",
		d.EdgeDelayMs, p.P50Ms, p.P95Ms, p.P99Ms, p.MaxMs, p.Source)

	if sh := rep.Shopify; sh != nil {
		fmt.Fprintln(w)
		if sh.Error != "" {
			fmt.Fprintf(w, "Shopify destination under a backlog: FAILED: %s\n", sh.Error)
		} else {
			r := sh.Report
			fmt.Fprintf(w, "Shopify destination under a backlog — the real destination against the simulated shop, %s plan (%.0f points/s, bucket %.0f), in real time (%.0fs):\n",
				r.Plan, r.RestoreRate, r.BucketSize, sh.Seconds)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  measure\tvalue\ttarget\tresult")
			util := "n/a (the backlog fit in the bucket)"
			if r.Saturated {
				util = fmt.Sprintf("%.1f %%", 100*r.Utilisation)
			}
			fmt.Fprintf(tw, "  bucket utilisation (backlog drained in %.1fs)\t%s\t≥ %.0f %%\t%s\n", r.Backlog.Seconds(), util, 100*sh.UtilisationTarget, verdict(sh.UtilisationPass))
			fmt.Fprintf(tw, "  throttled requests\t%d of %d (%.2f %%)\t≤ %.0f %%\t%s\n", r.Throttled, r.Requests, 100*r.ThrottledShare, 100*sh.ThrottledTarget, verdict(sh.ThrottledPass))
			fmt.Fprintf(tw, "  sale-to-Shopify p95 (%d of %d sales delivered)\t%.0f ms\t≤ %.0f ms\t%s\n", r.Delivered, r.Sales, ms(r.P95), sh.P95TargetMs, verdict(sh.P95Pass))
			fmt.Fprintf(tw, "  p50 / p99 / max\t%.0f / %.0f / %.0f ms\t\t\n", ms(r.P50), ms(r.P99), ms(r.Max))
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	fmt.Fprint(w, `
Run for real in the simulated day: tillsync's ledger (internal/inventory) and its oversell detection, the
channel's available-to-promise, and the Shopify simulator's levels, compare-and-set checks and cost bucket
on the simulated clock. Modelled: when a push lands — the destination runs on the wall clock, so its
latency is measured above and sampled; its compare-and-set rules are restated in the bench, not run. Every
strategy gets the same demand, webhook delays (online order to store) and ship-from-store rerouting.
Missed targets are reported, not failed.
`)
	return nil
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}

func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
