package rebalance

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// PlanTiming is the outcome of planning a large synthetic chain.
type PlanTiming struct {
	Stores    int     `json:"stores"`
	SKUs      int     `json:"skus"`
	Sites     int64   `json:"sites"`
	Proposals int     `json:"proposals"`
	Units     int64   `json:"units"`
	Seconds   float64 `json:"seconds"`
	// CPUSeconds is the process CPU time the plan took: with other work
	// on the machine, wall time can exceed it ÷ Workers.
	CPUSeconds float64 `json:"cpu_seconds"`
	// GenerateSeconds is the part of Seconds spent making the inputs
	// (forecasts and positions), measured on a separate pass.
	GenerateSeconds float64 `json:"generate_seconds"`
	Workers         int     `json:"workers"`
	TargetSeconds   float64 `json:"target_seconds"`
	Met             bool    `json:"target_met"`
}

// PlanLargeChain times one plan of a synthetic chain of stores × SKUs:
// regions of twenty stores with next-day lanes inside a region and two to
// four days between regions; per store and SKU a seasonal daily forecast
// and a position drawn so that most are healthy, some run short and some
// hold excess. The inputs are made on the fly inside the timed plan, as a
// hub streams them from its forecast store; a second pass times making
// them alone.
func PlanLargeChain(ctx context.Context, stores, skus int, set Settings, seed uint64) (*PlanTiming, error) {
	locs := make([]string, stores)
	for i := range locs {
		locs[i] = fmt.Sprintf("S%04d", i+1)
	}
	net, err := NewNetwork(locs, Lane{LeadDays: 3, CostPerUnit: 150})
	if err != nil {
		return nil, err
	}
	for i := range stores {
		for j := range stores {
			if i == j {
				continue
			}
			ri, rj := i/20, j/20
			lane := Lane{LeadDays: 1, CostPerUnit: 40 + int64((i+j)%7)}
			if ri != rj {
				d := ri - rj
				if d < 0 {
					d = -d
				}
				lane = Lane{LeadDays: float64(2 + min(d, 8)/4), CostPerUnit: int64(80 + 10*min(d, 10))}
			}
			net.lanes[i][j] = lane
		}
	}
	const days = 10
	fill := func(k int, in *SKUInput, daily []float64) {
		r := rand.New(rand.NewPCG(seed, uint64(k)+1)) //nolint:gosec // G115, G404: k ≥ 0; synthetic data
		in.SKU = fmt.Sprintf("SKU%06d", k)
		in.PackSize = []int64{1, 1, 1, 2, 6}[r.IntN(5)]
		in.Margin = 300 + int64(r.IntN(1500))
		skuRate := math.Exp(r.NormFloat64() * 0.9)
		for s := range stores {
			rate := skuRate * math.Exp(0.5*r.NormFloat64())
			d := daily[s*days : (s+1)*days]
			for t := range d {
				d[t] = rate * weekShapeMon[t%7]
			}
			// Cover in days: mostly 7–20, one in fifty short, a tenth long.
			cover := 7 + 13*r.Float64()
			switch x := r.Float64(); {
			case x < 0.02:
				cover = 2 * r.Float64()
			case x > 0.9:
				cover = 20 + 20*r.Float64()
			}
			on := int64(math.Round(rate * cover))
			var transit int64
			if r.Float64() < 0.05 {
				transit = int64(math.Round(rate * 3))
			}
			in.Sites = append(in.Sites, Site{Loc: s, OnHand: on, InTransit: transit, MinDisplay: 1, Daily: d, Phi: 1.2})
		}
	}
	asOf := time.Now().UTC()
	start, cpu0 := time.Now(), processCPU()
	props, st, err := PlanChain(ctx, net, set, asOf, skus, func(k int, in *SKUInput) error {
		if len(in.buf) != stores*days {
			in.buf = make([]float64, stores*days)
		}
		fill(k, in, in.buf)
		return nil
	})
	if err != nil {
		return nil, err
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	// The inputs alone.
	gstart := time.Now()
	var in SKUInput
	b := make([]float64, stores*days)
	for k := range skus {
		in = SKUInput{Sites: in.Sites[:0]}
		fill(k, &in, b)
	}
	workers := set.Workers
	if workers <= 0 {
		workers = maxProcs()
	}
	t := &PlanTiming{Stores: stores, SKUs: skus, Sites: st.Sites, Proposals: len(props),
		Units: int64(st.Units) / 1000, Seconds: round3(elapsed.Seconds()), CPUSeconds: round3(cpu.Seconds()),
		GenerateSeconds: round3(time.Since(gstart).Seconds() / float64(workers)), Workers: workers, TargetSeconds: 30}
	t.Met = t.Seconds <= t.TargetSeconds
	return t, nil
}
