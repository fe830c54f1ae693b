package rebalance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

// hubWithSales is a real SQLite hub store where BER sells 6 a day of
// SKU-1 and has 3 left, HAM sells 1 a day and holds 80.
func hubWithSales(t *testing.T) (*store.Store, time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	evs := []*event.Event{
		et.Receive("rcv-ber", "BER", start.Add(time.Hour), et.L("SKU-1", 6*35+3)),
		et.Receive("rcv-ham", "HAM", start.Add(time.Hour), et.L("SKU-1", 35+80)),
	}
	for d := range 35 {
		day := start.AddDate(0, 0, d)
		for i := range 6 {
			evs = append(evs, et.Sale(idf("ber", d, i), "BER", day.Add(time.Duration(9+i)*time.Hour), et.L("SKU-1", 1)))
		}
		evs = append(evs, et.Sale(idf("ham", d, 0), "HAM", day.Add(12*time.Hour), et.L("SKU-1", 1)))
	}
	if _, err := st.Append(ctx, evs, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st, start.AddDate(0, 0, 35).Add(6 * time.Hour)
}

func idf(loc string, d, i int) string {
	return fmt.Sprintf("%s-%02d-%d", loc, d, i)
}

func TestPlanStoreFromLogAndLedger(t *testing.T) {
	t.Parallel()
	st, asOf := hubWithSales(t)
	cfg := DefaultConfig()
	cfg.HistoryDays = 28
	cfg.Margin = 900
	cfg.DefaultLane = LaneConfig{LeadDays: 1, CostPerUnit: 60}
	res, err := PlanStore(context.Background(), st, cfg, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Proposals) != 1 {
		t.Fatalf("proposals %+v, want one HAM → BER", res.Proposals)
	}
	p := res.Proposals[0]
	if p.From != "HAM" || p.To != "BER" || p.Quantity < event.Units(10) {
		t.Errorf("proposal %s → %s %s", p.From, p.To, p.Quantity)
	}
	if p.Destination.OnHand != event.Units(3) || p.Source.OnHand != event.Units(80) {
		t.Errorf("positions from the ledger: BER %s, HAM %s", p.Destination.OnHand, p.Source.OnHand)
	}
	if f := p.Destination.ForecastPerDay; f < 5 || f > 7 {
		t.Errorf("BER forecast %.2f a day, want about 6", f)
	}
	if p.Destination.CoverDays > 1 || p.Destination.StockoutProbability < 0.9 {
		t.Errorf("BER cover %.2f days, risk %.3f", p.Destination.CoverDays, p.Destination.StockoutProbability)
	}
}

func TestPlanInputFile(t *testing.T) {
	t.Parallel()
	in := Input{
		AsOf:  time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC),
		Zones: map[string]string{"A": "Europe/Berlin", "B": "Europe/Berlin"},
		Positions: []PositionInput{
			{SKU: "X", Location: "A", OnHand: event.Units(1)},
			{SKU: "X", Location: "B", OnHand: event.Units(60)},
		},
	}
	for d := range 28 {
		date := in.AsOf.AddDate(0, 0, -28+d).Format(time.DateOnly)
		in.History = append(in.History,
			Observation{SKU: "X", Location: "A", Date: date, Units: event.Units(4)},
			Observation{SKU: "X", Location: "B", Date: date, Units: event.Units(1)})
	}
	b, _ := json.Marshal(in)
	res, err := PlanInput(context.Background(), strings.NewReader(string(b)), "test.json", time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Proposals) != 1 || res.Proposals[0].From != "B" || res.Proposals[0].To != "A" {
		t.Fatalf("proposals %+v", res.Proposals)
	}
	// Bad input names the field.
	_, err = PlanInput(context.Background(), strings.NewReader(`{"history":[{"sku":"X","location":"A","date":"2.11.2026","units":1}]}`), "bad.json", time.Now(), false)
	if err == nil || !strings.Contains(err.Error(), "history[0].date") {
		t.Errorf("error %v, want it to name history[0].date", err)
	}
}
