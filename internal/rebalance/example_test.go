package rebalance_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/rebalance"
)

// Two stores a day apart: Berlin sells six a day and has three left,
// Hamburg sells one a day and holds forty.
func ExamplePlan() {
	net, _ := rebalance.NewNetwork([]string{"BER", "HAM"}, rebalance.Lane{LeadDays: 1, CostPerUnit: 60})
	daily := func(rate float64) []float64 {
		d := make([]float64, 14)
		for i := range d {
			d[i] = rate
		}
		return d
	}
	sku := rebalance.SKUInput{SKU: "MUG-01", PackSize: 2, Margin: 900, Sites: []rebalance.Site{
		{Loc: 0, OnHand: 3, MinDisplay: 1, Daily: daily(6), Phi: 1.2},
		{Loc: 1, OnHand: 40, MinDisplay: 1, Daily: daily(1), Phi: 1.2},
	}}
	asOf := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	props, _, _ := rebalance.Plan(context.Background(), net, rebalance.DefaultSettings, asOf, []rebalance.SKUInput{sku})
	for _, p := range props {
		fmt.Printf("%s: %s × %s %s → %s, cost %s, stockout risk at %s %.0f%% → %.0f%%\n",
			p.ID, p.Quantity, p.SKU, p.From, p.To, p.TransferCost, p.To,
			100*p.Destination.StockoutProbability, 100*p.Destination.StockoutProbabilityAfter)
	}
	// Output: rb-e14055fa0ff3b3d66a41: 24 × MUG-01 HAM → BER, cost 14.40 EUR, stockout risk at BER 100% → 9%
}
