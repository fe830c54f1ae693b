package rebalance

import (
	"context"
	"testing"
)

func TestSimulateSmallChain(t *testing.T) {
	t.Parallel()
	o := DefaultSimOptions
	o.Stores, o.SKUs, o.Weeks = 8, 40, 4
	rep, err := Simulate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	none, mm, pv := rep.Strategies[0], rep.Strategies[1], rep.Strategies[2]
	t.Logf("%+v", rep)
	if none.Demand != mm.Demand || mm.Demand != pv.Demand {
		t.Fatalf("strategies saw different demand: %d %d %d", none.Demand, mm.Demand, pv.Demand)
	}
	if none.Transfers != 0 || mm.Transfers == 0 || pv.Transfers == 0 {
		t.Errorf("transfers: none %d, minmax %d, predictive %d", none.Transfers, mm.Transfers, pv.Transfers)
	}
	if pv.LostUnits >= none.LostUnits {
		t.Errorf("predictive transfers lost %d units, no transfers %d", pv.LostUnits, none.LostUnits)
	}
	// The shortest chain the command accepts runs too.
	o.Weeks, o.SKUs = 2, 5
	if _, err := Simulate(context.Background(), o); err != nil {
		t.Errorf("two weeks: %v", err)
	}
	if !rep.MeetsWAPE {
		t.Errorf("forecast WAPE %.3f not better than seasonal naive %.3f", rep.ForecastWAPE, rep.SeasonalNaiveWAPE)
	}
}
