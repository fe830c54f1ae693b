package rebalance

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// SimOptions shape the simulated chain of `tillsync bench rebalance`.
type SimOptions struct {
	Stores, SKUs, Weeks int
	// HistoryDays of sales precede the simulation (the models' and the
	// rules' training data).
	HistoryDays int
	Seed        uint64
	// Settings of the predictive planner (ReviewDays, …).
	Settings Settings
}

// DefaultSimOptions is the chain: 20 stores × 500 SKUs × 8 weeks.
var DefaultSimOptions = SimOptions{Stores: 20, SKUs: 500, Weeks: 8, HistoryDays: 28, Seed: 1, Settings: DefaultSettings}

// StrategyResult is one strategy's outcome over the same demand.
type StrategyResult struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Demand       int64  `json:"demand_units"`
	Sold         int64  `json:"sold_units"`
	LostUnits    int64  `json:"lost_sales_units"`
	Stockouts    int64  `json:"stockout_events"`
	Transfers    int64  `json:"transfers"`
	UnitsMoved   int64  `json:"units_moved"`
	TransferCost int64  `json:"transfer_cost_minor"`
	// LostValue is lost sales × margin, in minor units.
	LostValue int64   `json:"lost_sales_value_minor"`
	Seconds   float64 `json:"seconds"`
}

// SimReport is the outcome of the three strategies on one chain.
type SimReport struct {
	Stores     int              `json:"stores"`
	SKUs       int              `json:"skus"`
	Days       int              `json:"days"`
	Currency   string           `json:"currency"`
	Strategies []StrategyResult `json:"strategies"`
	// ForecastWAPE is the demand model's one-day-ahead error, and
	// SeasonalNaiveWAPE that of "same weekday last week", on the same
	// store-days (those not cut short by a stockout).
	ForecastWAPE      float64 `json:"forecast_wape"`
	SeasonalNaiveWAPE float64 `json:"seasonal_naive_wape"`
	// LostSalesReduction is 1 − predictive lost units ÷ min/max lost units;
	// UnitsMovedRatio predictive units moved ÷ min/max units moved.
	LostSalesReduction float64 `json:"lost_sales_reduction_vs_minmax"`
	UnitsMovedRatio    float64 `json:"units_moved_ratio_vs_minmax"`
	MeetsLostSales     bool    `json:"target_lost_sales_met"`
	MeetsUnitsMoved    bool    `json:"target_units_moved_met"`
	MeetsWAPE          bool    `json:"target_wape_met"`
}

// Strategy names.
const (
	StrategyNone       = "none"
	StrategyMinMax     = "minmax"
	StrategyPredictive = "predictive"
)

var strategyText = map[string]string{
	StrategyNone:       "no transfers: stores live on the weekly supplier delivery only",
	StrategyMinMax:     "classic min/max rules reviewed daily: a store whose on hand + in transit falls below min = avg daily sales (last 28 days) × (lead + 2 days) asks for stock up to max = avg × (lead + 7 days); donors give what they hold above their own max, cheapest lane first, in whole packs, never below display minimum",
	StrategyPredictive: "tillsync predictive transfers reviewed daily: per SKU, forecast (weekday seasonality, promotion calendar, stockout masking) → negative-binomial demand over lead time + review → min-cost flow of packs from excess to risk, minimising margin × expected lost sales + transfer cost",
}

// chain is the generated world: identical for every strategy.
type chain struct {
	o        SimOptions
	days     int
	net      *Network
	lead     [][]int // whole days
	cost     [][]int64
	demand   [][][]int32 // [sku][store][history+day]
	promo    [][][]bool  // [sku][store][history+day]
	pack     []int64
	margin   []int64
	display  []int64
	delivery [][]int64 // [sku][store] weekly supplier quantity
	initial  [][]int64
	deliverD []int // store's delivery weekday offset
	weekday0 time.Weekday
}

func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func poissonDraw(r *rand.Rand, mu float64) int32 {
	if mu <= 0 {
		return 0
	}
	if mu > 40 {
		return int32(math.Max(0, math.Round(mu+math.Sqrt(mu)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-mu), int32(0), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func newChain(o SimOptions) (*chain, error) {
	r := rand.New(rand.NewPCG(o.Seed, 0x7111)) //nolint:gosec // G404: a simulated chain, not secrets
	c := &chain{o: o, days: o.Weeks * 7, weekday0: time.Monday}
	locs := make([]string, o.Stores)
	for i := range locs {
		locs[i] = fmt.Sprintf("store-%03d", i+1)
	}
	net, err := NewNetwork(locs, Lane{LeadDays: 2, CostPerUnit: 80})
	if err != nil {
		return nil, err
	}
	// Regions of four stores: next-day transfers within a region, two or
	// three days between regions.
	c.lead = make([][]int, o.Stores)
	c.cost = make([][]int64, o.Stores)
	for i := range o.Stores {
		c.lead[i] = make([]int, o.Stores)
		c.cost[i] = make([]int64, o.Stores)
		for j := range o.Stores {
			if i == j {
				continue
			}
			ri, rj := i/4, j/4
			lane := Lane{LeadDays: 1, CostPerUnit: 40}
			if ri != rj {
				d := ri - rj
				if d < 0 {
					d = -d
				}
				lane = Lane{LeadDays: float64(2 + min(d, 3)/2), CostPerUnit: int64(80 + 20*min(d, 3))}
			}
			if err := net.SetLane(locs[i], locs[j], lane); err != nil {
				return nil, err
			}
			c.lead[i][j], c.cost[i][j] = int(lane.LeadDays), lane.CostPerUnit
		}
	}
	c.net = net
	total := o.HistoryDays + c.days
	storeShape := make([][7]float64, o.Stores)
	for s := range storeShape {
		var sum float64
		for d := range 7 {
			storeShape[s][d] = weekShapeMon[d] * (0.9 + 0.2*r.Float64())
			sum += storeShape[s][d]
		}
		for d := range 7 {
			storeShape[s][d] *= 7 / sum
		}
	}
	c.deliverD = make([]int, o.Stores)
	for s := range c.deliverD {
		c.deliverD[s] = s % 7
	}
	c.pack, c.margin, c.display = make([]int64, o.SKUs), make([]int64, o.SKUs), make([]int64, o.SKUs)
	c.demand, c.promo = make([][][]int32, o.SKUs), make([][][]bool, o.SKUs)
	c.delivery, c.initial = make([][]int64, o.SKUs), make([][]int64, o.SKUs)
	for k := range o.SKUs {
		switch x := r.Float64(); {
		case x < 0.6:
			c.pack[k] = 1
		case x < 0.8:
			c.pack[k] = 2
		default:
			c.pack[k] = 6
		}
		c.margin[k] = int64(math.Round(math.Min(6000, lognormal(r, 700, 0.6))))
		c.display[k] = 1 + int64(r.IntN(2))
		skuRate := lognormal(r, 1.0, 0.8)
		c.demand[k], c.promo[k] = make([][]int32, o.Stores), make([][]bool, o.Stores)
		c.delivery[k], c.initial[k] = make([]int64, o.Stores), make([]int64, o.Stores)
		for s := range o.Stores {
			rate := math.Min(40, math.Max(0.05, skuRate*lognormal(r, 1, 0.5)))
			dem := make([]int32, total)
			pr := make([]bool, total)
			// A promotion of 3–5 days at a quarter of stores, one in the
			// history at a tenth; lifts 1.8–3×.
			mark := func(from, to int) {
				for d := max(from, 0); d < min(to, total); d++ {
					pr[d] = true
				}
			}
			if r.Float64() < 0.25 {
				st := o.HistoryDays + r.IntN(c.days-5)
				mark(st, st+3+r.IntN(3))
			}
			if r.Float64() < 0.1 {
				st := r.IntN(o.HistoryDays - 5)
				mark(st, st+3+r.IntN(3))
			}
			lift := 1.8 + 1.2*r.Float64()
			// A demand shock at a fifth of store-SKUs: a lasting shift.
			shockAt, shock := total, 1.0
			if r.Float64() < 0.2 {
				shockAt = o.HistoryDays + 7 + r.IntN(max(c.days-14, 1))
				shock = []float64{0.3, 0.5, 1.8, 2.5}[r.IntN(4)]
			}
			for d := range total {
				mu := rate * storeShape[s][(d)%7]
				if pr[d] {
					mu *= lift
				}
				if d >= shockAt {
					mu *= shock
				}
				// Day-to-day noise beyond Poisson: over-dispersed demand.
				mu *= math.Exp(0.3*r.NormFloat64() - 0.045)
				dem[d] = poissonDraw(r, mu)
			}
			c.demand[k][s], c.promo[k][s] = dem, pr
			// The pre-season allocation: a week of the planned rate per
			// weekly delivery, ten days to start.
			p := c.pack[k]
			c.delivery[k][s] = int64(math.Round(rate*7/float64(p))) * p
			c.initial[k][s] = int64(math.Round(rate*10/float64(p)))*p + c.display[k]
		}
	}
	return c, nil
}

// weekShapeMon is a retail week, Monday first.
var weekShapeMon = [7]float64{0.8, 0.85, 0.9, 1.1, 1.5, 1.15, 0.7}

type transit struct {
	sku, to int
	qty     int64
	arrive  int
}

// simState is one strategy's world.
type simState struct {
	c       *chain
	onHand  [][]int64 // [sku][store]
	inTrans [][]int64
	moving  []transit
	res     StrategyResult
	sold    [][][]int32 // [sku][store][history+day] observed sales
}

func (c *chain) newState(name string) *simState {
	st := &simState{c: c, res: StrategyResult{Name: name, Description: strategyText[name]}}
	st.onHand, st.inTrans, st.sold = make([][]int64, c.o.SKUs), make([][]int64, c.o.SKUs), make([][][]int32, c.o.SKUs)
	for k := range c.o.SKUs {
		st.onHand[k] = append([]int64(nil), c.initial[k]...)
		st.inTrans[k] = make([]int64, c.o.Stores)
		st.sold[k] = make([][]int32, c.o.Stores)
		for s := range c.o.Stores {
			sold := make([]int32, c.o.HistoryDays+c.days)
			copy(sold, c.demand[k][s][:c.o.HistoryDays]) // history is uncensored
			st.sold[k][s] = sold
		}
	}
	return st
}

func (st *simState) send(k, from, to int, qty int64, day int) {
	c := st.c
	st.onHand[k][from] -= qty
	st.inTrans[k][to] += qty
	st.moving = append(st.moving, transit{sku: k, to: to, qty: qty, arrive: day + c.lead[from][to]})
	st.res.Transfers++
	st.res.UnitsMoved += qty
	st.res.TransferCost += qty * c.cost[from][to]
}

// morning receives supplier deliveries and arriving transfers.
func (st *simState) morning(day int) {
	c := st.c
	keep := st.moving[:0]
	for _, t := range st.moving {
		if t.arrive <= day {
			st.onHand[t.sku][t.to] += t.qty
			st.inTrans[t.sku][t.to] -= t.qty
			continue
		}
		keep = append(keep, t)
	}
	st.moving = keep
	for s := range c.o.Stores {
		if day%7 == c.deliverD[s] {
			for k := range c.o.SKUs {
				st.onHand[k][s] += c.delivery[k][s]
			}
		}
	}
}

// trade sells the day's demand; it reports stockout days per [sku][store].
func (st *simState) trade(day int, out [][]bool) {
	c := st.c
	h := c.o.HistoryDays + day
	for k := range c.o.SKUs {
		for s := range c.o.Stores {
			d := int64(c.demand[k][s][h])
			sold := min(d, st.onHand[k][s])
			st.onHand[k][s] -= sold
			st.sold[k][s][h] = int32(sold) //nolint:gosec // G115: daily units fit
			st.res.Demand += d
			st.res.Sold += sold
			lost := d - sold
			if lost > 0 {
				st.res.LostUnits += lost
				st.res.Stockouts++
				st.res.LostValue += lost * c.margin[k]
			}
			if out != nil {
				out[k][s] = st.onHand[k][s] == 0
			}
		}
	}
}

// minMax applies the reorder rules at the end of a day.
func (st *simState) minMax(day int) {
	c := st.c
	h := c.o.HistoryDays + day
	type need struct {
		store int
		qty   int64
	}
	for k := range c.o.SKUs {
		p := c.pack[k]
		var needs []need
		excess := make([]int64, c.o.Stores)
		for s := range c.o.Stores {
			var sum int64
			for d := h - 27; d <= h; d++ {
				sum += int64(st.sold[k][s][d])
			}
			avg := float64(sum) / 28
			lead := 1.0
			minQ := int64(math.Ceil(avg*(lead+2))) + c.display[k]
			maxQ := int64(math.Ceil(avg*(lead+7))) + c.display[k]
			pos := st.onHand[k][s] + st.inTrans[k][s]
			if pos < minQ {
				q := maxQ - pos
				needs = append(needs, need{s, (q + p - 1) / p * p})
			} else if ex := st.onHand[k][s] - max(maxQ, c.display[k]); ex >= p {
				excess[s] = ex / p * p
			}
		}
		sort.Slice(needs, func(a, b int) bool { return needs[a].qty > needs[b].qty })
		for _, n := range needs {
			// Donors by cheapest lane, then most excess.
			donors := make([]int, 0, c.o.Stores)
			for s := range c.o.Stores {
				if excess[s] > 0 && s != n.store {
					donors = append(donors, s)
				}
			}
			sort.Slice(donors, func(a, b int) bool {
				da, db := donors[a], donors[b]
				if c.cost[da][n.store] != c.cost[db][n.store] {
					return c.cost[da][n.store] < c.cost[db][n.store]
				}
				return excess[da] > excess[db]
			})
			want := n.qty
			for _, d := range donors {
				if want <= 0 {
					break
				}
				q := min(want, excess[d])
				q = q / p * p
				if q <= 0 {
					continue
				}
				excess[d] -= q
				want -= q
				st.send(k, d, n.store, q, day)
			}
		}
	}
}

// predictor holds the predictive strategy's demand models.
type predictor struct {
	models [][]*Model // [sku][store]
	// One-day-ahead forecasts and seasonal-naive forecasts, summed
	// absolute errors and actuals on uncensored days.
	errModel, errNaive, actual float64
}

func (c *chain) newPredictor(st *simState) *predictor {
	pr := &predictor{models: make([][]*Model, c.o.SKUs)}
	// Each store's weekday profile over all SKUs: the prior that slow
	// sellers' own weekday factors lean on.
	priors := make([][7]float64, c.o.Stores)
	for s := range c.o.Stores {
		var by [7]float64
		var tot float64
		for k := range c.o.SKUs {
			for d := range c.o.HistoryDays {
				if !c.promo[k][s][d] {
					by[c.weekday(d-c.o.HistoryDays)] += float64(st.sold[k][s][d])
					tot += float64(st.sold[k][s][d])
				}
			}
		}
		for w := range by {
			if tot > 0 {
				priors[s][w] = by[w] * 7 / tot
			}
		}
	}
	for k := range c.o.SKUs {
		pr.models[k] = make([]*Model, c.o.Stores)
		for s := range c.o.Stores {
			m := NewModelWithPrior(DefaultParams, &priors[s])
			for d := range c.o.HistoryDays {
				m.Observe(Day{Weekday: c.weekday(d - c.o.HistoryDays), Units: float64(st.sold[k][s][d]), Promo: c.promo[k][s][d]})
			}
			pr.models[k][s] = m
		}
	}
	return pr
}

func (c *chain) weekday(day int) time.Weekday {
	return time.Weekday(((int(c.weekday0)+day)%7 + 7) % 7)
}

// score records the one-day-ahead errors for the day just traded, then
// lets the models learn it.
func (pr *predictor) learn(c *chain, st *simState, day int, stockout [][]bool) {
	h := c.o.HistoryDays + day
	wd := c.weekday(day)
	for k := range c.o.SKUs {
		for s := range c.o.Stores {
			m := pr.models[k][s]
			a := float64(st.sold[k][s][h])
			if !stockout[k][s] {
				f := m.Predict(wd, c.promo[k][s][h])
				naive := float64(st.sold[k][s][h-7])
				pr.errModel += math.Abs(f - a)
				pr.errNaive += math.Abs(naive - a)
				pr.actual += a
			}
			m.Observe(Day{Weekday: wd, Units: a, Promo: c.promo[k][s][h], Stockout: stockout[k][s]})
		}
	}
}

// plan proposes and sends the day's predictive transfers.
func (pr *predictor) plan(ctx context.Context, c *chain, st *simState, day int, set Settings) error {
	horizon := 10
	asOf := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day+1)
	props, _, err := PlanChain(ctx, c.net, set, asOf, c.o.SKUs, func(k int, in *SKUInput) error {
		in.SKU, in.PackSize, in.Margin = fmt.Sprint(k), c.pack[k], c.margin[k]
		for s := range c.o.Stores {
			m := pr.models[k][s]
			daily := make([]float64, horizon)
			for d := range horizon {
				h := c.o.HistoryDays + day + 1 + d
				promo := h < len(c.promo[k][s]) && c.promo[k][s][h]
				daily[d] = m.Predict(c.weekday(day+1+d), promo)
			}
			// The next supplier delivery is on the schedule: it arrives
			// the morning of the store's delivery weekday.
			next := day + 1
			for next%7 != c.deliverD[s] {
				next++
			}
			exp := []Receipt{{Day: float64(next - day - 1), Qty: c.delivery[k][s]}}
			in.Sites = append(in.Sites, Site{Loc: s, OnHand: st.onHand[k][s], InTransit: st.inTrans[k][s],
				MinDisplay: c.display[k], Daily: daily, Phi: m.Phi, Expected: exp})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range props {
		var k int
		_, _ = fmt.Sscan(p.SKU, &k)
		from, _ := c.net.Index(p.From)
		to, _ := c.net.Index(p.To)
		st.send(k, from, to, int64(p.Quantity)/1000, day)
	}
	return nil
}

// Simulate runs the chain under the three strategies on the same demand.
func Simulate(ctx context.Context, o SimOptions) (*SimReport, error) {
	if o.Stores < 2 || o.SKUs < 1 || o.Weeks < 2 || o.HistoryDays < 28 {
		return nil, fmt.Errorf("rebalance: simulation needs ≥ 2 stores, ≥ 1 SKU, ≥ 2 weeks and ≥ 28 days of history (got %d, %d, %d, %d)",
			o.Stores, o.SKUs, o.Weeks, o.HistoryDays)
	}
	c, err := newChain(o)
	if err != nil {
		return nil, err
	}
	rep := &SimReport{Stores: o.Stores, SKUs: o.SKUs, Days: c.days, Currency: o.Settings.Currency}
	var pred *predictor
	for _, name := range []string{StrategyNone, StrategyMinMax, StrategyPredictive} {
		start := time.Now()
		st := c.newState(name)
		var stockout [][]bool
		if name == StrategyPredictive {
			pred = c.newPredictor(st)
			stockout = make([][]bool, o.SKUs)
			for k := range stockout {
				stockout[k] = make([]bool, o.Stores)
			}
		}
		for day := range c.days {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			st.morning(day)
			st.trade(day, stockout)
			switch name {
			case StrategyMinMax:
				st.minMax(day)
			case StrategyPredictive:
				pred.learn(c, st, day, stockout)
				if err := pred.plan(ctx, c, st, day, o.Settings); err != nil {
					return nil, err
				}
			}
		}
		st.res.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
		rep.Strategies = append(rep.Strategies, st.res)
	}
	if pred.actual > 0 {
		rep.ForecastWAPE = round3(pred.errModel / pred.actual)
		rep.SeasonalNaiveWAPE = round3(pred.errNaive / pred.actual)
	}
	mm, pv := rep.Strategies[1], rep.Strategies[2]
	if mm.LostUnits > 0 {
		rep.LostSalesReduction = round3(1 - float64(pv.LostUnits)/float64(mm.LostUnits))
	}
	if mm.UnitsMoved > 0 {
		rep.UnitsMovedRatio = round3(float64(pv.UnitsMoved) / float64(mm.UnitsMoved))
	}
	rep.MeetsLostSales = rep.LostSalesReduction >= 0.30
	rep.MeetsUnitsMoved = pv.UnitsMoved <= mm.UnitsMoved
	rep.MeetsWAPE = rep.ForecastWAPE < rep.SeasonalNaiveWAPE
	return rep, nil
}
