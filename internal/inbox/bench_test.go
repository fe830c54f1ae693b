package inbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// BenchmarkList10k measures a page of 100 from an inbox of 10,000 open
// exceptions (and 2,000 resolved), per filter, against the baseline of
// reading the whole inbox and filtering in memory, in the same run:
//
//	go test ./internal/inbox -run '^$' -bench List10k -benchtime 200x
//
// It reports page_us (indexed page), scan_us (baseline) and ratio
// (scan / page).
func BenchmarkList10k(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b, storetest.Engines()[0])
	in := inbox.New(st, inbox.Options{})
	kinds := []inbox.Kind{inbox.DeadLetter, inbox.Oversell, inbox.CashVariance, inbox.MappingUnknownSKU}
	sevs := []inbox.Severity{inbox.SeverityInfo, inbox.SeverityWarning, inbox.SeverityError, inbox.SeverityCritical}
	err := st.Inbox(ctx, func(tx *store.InboxTx) error {
		for i := range 12000 {
			p := inbox.Problem{Key: fmt.Sprintf("k/%d", i), Kind: kinds[i%4], Severity: sevs[(i/4)%4], Location: fmt.Sprintf("s%d", i%50),
				Title: "problem", Evidence: map[string]int{"i": i}, At: time.Unix(int64(i), 0)}
			if _, _, err := in.RaiseTx(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	err = st.Inbox(ctx, func(tx *store.InboxTx) error {
		for i := 10000; i < 12000; i++ {
			if _, err := in.AutoResolveTx(ctx, tx, fmt.Sprintf("k/%d", i), "settled", nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	filters := []struct {
		name string
		f    inbox.Filter
	}{
		{"open", inbox.Filter{State: "open"}},
		{"open_kind", inbox.Filter{State: "open", Kind: "oversell"}},
		{"active_severity", inbox.Filter{State: "active", Severity: "critical"}},
		{"store", inbox.Filter{Location: "s7"}},
		{"open_kind_after", inbox.Filter{State: "open", Kind: "dead_letter", After: 8000}},
		{"auto_resolved", inbox.Filter{State: "auto_resolved"}},
		{"assignee_nobody", inbox.Filter{Assignee: "nobody"}},
		{"open_store_severity", inbox.Filter{State: "open", Location: "s3", Severity: "info"}},
	}
	for _, c := range filters {
		f := c.f
		b.Run(c.name, func(b *testing.B) {
			f.Limit = 100
			var page, scan time.Duration
			for b.Loop() {
				t0 := time.Now()
				p, err := in.List(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				n := scanFilter(b, in, f)
				page, scan = page+t1.Sub(t0), scan+time.Since(t1)
				if n != len(p.Exceptions) {
					b.Fatalf("baseline found %d, indexed page %d", n, len(p.Exceptions))
				}
			}
			b.ReportMetric(float64(page.Microseconds())/float64(b.N), "page_us")
			b.ReportMetric(float64(scan.Microseconds())/float64(b.N), "scan_us")
			b.ReportMetric(float64(scan)/float64(page), "ratio")
		})
	}
}

// scanFilter is the baseline: read every exception, filter in memory,
// stop at a page.
func scanFilter(b *testing.B, in *inbox.Inbox, f inbox.Filter) int {
	n, after := 0, int64(0)
	for {
		p, err := in.List(context.Background(), inbox.Filter{After: after, Limit: inbox.MaxLimit})
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range p.Exceptions {
			st := string(x.State)
			if (f.State == "" || st == f.State || (f.State == "active" && x.State.Active())) &&
				(f.Kind == "" || string(x.Kind) == f.Kind) && (f.Severity == "" || string(x.Severity) == f.Severity) &&
				(f.Location == "" || x.Location == f.Location) && (f.Assignee == "" || x.Assignee == f.Assignee) && x.ID > f.After {
				n++
				if n == f.Limit {
					return n
				}
			}
		}
		if p.NextAfter == 0 {
			return n
		}
		after = p.NextAfter
	}
}
