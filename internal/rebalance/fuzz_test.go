package rebalance

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzPlanInput: whatever the offline input file holds, planning either
// fails with an error or returns proposals that respect their own
// positions — it never panics.
func FuzzPlanInput(f *testing.F) {
	if b, err := os.ReadFile("../../examples/rebalance/positions.json"); err == nil {
		f.Add(string(b))
	}
	f.Add(`{"positions":[{"sku":"X","location":"A","on_hand":5},{"sku":"X","location":"B","on_hand":0}],"history":[{"sku":"X","location":"B","date":"2026-11-01","units":3}]}`)
	f.Add(`{"config":{"currency":"EUR","review_days":-1,"history_days":3,"pack_size":0}}`)
	f.Add(`{"history":[{"sku":"X","location":"A","date":"2026-11-01","units":"1e9"}]}`)
	asOf := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1<<16 {
			return
		}
		res, err := PlanInput(context.Background(), strings.NewReader(in), "fuzz.json", asOf, true)
		if err != nil {
			return
		}
		for _, p := range res.Proposals {
			if p.Quantity <= 0 || p.From == p.To || p.Source.OnHand-p.Source.Reserved-p.Source.MinDisplay < p.Quantity {
				t.Fatalf("proposal %+v gives more than the source may", p)
			}
		}
	})
}
