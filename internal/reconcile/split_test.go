package reconcile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

// TestParallelParseEqualsSequential parses a Stripe report in pieces (with
// a quoted newline, a net ≠ gross − fee row and a CRLF line) and gets what
// one parser gets: the same lines, line numbers, totals and problems.
func TestParallelParseEqualsSequential(t *testing.T) {
	t.Parallel()
	const hdr = "automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,description\n"
	var b strings.Builder
	b.WriteString(hdr)
	for k := range 400 {
		desc := "sale"
		switch k {
		case 17:
			desc = "\"two\nlines, and a comma\""
		case 250:
			desc = "crlf\r"
		}
		net := "9.50"
		if k == 301 {
			net = "9.40" // does not check out
		}
		fmt.Fprintf(&b, "po_%d,txn_%d,2026-03-02 10:00:00,eur,10.00,0.50,%s,charge,ch_%d,%s\n", k/50, k, net, k, desc)
	}
	path := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var seq []Line
	seqSum, seqErr := ReadSettlement(&stripe.Parser{File: path}, strings.NewReader(b.String()), func(l Line) error { seq = append(seq, l); return nil })
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for _, parts := range []int{1, 2, 3, 7} {
		var read atomic.Int64
		par, sum, perr := ParallelParse(f, int64(b.Len()), parts, func() settlement.Parser { return &stripe.Parser{File: path} },
			func(n int) { read.Add(int64(n)) })
		var c1, c2 *settlement.ControlTotalError
		if !errors.As(seqErr, &c1) || !errors.As(perr, &c2) || !reflect.DeepEqual(c1.Problems, c2.Problems) {
			t.Fatalf("%d parts: errors %v and %v", parts, seqErr, perr)
		}
		if !reflect.DeepEqual(par, seq) {
			t.Fatalf("%d parts: %d lines, want %d; first difference at %d", parts, len(par), len(seq), firstDiff(par, seq))
		}
		if read.Load() != int64(b.Len()-len(hdr)) {
			t.Fatalf("%d parts: counted %d bytes read, want %d", parts, read.Load(), b.Len()-len(hdr))
		}
		if !reflect.DeepEqual(sum, seqSum) {
			t.Fatalf("%d parts: summary\n %+v\nwant %+v", parts, sum, seqSum)
		}
	}
}

func firstDiff(a, b []Line) int {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}
