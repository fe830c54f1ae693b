package closing

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

func money(a event.Amount, currency string) string {
	return event.Money{Amount: a, Currency: currency}.String()
}

func values(v map[string]event.Amount) string {
	if len(v) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = money(v[k], k)
	}
	return strings.Join(parts, ", ")
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	loc, err := event.LoadZone(r.Zone)
	if err != nil {
		loc = time.UTC
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "End-of-day close: store %s, %s (%s)\n", r.Location, r.Date, r.Zone)
	fmt.Fprintf(b, "  day %s – %s store time; generated %s UTC\n", r.From.In(loc).Format("2006-01-02 15:04"),
		r.To.In(loc).Format("2006-01-02 15:04"), r.GeneratedAt.Format("2006-01-02 15:04:05"))
	if !r.Complete {
		b.WriteString("  PREVIEW: the day is not over in the store's zone\n")
	}

	b.WriteString("\nSales\n")
	if len(r.Sales) == 0 {
		b.WriteString("  no sales, returns or voids\n")
	}
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', tabwriter.AlignRight)
	if len(r.Sales) > 0 {
		fmt.Fprintln(tw, "  currency\tsales\tvalue\treturns\tvalue\tno receipt\tvoids\tvalue\tdiscounts\ttips\tnet\t")
		for _, s := range r.Sales {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", s.Currency, s.Sales, money(s.SalesValue, s.Currency),
				s.Returns, money(s.ReturnsValue, s.Currency), s.NoReceiptReturns, s.Voids, money(s.VoidsValue, s.Currency),
				money(s.Discounts, s.Currency), money(s.Tips, s.Currency), money(s.Net, s.Currency))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(r.Tenders) > 0 {
		b.WriteString("\nTenders\n")
		tw = tabwriter.NewWriter(b, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  kind\tcount\ttaken\trefunded\tvoided\ttips\tnet\t")
		for _, t := range r.Tenders {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", t.Kind, t.Count, money(t.Taken, t.Currency), money(t.Refunded, t.Currency),
				money(t.Voided, t.Currency), money(t.Tips, t.Currency), money(t.Net, t.Currency))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	b.WriteString("\nERP confirmed\n")
	if len(r.ERP) == 0 {
		b.WriteString("  no ERP destinations configured\n")
	}
	for _, e := range r.ERP {
		status := "complete"
		if !e.Complete() {
			status = fmt.Sprintf("%d NOT CONFIRMED", len(e.Missing))
		}
		fmt.Fprintf(b, "  %s: %d of %d documents confirmed (%s of %s), %d pending; %s\n", e.Destination, e.Confirmed.Count, e.Expected.Count,
			values(e.Confirmed.Value), values(e.Expected.Value), e.Pending.Count, status)
		if e.Redelivered > 0 {
			fmt.Fprintf(b, "    re-delivered %d, confirmed after re-delivery %d\n", e.Redelivered, e.Recovered)
		}
		for i, m := range e.Missing {
			if i == 10 {
				fmt.Fprintf(b, "    … and %d more\n", len(e.Missing)-10)
				break
			}
			line := fmt.Sprintf("    %s %s (seq %d) %s", m.Kind, m.EventID, m.Seq, m.State)
			if m.Currency != "" {
				line += " " + money(m.Value, m.Currency)
			}
			if m.Error != "" {
				line += ": " + oneLine(m.Error, 100)
			}
			b.WriteString(line + "\n")
		}
	}

	b.WriteString("\nSettlement\n")
	if r.Settlement.Available {
		fmt.Fprintf(b, "  %s\n", r.Settlement.Note)
		if sum := r.Settlement.Summary; sum != nil && sum.OpenTenders > 0 {
			fmt.Fprintf(b, "  unmatched card tenders: %d (%s)\n", sum.OpenTenders, values(sum.OpenTenderTotals))
		}
	} else {
		fmt.Fprintf(b, "  not available: %s\n", r.Settlement.Note)
	}

	b.WriteString("\nCash\n")
	if len(r.Cash.Shifts) == 0 {
		b.WriteString("  no cash taken and no drawer counted\n")
	}
	if len(r.Cash.Shifts) > 0 {
		tw = tabwriter.NewWriter(b, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  register\tcount at\tfloat\tcash sales\trefunds\tvoided\tpayouts\texpected\tcounted\tvariance\t\t")
		for _, s := range r.Cash.Shifts {
			at, counted, variance, flag := "open", "-", "-", "no count yet"
			if !s.Open {
				at = s.End.In(loc).Format("15:04")
				counted, variance = money(*s.Counted, s.Currency), money(*s.Variance, s.Currency)
				flag = "ok"
				if !s.Within {
					flag = "OUT OF TOLERANCE"
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Register, at, money(s.Float, s.Currency),
				money(s.CashSales, s.Currency), money(s.CashRefunds, s.Currency), money(s.VoidedNet, s.Currency),
				money(s.Payouts, s.Currency), money(s.Expected, s.Currency), counted, variance, flag)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(b, "  total variance %s; %d drawer(s) out of tolerance\n", values(r.Cash.Variance), r.Cash.OutOfTolerance)
	}
	if len(r.Cash.Unassigned) > 0 {
		fmt.Fprintf(b, "  cash on documents without a register (not checked): %s\n", values(r.Cash.Unassigned))
	}
	for _, p := range r.Cash.Problems {
		fmt.Fprintf(b, "  problem: %s\n", p)
	}

	b.WriteString("\nShrinkage\n")
	if len(r.Shrinkage.Anomalies) == 0 {
		fmt.Fprintf(b, "  nothing stands out against %d store(s)' cashiers and registers\n", len(r.Shrinkage.Peers))
	}
	for _, a := range r.Shrinkage.Anomalies {
		fmt.Fprintf(b, "  %s (against %d peers):\n", a.Subject, a.Peers)
		for _, f := range a.Flagged {
			fmt.Fprintf(b, "    %s %.1f%% vs peer median %.1f%% (robust z %.1f, %d events)\n", f.Metric, 100*f.Value, 100*f.PeerMedian, f.Z, f.Events)
		}
	}

	b.WriteString("\nExceptions\n")
	if r.Exceptions.Available {
		fmt.Fprintf(b, "  %d open at %s\n", r.Exceptions.Open, r.Location)
	} else {
		b.WriteString("  open count not available (no inbox)\n")
	}
	if len(r.Exceptions.Raised) > 0 {
		fmt.Fprintf(b, "  raised by this close: %s\n", strings.Join(r.Exceptions.Raised, ", "))
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
