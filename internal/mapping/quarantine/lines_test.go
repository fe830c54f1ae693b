package quarantine_test

import (
	"context"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// skuLines returns an event's line SKUs and codes, whatever its type.
func skuLines(e *event.Event) (skus, codes []string) {
	add := func(sku, code string) { skus, codes = append(skus, sku), append(codes, code) }
	switch b := e.Body.(type) {
	case *event.Sale:
		for _, l := range b.Lines {
			add(l.SKU, l.Code)
		}
	case *event.Return:
		for _, l := range b.Lines {
			add(l.SKU, l.Code)
		}
	case *event.OnlineOrder:
		for _, l := range b.Lines {
			add(l.SKU, l.Code)
		}
	default:
		var ls []event.Line
		switch b := b.(type) {
		case *event.Adjustment:
			ls = b.Lines
		case *event.Receipt:
			ls = b.Lines
		case *event.TransferOut:
			ls = b.Lines
		case *event.TransferIn:
			ls = b.Lines
		case *event.StockCount:
			ls = b.Lines
		case *event.Fulfilment:
			ls = b.Lines
		}
		for _, l := range ls {
			add(l.SKU, l.Code)
		}
	}
	return skus, codes
}

// Every event type with stock lines has them resolved; the types without
// lines pass untouched.
func TestEveryLineTypeIsResolved(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Engine{Name: "sqlite", DSN: storetest.SQLiteDSN})
	l := et.L("JKT-M-BLK", 1)
	evs := []*event.Event{
		et.Sale("sale", "s1", at(1), l), et.Return("ret", "s1", at(2), "sale", l), et.Adjust("adj", "s1", at(3), l),
		et.Receive("rcv", "s1", at(0), l), et.Count("cnt", "s1", at(4), l), et.TransferOut("tout", "s1", at(5), "T1", "s2", l),
		et.TransferIn("tin", "s1", at(6), "T2", "s2", l), et.Order("ord", "s1", at(7), "W1", "web", l),
		et.Fulfil("ful", "s1", at(8), "W1", l), et.Cancel("can", "s1", at(9), "W2"), et.Void("void", "s1", at(10), "sale"),
		et.Drawer("drw", "s1", at(11), 5000),
	}
	out := b.commit(t, evs...)
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
		if out[i].Status != "accepted" || out[i].Quarantined {
			t.Errorf("%s: %+v", e.ID, out[i])
		}
	}
	logged, err := b.st.EventsByID(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		st := logged[e.ID]
		if st == nil {
			t.Fatalf("%s not in the log", e.ID)
		}
		skus, codes := skuLines(st.Event)
		for i := range skus {
			if skus[i] != "JKT-BLK-M" || codes[i] != "JKT-M-BLK" {
				t.Errorf("%s (%s) line %d: sku %q code %q, want JKT-BLK-M from JKT-M-BLK", e.ID, e.Type, i, skus[i], codes[i])
			}
		}
		if n := len(skus); (n == 0) != (e.Type == event.TypeOrderCancel || e.Type == event.TypeVoid || e.Type == event.TypeDrawerCount) {
			t.Errorf("%s: %d lines", e.ID, n)
		}
	}
}
