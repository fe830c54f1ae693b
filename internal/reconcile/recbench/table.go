package recbench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the report for people.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "reconcile: %d tenders (%.0f MB) against %d settlement lines (%.0f MB, Stripe itemized report), %d cores, load %s\n\n",
		r.Tenders, r.TenderFileMB, r.Lines, r.SettlementMB, r.Cores, orDash(r.LoadAverage))
	fmt.Fprintln(tw, "PHASE\tWALL s\tCPU s\tNOTE")
	fmt.Fprintf(tw, "parse both files\t%.2f\t%.2f\ttenders | report in one piece per core\n", r.ParseSeconds, r.ParseCPUSeconds)
	fmt.Fprintf(tw, "match (engine)\t%.2f\t%.2f\tbest of %v\n", r.MatchSeconds, r.MatchCPUSeconds, secs(r.MatchRounds))
	fmt.Fprintf(tw, "hash join (baseline)\t%.2f\t%.2f\tbest of %v\n", r.HashJoinSeconds, r.HashJoinCPUSeconds, secs(r.HashJoinRounds))
	if err := tw.Flush(); err != nil {
		return err
	}
	s := r.Summary
	fmt.Fprintf(w, "\nmatched: %d tenders; by rule: %v; open: %d tenders, %d lines, %d deposits; %d exceptions\n",
		s.MatchedTenders, s.ByRule, s.OpenTenders, s.OpenLines, s.OpenDeposits, r.Exceptions)
	fmt.Fprintf(w, "generated: %d unsettled tenders, %d orphan lines, %d lines without reference, %d batches, %d refunds, %d split tenders, %d tips\n",
		r.Expected.Unsettled, r.Expected.Orphans, r.Expected.MissingRefs, r.Expected.Batches, r.Expected.RefundLines, r.Expected.SplitTenders, r.Expected.Tips)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tMEASURED\tMET")
	fmt.Fprintf(tw, "parse + match ≤ %.0f s\t%.2f s\t%s\n", TargetTotalSeconds, r.TotalSeconds, yes(r.TotalOK))
	fmt.Fprintf(tw, "match ≤ %.1f× hash join\t%.2f× (CPU %.2f×, medians %.2f×)\t%s\n", TargetRatio, r.Ratio, r.CPURatio, r.RatioMedian, yes(r.RatioOK))
	limit := ""
	if r.MemoryLimitMiB > 0 {
		limit = fmt.Sprintf(" (Go memory limit %.0f MiB)", r.MemoryLimitMiB)
	}
	fmt.Fprintf(tw, "peak memory ≤ %.0f MiB\t%.0f MiB%s\t%s\n", TargetPeakMiB, r.PeakRSSMiB, limit, yes(r.MemoryOK))
	return tw.Flush()
}

func secs(v []float64) string {
	out := "["
	for i, x := range v {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%.2f", x)
	}
	return out + "]"
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
