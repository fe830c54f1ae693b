package closing_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/reconcile/shrinkage"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// Six stores, one cashier each, 40 card sales over three days; every
// cashier voids one sale, the cashier at s5 twelve.
func TestScorePeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, storetest.Engines()[0])
	var evs []*event.Event
	var stores []closing.Store
	for s := range 6 {
		store := fmt.Sprintf("s%d", s)
		stores = append(stores, closing.Store{ID: store, Zone: zone})
		voids := 1
		if s == 5 {
			voids = 12
		}
		for i := range 40 {
			at := local(23+i/14, 9, 0).Add(time.Duration(i%14) * 30 * time.Minute)
			id := fmt.Sprintf("%s-sale-%d", store, i)
			evs = append(evs, ev(id, store, at, &event.Sale{Register: "r1", Cashier: "c-" + store, Currency: "EUR",
				Lines: []event.SaleLine{line("X", 1000)}, Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 1000}}}))
			if i < voids {
				evs = append(evs, ev(id+"-void", store, at.Add(time.Minute), &event.Void{VoidedEventID: id}))
			}
		}
	}
	if _, err := st.Append(ctx, evs, time.Now()); err != nil {
		t.Fatal(err)
	}
	inbox := exception.NewMemory()
	c := &closing.Closer{Store: st, Stores: stores, Inbox: inbox}
	res, err := c.Score(ctx, "2026-11-23", "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	var cashiers []string
	for _, a := range res.Anomalies {
		if a.Subject.Level == shrinkage.Cashier {
			cashiers = append(cashiers, a.Subject.ID)
			if a.Flagged[0].Metric != shrinkage.VoidRate || a.Flagged[0].Events != 12 || a.Flagged[0].Value != 12.0/40 {
				t.Errorf("flagged = %+v, want void rate 12/40", a.Flagged)
			}
		}
	}
	if len(cashiers) != 1 || cashiers[0] != "c-s5" {
		t.Fatalf("anomalous cashiers = %v, want c-s5 only", cashiers)
	}
	found := false
	for _, x := range inbox.Open() {
		found = found || x.Key == "shrinkage_anomaly:cashier:s5:c-s5:2026-11-23..2026-11-25"
	}
	if !found {
		t.Errorf("no exception raised: %+v", inbox.Open())
	}
	for _, bad := range [][2]string{{"2026-11-25", "2026-11-23"}, {"2026-01-01", "2026-12-31"}, {"23.11.2026", "2026-11-25"}} {
		if _, err := c.Score(ctx, bad[0], bad[1]); err == nil || !strings.Contains(err.Error(), "shrinkage:") {
			t.Errorf("Score(%s, %s): err = %v", bad[0], bad[1], err)
		}
	}
}
