package bench

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
)

// WriteTable prints the report as a table for people.
func WriteTable(w io.Writer, rep *Report, opt Options) error {
	opt.defaults()
	fmt.Fprintf(w, "tillsync bench ingest — %d CPUs, %s %s/%s, %s per timed part", rep.Machine.CPUs, runtime.Version(), runtime.GOOS, runtime.GOARCH, opt.Duration)
	if rep.Machine.LoadBefore > 0 || rep.Machine.LoadAfter > 0 {
		fmt.Fprintf(w, ", load average %.1f before, %.1f after", rep.Machine.LoadBefore, rep.Machine.LoadAfter)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tmeasure\tvalue\ttarget\tresult")
	row := func(part, measure, value, target, result string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", part, measure, value, target, result)
	}
	for _, t := range []struct {
		name string
		t    *Throughput
	}{{"sqlite", rep.SQLite}, {"postgres", rep.Postgres}} {
		switch {
		case t.t == nil:
			continue
		case t.t.Skipped != "":
			row(t.name, "skipped: "+t.t.Skipped, "", "", "")
			continue
		case t.t.Error != "":
			row(t.name, "FAILED: "+t.t.Error, "", "", "ERROR")
			continue
		}
		r := t.t
		row(t.name, fmt.Sprintf("hub intake (HTTP, %d clients × %d events)", r.Clients, r.RequestEvents), rate(r.HubEventsPerS), "", "")
		row("", fmt.Sprintf("raw loop (%d events per transaction)", r.RawBatch), rate(r.RawEventsPerS), "", "")
		row("", "ratio hub/raw", fmt.Sprintf("%.2f", r.Ratio), fmt.Sprintf("≥ %.2f", r.Target), verdict(r.Pass))
		row("", "group commit: events / requests per commit", fmt.Sprintf("%.0f / %.1f", r.BatchEventsAvg, r.BatchRequestsAvg), "", "")
		row("", "group commit: Append / COMMIT time", fmt.Sprintf("%.2f / %.2f ms", r.CommitMsAvg, r.FsyncMsAvg), "", "")
		row("", "ack latency p50 / p99", fmt.Sprintf("%.1f / %.1f ms", r.AckP50Ms, r.AckP99Ms), "", "")
		row("", "CPU per event: hub (with clients) / raw", fmt.Sprintf("%.0f / %.0f µs", r.HubCPUMicros, r.RawCPUMicros), "", "")
		if r.HubServerCPUMicros > 0 {
			row("", "PostgreSQL server CPU per event: hub / raw", fmt.Sprintf("%.0f / %.0f µs", r.HubServerCPUMicros, r.RawServerCPUMicros), "", "")
		}
		row("", "CPU ratio raw/hub (steadier on a busy machine)", fmt.Sprintf("%.2f", r.CPURatio), "", "")
	}
	if l := rep.Latency; l != nil {
		if l.Error != "" {
			row("latency", "FAILED: "+l.Error, "", "", "ERROR")
		} else {
			row("latency", fmt.Sprintf("sale → availability, %d sales/s (achieved %.0f)", l.RatePerS, l.AchievedPerS), fmt.Sprintf("%d measured", l.Measured), "", "")
			row("", "p50 / p99 / max", fmt.Sprintf("%.1f / %.1f / %.1f ms", l.P50Ms, l.P99Ms, l.MaxMs), fmt.Sprintf("p99 ≤ %.0f ms", l.TargetP99Ms), verdict(l.Pass))
			row("", "till ack p99 (edge answer)", fmt.Sprintf("%.1f ms", l.PosAckP99Ms), "", "")
			row("", "CPU per sale (till, edge, hub, stream)", fmt.Sprintf("%.0f µs", l.CPUMicros), "", "")
			if l.Unseen > 0 {
				row("", "sales not named on the stream", fmt.Sprint(l.Unseen), "", "")
			}
		}
	}
	if d := rep.Drain; d != nil {
		if d.Error != "" {
			row("drain", "FAILED: "+d.Error, "", "", "ERROR")
		} else {
			row("drain", fmt.Sprintf("edge backlog of %d drained in %.2fs", d.Backlog, d.Seconds), rate(d.EventsPerS), "", "")
			if d.HubIntakeEventsPerS > 0 {
				row("", "ratio drain / sqlite hub intake", fmt.Sprintf("%.2f", d.Ratio), fmt.Sprintf("≥ %.2f", d.Target), verdict(d.Pass))
			} else {
				row("", "ratio drain / sqlite hub intake", "n/a (sqlite part not run)", fmt.Sprintf("≥ %.2f", d.Target), "")
			}
			row("", "edge intake while filling", rate(d.FillEventsPerS), "", "")
		}
	}
	if red := rep.Redaction; red != nil {
		if red.Error != "" {
			row("redaction", "FAILED: "+red.Error, "", "", "ERROR")
		} else {
			row("redaction", "hub intake with first-hop redaction", rate(red.OnEventsPerS), "", "")
			row("", "… and without", rate(red.OffEventsPerS), "", "")
			row("", "ratio with / without", fmt.Sprintf("%.2f", red.Ratio), fmt.Sprintf("≥ %.1f", red.Target), verdict(red.Pass))
		}
	}
	if tr := rep.Tracing; tr != nil {
		if tr.Error != "" {
			row("tracing", "FAILED: "+tr.Error, "", "", "ERROR")
		} else {
			row("tracing", fmt.Sprintf("hub intake with tracing on (%d spans)", tr.Spans), rate(tr.OnEventsPerS), "", "")
			row("", "… and off", rate(tr.OffEventsPerS), "", "")
			row("", "ratio on / off", fmt.Sprintf("%.2f", tr.Ratio), fmt.Sprintf("≥ %.1f", tr.Target), verdict(tr.Pass))
			row("", "CPU per event: on / off", fmt.Sprintf("%.0f / %.0f µs", tr.OnCPUPerEvent, tr.OffCPUPerEvent), "", "")
			row("", "CPU ratio off/on (steadier on a busy machine)", fmt.Sprintf("%.2f", tr.CPURatio), "", "")
		}
	}
	return tw.Flush()
}

func rate(v float64) string { return fmt.Sprintf("%s events/s", thousands(int64(v+0.5))) }

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
