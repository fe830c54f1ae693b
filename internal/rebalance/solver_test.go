package rebalance

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// randomNode makes a node with convex (non-decreasing marginal) costs.
func randomNode(r *rand.Rand) Node {
	outs := make([]float64, 4)
	ins := make([]float64, 4)
	for i := range outs {
		outs[i] = r.Float64() * 10
		ins[i] = -r.Float64() * 12
	}
	sort.Float64s(outs)
	sort.Float64s(ins)
	return Node{
		MaxOut: r.IntN(4), MaxIn: r.IntN(4),
		Out: func(k int) float64 { return outs[k-1] },
		In:  func(k int) float64 { return ins[k-1] },
	}
}

// objective is the cost of a flow: each node's cost of what leaves and
// what arrives, plus each arc's cost; +Inf if a capacity is broken.
func objective(nodes []Node, arcs []Arc, x []int) float64 {
	out := make([]int, len(nodes))
	in := make([]int, len(nodes))
	var c float64
	for i, a := range arcs {
		out[a.From] += x[i]
		in[a.To] += x[i]
		c += float64(x[i]) * a.Cost
	}
	for i, n := range nodes {
		if out[i] > n.MaxOut || in[i] > n.MaxIn {
			return math.Inf(1)
		}
		for k := 1; k <= out[i]; k++ {
			c += n.Out(k)
		}
		for k := 1; k <= in[i]; k++ {
			c += n.In(k)
		}
	}
	return c
}

// bruteForce tries every flow with up to 3 packs per arc.
func bruteForce(nodes []Node, arcs []Arc) float64 {
	best := 0.0 // moving nothing
	x := make([]int, len(arcs))
	var rec func(i int)
	rec = func(i int) {
		if i == len(arcs) {
			best = math.Min(best, objective(nodes, arcs, x))
			return
		}
		for v := 0; v <= 3; v++ {
			x[i] = v
			rec(i + 1)
		}
		x[i] = 0
	}
	rec(0)
	return best
}

func TestSolveMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		n := 3 + r.IntN(2)
		nodes := make([]Node, n)
		for i := range nodes {
			nodes[i] = randomNode(r)
		}
		// Costs from points on a line obey the triangle inequality.
		pos := make([]float64, n)
		for i := range pos {
			pos[i] = r.Float64() * 4
		}
		var arcs []Arc
		for i := range n {
			for j := range n {
				if i != j && r.IntN(3) > 0 && len(arcs) < 7 {
					arcs = append(arcs, Arc{From: i, To: j, Cost: math.Abs(pos[i]-pos[j]) + 0.5})
				}
			}
		}
		flows, total := Solve(nodes, arcs)
		want := bruteForce(nodes, arcs)
		x := make([]int, len(arcs))
		for _, f := range flows {
			for i, a := range arcs {
				if a.From == f.From && a.To == f.To {
					x[i] = f.Packs
				}
			}
		}
		got := objective(nodes, arcs, x)
		if math.Abs(got-want) > 1e-9 || math.Abs(total-got) > 1e-9 {
			t.Fatalf("trial %d: solver flow costs %.6f (reported %.6f), brute force finds %.6f; flows %v", trial, got, total, want, flows)
		}
	}
}

func TestSolveNothingWorthMoving(t *testing.T) {
	t.Parallel()
	nodes := []Node{
		{MaxOut: 5, Out: func(int) float64 { return 1 }},
		{MaxIn: 5, In: func(int) float64 { return -1.5 }},
	}
	if flows, _ := Solve(nodes, []Arc{{From: 0, To: 1, Cost: 0.6}}); len(flows) != 0 {
		t.Errorf("moved %v although each pack costs 1.6 and saves 1.5", flows)
	}
	flows, total := Solve(nodes, []Arc{{From: 0, To: 1, Cost: 0.4}})
	if len(flows) != 1 || flows[0].Packs != 5 || math.Abs(total+0.5) > 1e-9 {
		t.Errorf("flows %v total %v, want all 5 packs saving 0.5", flows, total)
	}
}

// chain3 is a small network: A and B close together, C far away.
func chain3(t *testing.T) *Network {
	t.Helper()
	n, err := NewNetwork([]string{"A", "B", "C"}, Lane{LeadDays: 1, CostPerUnit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SetLane("C", "B", Lane{LeadDays: 3, CostPerUnit: 400}); err != nil {
		t.Fatal(err)
	}
	n.NoLane("B", "C")
	return n
}

func flat(rate float64) []float64 {
	const days = 14
	d := make([]float64, days)
	for i := range d {
		d[i] = rate
	}
	return d
}

func TestPlanMovesFromExcessToRisk(t *testing.T) {
	t.Parallel()
	net := chain3(t)
	asOf := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	in := SKUInput{SKU: "SKU-1", PackSize: 2, Margin: 800, Sites: []Site{
		{Loc: 0, OnHand: 60, MinDisplay: 4, Daily: flat(2), Phi: 1.5},               // excess
		{Loc: 1, OnHand: 1, InTransit: 0, MinDisplay: 2, Daily: flat(5), Phi: 1.5},  // at risk
		{Loc: 2, OnHand: 30, Reserved: 18, MinDisplay: 4, Daily: flat(1), Phi: 1.5}, // nothing to give
	}}
	props, st, err := Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{in})
	if err != nil {
		t.Fatal(err)
	}
	if len(props) != 1 {
		t.Fatalf("proposals %+v, want one A → B", props)
	}
	p := props[0]
	if p.From != "A" || p.To != "B" || p.Packs < 5 || int64(p.Quantity)%2000 != 0 {
		t.Errorf("proposal %s → %s %s (%d packs), want A → B in whole packs of 2 covering the week", p.From, p.To, p.Quantity, p.Packs)
	}
	if p.Destination.StockoutProbability < 0.9 || p.Destination.StockoutProbabilityAfter > 0.3 {
		t.Errorf("destination risk %.3f → %.3f", p.Destination.StockoutProbability, p.Destination.StockoutProbabilityAfter)
	}
	if int64(p.TransferCost.Amount) != 50*int64(p.Quantity)/event.QtyScale || p.TransferCost.Currency != "EUR" {
		t.Errorf("cost %+v for %s", p.TransferCost, p.Quantity)
	}
	if p.ExpectedValue.Amount <= 0 || p.ExpectedLostSalesAvoided <= 0 {
		t.Errorf("value %+v, lost sales avoided %v", p.ExpectedValue, p.ExpectedLostSalesAvoided)
	}
	if st.Units != p.Quantity {
		t.Errorf("stats units %s", st.Units)
	}
	// In transit counts: the same store with the stock already on its way
	// needs nothing.
	in.Sites[1].InTransit = 30
	if props, _, _ := Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{in}); len(props) != 0 {
		t.Errorf("with 30 in transit still proposed %+v", props)
	}
	// The source never goes below its display minimum.
	in.Sites[1].InTransit = 0
	in.Sites[0].OnHand = 8
	props, _, _ = Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{in})
	for _, p := range props {
		if p.From == "A" && p.Quantity > event.Units(4) {
			t.Errorf("A with 8 on hand and display minimum 4 gives %s", p.Quantity)
		}
	}
}

func TestSolveGreedyNearExact(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 9))
	var exact, greedy float64
	for range 300 {
		n := 3 + r.IntN(2)
		nodes := make([]Node, n)
		for i := range nodes {
			nodes[i] = randomNode(r)
		}
		var arcs []Arc
		for i := range n {
			for j := range n {
				if i != j {
					arcs = append(arcs, Arc{From: i, To: j, Cost: r.Float64() * 3})
				}
			}
		}
		_, e := Solve(nodes, arcs)
		gf, g := SolveGreedy(nodes, arcs)
		x := make([]int, len(arcs))
		for _, f := range gf {
			for i, a := range arcs {
				if a.From == f.From && a.To == f.To {
					x[i] = f.Packs
				}
			}
		}
		if got := objective(nodes, arcs, x); math.Abs(got-g) > 1e-9 || g > 1e-12 || g < e-1e-9 {
			t.Fatalf("greedy reports %.6f, its flow costs %.6f, exact %.6f", g, got, e)
		}
		exact += e
		greedy += g
	}
	if greedy > 0.9*exact { // costs are negative: greedy must find ≥ 90 % of the saving
		t.Errorf("greedy saves %.2f of the exact %.2f", -greedy, -exact)
	}
}

func TestPlanCountsScheduledReceipts(t *testing.T) {
	t.Parallel()
	net := chain3(t)
	asOf := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	short := SKUInput{SKU: "S", PackSize: 1, Margin: 800, Sites: []Site{
		{Loc: 0, OnHand: 40, Daily: flat(2), Phi: 1.2},
		{Loc: 1, OnHand: 2, Daily: flat(4), Phi: 1.2},
	}}
	props, _, err := Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{short})
	if err != nil || len(props) != 1 {
		t.Fatalf("without a delivery: %+v, %v", props, err)
	}
	// A supplier delivery lands at B before a transfer could: nothing to do.
	short.Sites[1].Expected = []Receipt{{Day: 0.5, Qty: 30}}
	if props, _, _ := Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{short}); len(props) != 0 {
		t.Errorf("with 30 due in half a day: %+v", props)
	}
	// A source restocked tomorrow gives more than one that is not.
	short.Sites[1].Expected = nil
	short.Sites[0].OnHand = 14
	before, _, _ := Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{short})
	short.Sites[0].Expected = []Receipt{{Day: 1, Qty: 20}}
	after, _, _ := Plan(context.Background(), net, DefaultSettings, asOf, []SKUInput{short})
	if qty := func(ps []Proposal) event.Qty {
		var q event.Qty
		for _, p := range ps {
			q += p.Quantity
		}
		return q
	}; qty(after) <= qty(before) {
		t.Errorf("source restocked tomorrow gives %s, otherwise %s", qty(after), qty(before))
	}
}
