package reconcile

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// TestStateCarriesOpenItemsAndExceptions saves an engine with an open
// tender (its exception raised), a payout waiting for the bank and a batch
// without payout, restores it, and feeds the late line and the deposits.
func TestStateCarriesOpenItemsAndExceptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 4250, "ch_late"), tender("sale-2", 1000, "ch_2"), tender("sale-3", 2000, "ch_3"))
	l2, l3 := line(2, 1000, 0, "ch_2"), line(3, 2000, 0, "ch_3")
	l2.Refs.Batch = "po_A"
	l3.Refs.Batch = "B-9" // a batch with no payout line: the bank deposit alone says it was paid
	po := Line{File: "psp.csv", Row: 4, Format: settlement.FormatStripe, Type: settlement.TypePayout, Date: l2.Date, Currency: "EUR", Net: -1000, Gross: -1000,
		Refs: settlement.References{Batch: "po_A", Bank: "txn_po"}}
	b.e.AddLines(l2, l3, po)
	b.e.SetLogSeq(77)
	b.run(t)
	if err := b.e.Review(ctx, day0.Add(8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(b.exc.Open()); n != 1 {
		t.Fatalf("open before saving: %+v", b.exc.Open())
	}
	var buf bytes.Buffer
	if err := b.e.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	st, err := ReadState(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tenders) != 1 || len(st.Batches) != 2 || len(st.Raised) != 1 {
		t.Fatalf("state: %d tenders, %d batches, raised %v", len(st.Tenders), len(st.Batches), st.Raised)
	}
	e2, err := Restore(ctx, DefaultConfig(), b.exc, st)
	if err != nil {
		t.Fatal(err)
	}
	if e2.LogSeq() != 77 {
		t.Errorf("log sequence after restore = %d, want 77 (the hub's events read so far)", e2.LogSeq())
	}
	late := line(9, 4250, 0, "ch_late")
	late.File = "late.csv"
	depA := Line{File: "bank.xml", Row: 1, Type: settlement.TypeCardSettlement, Date: day0.Add(3 * 24 * time.Hour), Currency: "EUR", Net: 1000, Gross: 1000, Description: "STRIPE po_A"}
	depB := Line{File: "bank.xml", Row: 2, Type: settlement.TypeCardSettlement, Date: day0.Add(3 * 24 * time.Hour), Currency: "EUR", Net: 2000, Gross: 2000, Refs: settlement.References{EndToEnd: "B-9"}}
	e2.AddLines(late, depA, depB)
	if err := e2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if r, ok := b.exc.Resolved("reconcile:tender:sale-1#0"); !ok || !strings.Contains(r, "reference ch_late") {
		t.Fatalf("not resolved after restore: %q", r)
	}
	got := map[Rule]int{}
	e2.Matches(func(m Match) bool { got[m.Rule]++; return true })
	if got[RuleReference] != 1 || got[RuleDepositBatch] != 2 {
		t.Fatalf("matches after restore: %v", got)
	}
	if s := e2.Summary(); s.OpenTenders != 0 || s.OpenLines != 0 || s.OpenDeposits != 0 {
		t.Fatalf("summary after restore: %+v", s)
	}
}

func TestReadStateRefusesOtherVersion(t *testing.T) {
	t.Parallel()
	if _, err := ReadState(strings.NewReader(`{"version": 99}`)); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("err = %v", err)
	}
}

// TestBatchBookingChildren: a bank's batch booking (camt.053 Btch) gives
// its children as lines of one batch and itself as the batch's deposit;
// the children match their tenders and the booking matches the batch.
func TestBatchBookingChildren(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.e.AddTenders(tender("sale-1", 1000, "E2E-1"), tender("sale-2", 2500, "E2E-2"))
	child := func(ref string, amount int64) settlement.Transaction {
		return settlement.Transaction{Format: settlement.FormatCamt053, Type: settlement.TypeCardSettlement, Amount: event.Amount(amount), Currency: "EUR",
			Direction: settlement.Credit, BookingDate: settlement.DayOf(day0.Add(24 * time.Hour)), References: settlement.References{EndToEnd: ref}}
	}
	parent := child("", 3500)
	parent.File, parent.Element, parent.Line = "stmt.xml", "Stmt[1]/Ntry[1]", 40
	parent.References.Bank = "ACCT-REF-1"
	parent.Children = []settlement.Transaction{child("E2E-1", 1000), child("E2E-2", 2500)}
	for i := range parent.Children {
		parent.Children[i].Type = settlement.TypePayment
		parent.Children[i].File = "stmt.xml"
	}
	ls := LinesFromTransaction(&parent)
	if len(ls) != 3 || ls[2].Refs.Batch != "camt053:ACCT-REF-1" || ls[0].Refs.Batch != ls[2].Refs.Batch || ls[0].Row != 40 {
		t.Fatalf("lines %+v", ls)
	}
	b.e.AddLines(ls...)
	b.run(t)
	got := map[Rule]int{}
	b.e.Matches(func(m Match) bool { got[m.Rule]++; return true })
	if got[RuleReference] != 2 || got[RulePayout] != 1 {
		t.Fatalf("matches %v", got)
	}
}
