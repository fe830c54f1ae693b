package rebalance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Lane is the way from one location to another: how long a transfer takes
// and what it costs per unit moved, in minor units of the plan's currency.
type Lane struct {
	LeadDays    float64
	CostPerUnit int64
}

// Network is the locations and the lanes between them.
type Network struct {
	Locations []string
	index     map[string]int
	lanes     [][]Lane // [from][to]; LeadDays < 0: no lane
	minLead   []float64
	cheapIn   []int64 // the cheapest lane's cost per unit into each location
	// near[j] lists the locations with a lane into j, cheapest first;
	// nearLane[j] their lanes, so the fast path reads them in order.
	near     [][]int32
	nearLane [][]Lane
}

// NewNetwork builds a network in which every pair of locations has the
// default lane; SetLane overrides single lanes, NoLane removes them.
func NewNetwork(locations []string, def Lane) (*Network, error) {
	n := &Network{Locations: locations, index: make(map[string]int, len(locations))}
	for i, l := range locations {
		if l == "" {
			return nil, fmt.Errorf("rebalance: location %d has no ID", i)
		}
		if _, dup := n.index[l]; dup {
			return nil, fmt.Errorf("rebalance: location %q listed twice", l)
		}
		n.index[l] = i
	}
	n.lanes = make([][]Lane, len(locations))
	for i := range n.lanes {
		n.lanes[i] = make([]Lane, len(locations))
		for j := range n.lanes[i] {
			n.lanes[i][j] = def
			if i == j {
				n.lanes[i][j] = Lane{LeadDays: -1}
			}
		}
	}
	return n, nil
}

// Index returns a location's position in Locations.
func (n *Network) Index(loc string) (int, bool) {
	i, ok := n.index[loc]
	return i, ok
}

// SetLane sets the lane from → to.
func (n *Network) SetLane(from, to string, l Lane) error {
	i, ok1 := n.index[from]
	j, ok2 := n.index[to]
	if !ok1 || !ok2 || i == j {
		return fmt.Errorf("rebalance: lane %s → %s: both ends must be different known locations", from, to)
	}
	if l.LeadDays < 0 || l.CostPerUnit < 0 {
		return fmt.Errorf("rebalance: lane %s → %s: lead time and cost must not be negative", from, to)
	}
	n.lanes[i][j] = l
	n.near, n.nearLane = nil, nil
	return nil
}

// NoLane forbids transfers from → to.
func (n *Network) NoLane(from, to string) {
	i, ok1 := n.index[from]
	j, ok2 := n.index[to]
	if ok1 && ok2 {
		n.lanes[i][j] = Lane{LeadDays: -1}
		n.near = nil
	}
}

// Lane returns the lane between two location indexes and whether it exists.
func (n *Network) Lane(i, j int) (Lane, bool) {
	l := n.lanes[i][j]
	return l, l.LeadDays >= 0
}

func (n *Network) prepare() {
	if n.near != nil {
		return
	}
	size := len(n.Locations)
	n.minLead = make([]float64, size)
	n.cheapIn = make([]int64, size)
	n.near = make([][]int32, size)
	n.nearLane = make([][]Lane, size)
	for j := range size {
		n.minLead[j] = math.Inf(1)
		var list []int32
		for i := range size {
			if l, ok := n.Lane(i, j); ok {
				list = append(list, int32(i)) //nolint:gosec // G115: location counts fit int32
				n.minLead[j] = math.Min(n.minLead[j], l.LeadDays)
			}
		}
		sort.SliceStable(list, func(a, b int) bool {
			la, lb := n.lanes[list[a]][j], n.lanes[list[b]][j]
			if la.CostPerUnit != lb.CostPerUnit {
				return la.CostPerUnit < lb.CostPerUnit
			}
			return la.LeadDays < lb.LeadDays
		})
		n.near[j] = list
		n.nearLane[j] = make([]Lane, len(list))
		for k, i := range list {
			n.nearLane[j][k] = n.lanes[i][j]
		}
		if len(list) > 0 {
			n.cheapIn[j] = n.lanes[list[0]][j].CostPerUnit
		}
	}
}

// Settings tune planning.
type Settings struct {
	// ReviewDays is how long until the next plan can act: a transfer must
	// cover the destination from its arrival until then.
	ReviewDays float64
	// SourceDays is the least a source keeps cover for: its own demand
	// until its next replenishment, so stock is not shipped out only to
	// be missed there next week.
	SourceDays float64
	// Currency of lane costs and margins (ISO 4217).
	Currency string
	// ExactUpTo: SKUs with at most this many candidate locations are solved
	// over every lane between them; larger ones keep, for each location at
	// risk, its Nearest cheapest candidate sources.
	ExactUpTo int
	Nearest   int
	// Workers solve SKUs in parallel (0: one per CPU).
	Workers int
}

// DefaultSettings plan daily-reviewed stores.
var DefaultSettings = Settings{ReviewDays: 3, SourceDays: 8, Currency: "EUR", ExactUpTo: 64, Nearest: 8}

// Site is one SKU's position and forecast at one location, in whole units.
type Site struct {
	Loc              int
	OnHand, Reserved int64
	InTransit        int64
	MinDisplay       int64
	// Expected are scheduled receipts (supplier deliveries, purchase
	// orders): Qty arriving in Day days. A receipt due before the
	// decision's horizon ends counts as stock, like in-transit, but can
	// not be given away.
	Expected []Receipt
	// Daily is the expected demand of each coming day (day 0 starts now);
	// windows past its end repeat its last seven days.
	Daily []float64
	// Phi is the forecast's variance-to-mean ratio.
	Phi float64
}

// Receipt is stock expected at a location.
type Receipt struct {
	Day float64
	Qty int64
}

func expectedBy(rs []Receipt, day float64) int64 {
	var n int64
	for _, r := range rs {
		if r.Day <= day {
			n += r.Qty
		}
	}
	return n
}

// SKUInput is one SKU across the chain.
type SKUInput struct {
	SKU string
	// PackSize is the unit of transfer (1 for loose items).
	PackSize int64
	// Margin is what one lost sale costs, in minor units.
	Margin int64
	Sites  []Site
	// buf is scratch a fill function may keep across the SKUs one worker
	// plans (PlanChain hands the same SKUInput back each time).
	buf []float64
}

// Proposal is one proposed transfer with its reasoning.
type Proposal struct {
	ID       string    `json:"id"`
	AsOf     time.Time `json:"as_of"`
	SKU      string    `json:"sku"`
	From     string    `json:"from_location"`
	To       string    `json:"to_location"`
	Quantity event.Qty `json:"quantity"`
	PackSize int64     `json:"pack_size"`
	Packs    int64     `json:"packs"`
	// LeadTimeDays is the lane's lead time; TransferCost its cost for
	// the quantity.
	LeadTimeDays float64     `json:"lead_time_days"`
	TransferCost event.Money `json:"transfer_cost"`
	// ExpectedLostSalesAvoided is in units: lost sales avoided at the
	// destination less those caused at the source.
	ExpectedLostSalesAvoided float64 `json:"expected_lost_sales_avoided"`
	// ExpectedValue is margin × lost sales avoided − transfer cost.
	ExpectedValue event.Money `json:"expected_value"`
	Source        SiteReason  `json:"source"`
	Destination   SiteReason  `json:"destination"`
}

// SiteReason is the evidence at one end of a proposal.
type SiteReason struct {
	Location   string    `json:"location"`
	OnHand     event.Qty `json:"on_hand"`
	Reserved   event.Qty `json:"reserved"`
	InTransit  event.Qty `json:"in_transit"`
	MinDisplay event.Qty `json:"min_display"`
	// ForecastPerDay is the expected daily demand; Forecast the expected
	// demand over HorizonDays, the window the decision covers.
	ForecastPerDay float64 `json:"forecast_per_day"`
	HorizonDays    float64 `json:"horizon_days"`
	Forecast       float64 `json:"forecast"`
	// CoverDays and StockoutProbability are before the transfer; the
	// After values with every transfer of the plan for this SKU applied.
	CoverDays                float64 `json:"cover_days"`
	CoverDaysAfter           float64 `json:"cover_days_after"`
	StockoutProbability      float64 `json:"stockout_probability"`
	StockoutProbabilityAfter float64 `json:"stockout_probability_after"`
}

// window is the expected demand over days (a, b] from now.
func window(daily []float64, a, b float64) float64 {
	if b <= a || len(daily) == 0 {
		return 0
	}
	at := func(d int) float64 {
		if d < len(daily) {
			return daily[d]
		}
		if len(daily) >= 7 {
			back := len(daily) - 7
			return daily[back+(d-back)%7]
		}
		return daily[len(daily)-1]
	}
	var sum float64
	for t := a; t < b; {
		d := int(math.Floor(t))
		next := math.Min(float64(d+1), b)
		sum += at(d) * (next - t)
		t = next
	}
	return sum
}

func perDay(daily []float64, days float64) float64 {
	if days <= 0 {
		days = 7
	}
	return window(daily, 0, days) / days
}

// Bounds of what one SKU at one location may hold or sell: beyond them the
// input is wrong, not a store.
const (
	maxDaily = 100_000       // units a day
	maxStock = 1_000_000_000 // units
)

// planner holds per-SKU working state, reused across SKUs by one worker.
type planner struct {
	net *Network
	set Settings
	// Scratch reused across SKUs: work per site, and per location the
	// site index (stamped with the SKU's turn, so it needs no clearing).
	ws      []siteWork
	stamp   []int32
	turn    int32
	donorAt []int32
}

type siteWork struct {
	site        *Site
	eff         int64 // sellable stock including in transit, less display
	arr         int64 // eff at the earliest arrival
	giveable    int64 // packs that may leave
	srcCurve    *curve
	dstCurve    *curve
	src, dst    curve // the curves' memory, reused across SKUs
	srcH, dstA  float64
	dstW        float64
	srcMean     float64
	dstMean     float64
	node        int // index in the solver, -1 if not a candidate
	out, in     int64
	sink, donor bool
	tested      bool // donor decided
}

// planSKU solves one SKU and appends its proposals.
func (p *planner) planSKU(in *SKUInput, asOf time.Time, dst []Proposal) ([]Proposal, error) {
	pack := in.PackSize
	if pack <= 0 {
		pack = 1
	}
	margin := float64(in.Margin)
	if margin <= 0 || len(in.Sites) < 2 {
		return dst, nil
	}
	net := p.net
	if cap(p.ws) < len(in.Sites) {
		p.ws = make([]siteWork, len(in.Sites))
	}
	ws := p.ws[:len(in.Sites)]
	for i := range ws {
		src, dst := ws[i].src, ws[i].dst
		ws[i] = siteWork{src: src, dst: dst}
	}
	if len(p.stamp) != len(net.Locations) {
		p.stamp = make([]int32, len(net.Locations))
		p.donorAt = make([]int32, len(net.Locations))
	}
	p.turn++
	var sinks []int
	maxGain1 := 0.0
	for i := range in.Sites {
		s := &in.Sites[i]
		if s.Loc < 0 || s.Loc >= len(net.Locations) {
			return dst, fmt.Errorf("rebalance: SKU %s: site %d names location index %d outside the network", in.SKU, i, s.Loc)
		}
		if p.stamp[s.Loc] == p.turn {
			return dst, fmt.Errorf("rebalance: SKU %s: location %s listed twice", in.SKU, net.Locations[s.Loc])
		}
		p.stamp[s.Loc] = p.turn
		for _, d := range s.Daily {
			if !(d >= 0 && d <= maxDaily) { // also catches NaN
				return dst, fmt.Errorf("rebalance: SKU %s at %s: a daily forecast of %v is outside 0 … %d", in.SKU, net.Locations[s.Loc], d, maxDaily)
			}
		}
		if abs64(s.OnHand) > maxStock || abs64(s.Reserved) > maxStock || abs64(s.InTransit) > maxStock || abs64(s.MinDisplay) > maxStock {
			return dst, fmt.Errorf("rebalance: SKU %s at %s: stock beyond ±%d units", in.SKU, net.Locations[s.Loc], maxStock)
		}
		w := &ws[i]
		w.site, w.node = s, -1
		w.eff = s.OnHand - s.Reserved + s.InTransit - s.MinDisplay
		if g := s.OnHand - s.Reserved - s.MinDisplay; g > 0 {
			w.giveable = g / pack
		}
		lead := net.minLead[s.Loc]
		if math.IsInf(lead, 1) {
			lead = 0
		}
		w.srcH = math.Max(p.set.ReviewDays+lead, p.set.SourceDays)
		// A source restocked sooner needs to cover only until then.
		for _, r := range s.Expected {
			if h := r.Day + 1; r.Qty > 0 && h < w.srcH {
				w.srcH = math.Max(h, p.set.ReviewDays)
			}
		}
		w.srcMean = window(s.Daily, 0, w.srcH)
		w.dstA = lead
		w.dstW = p.set.ReviewDays
		w.dstMean = window(s.Daily, lead, lead+p.set.ReviewDays)
		// Stock when a transfer would arrive: what is on the shelf less
		// what sells meanwhile (unmet demand is lost, not back-ordered),
		// plus what is already on its way.
		sold := math.Round(window(s.Daily, 0, lead))
		shelf := s.OnHand - s.Reserved - s.MinDisplay
		w.arr = shelf + s.InTransit + expectedBy(s.Expected, lead)
		if shelf > 0 {
			w.arr -= int64(math.Min(sold, float64(shelf)))
		}
		if len(net.near[s.Loc]) == 0 {
			continue
		}
		// Cheap rejection before computing any distribution.
		sd := math.Sqrt(w.dstMean * math.Max(s.Phi, 1))
		if float64(w.arr) > w.dstMean+5*sd+2 {
			continue
		}
		w.dst.reset(Dist{Mean: w.dstMean, Phi: s.Phi})
		w.dstCurve = &w.dst
		gain1 := margin * (w.dstCurve.Loss(w.arr) - w.dstCurve.Loss(w.arr+pack))
		cheapest := float64(net.cheapIn[s.Loc] * pack)
		if gain1 > cheapest+eps {
			w.sink = true
			sinks = append(sinks, i)
			maxGain1 = math.Max(maxGain1, gain1-cheapest)
		}
	}
	if len(sinks) == 0 {
		return dst, nil
	}
	// donorTest decides, once per site, whether giving a pack there costs
	// less than the best first pack anywhere gains.
	donorTest := func(i int) bool {
		w := &ws[i]
		if w.tested {
			return w.donor
		}
		w.tested = true
		w.src.reset(Dist{Mean: w.srcMean, Phi: w.site.Phi})
		w.srcCurve = &w.src
		out1 := 0.0 // far above any likely demand: giving a pack costs nothing
		if sd := math.Sqrt(w.srcMean * math.Max(w.site.Phi, 1)); float64(w.eff-pack) <= w.srcMean+5*sd+2 {
			out1 = margin * (w.srcCurve.Loss(w.eff-pack) - w.srcCurve.Loss(w.eff))
		}
		w.donor = out1 < maxGain1-eps
		return w.donor
	}
	var donors []int // sites that may give (tested lazily on large SKUs)
	for i := range ws {
		if ws[i].giveable >= 1 {
			donors = append(donors, i)
		}
	}
	exact := len(sinks)+len(donors) <= p.set.ExactUpTo
	if exact {
		kept := donors[:0]
		for _, i := range donors {
			if donorTest(i) {
				kept = append(kept, i)
			}
		}
		donors = kept
	}
	if len(donors) == 0 {
		return dst, nil
	}
	// Arcs: every lane between candidates when small, else each sink's
	// nearest candidate donors.
	var arcs []Arc
	var nodes []Node
	var members []int
	add := func(i int) int {
		if ws[i].node < 0 {
			ws[i].node = len(members)
			members = append(members, i)
		}
		return ws[i].node
	}
	addLane := func(from, to int, l Lane) bool {
		if from == to || l.LeadDays > ws[to].dstA+p.set.ReviewDays {
			return false
		}
		arcs = append(arcs, Arc{From: add(from), To: add(to), Cost: float64(l.CostPerUnit * pack)})
		return true
	}
	if exact {
		for _, j := range sinks {
			for _, i := range donors {
				if l, ok := net.Lane(ws[i].site.Loc, ws[j].site.Loc); ok {
					addLane(i, j, l)
				}
			}
		}
	} else {
		p.turn++ // a fresh stamp marks this SKU's donors
		for _, i := range donors {
			p.stamp[ws[i].site.Loc] = p.turn
			p.donorAt[ws[i].site.Loc] = int32(i) //nolint:gosec // G115: site counts fit int32
		}
		for _, j := range sinks {
			k := 0
			lanes := net.nearLane[ws[j].site.Loc]
			for n, loc := range net.near[ws[j].site.Loc] {
				if p.stamp[loc] != p.turn {
					continue
				}
				if i := int(p.donorAt[loc]); i != j && donorTest(i) && addLane(i, j, lanes[n]) {
					if k++; k >= p.set.Nearest {
						break
					}
				}
			}
		}
	}
	if len(arcs) == 0 {
		return dst, nil
	}
	for _, i := range members {
		w := &ws[i]
		nd := Node{}
		if w.donor {
			c, eff := w.srcCurve, w.eff
			nd.MaxOut = int(w.giveable)
			nd.Out = func(k int) float64 {
				return margin * (c.Loss(eff-int64(k)*pack) - c.Loss(eff-int64(k-1)*pack))
			}
		}
		if w.sink {
			c, arr := w.dstCurve, w.arr
			nd.MaxIn = int((w.dstMean*4+4*math.Sqrt(w.dstMean*math.Max(w.site.Phi, 1))+float64(pack)-float64(arr))/float64(pack)) + 1
			nd.In = func(k int) float64 {
				return -margin * (c.Loss(arr+int64(k-1)*pack) - c.Loss(arr+int64(k)*pack))
			}
		}
		nd.MaxIn = max(0, min(nd.MaxIn, maxSupport))
		nodes = append(nodes, nd)
	}
	solve := Solve
	if !exact {
		solve = SolveGreedy
	}
	flows, _ := solve(nodes, arcs)
	if len(flows) == 0 {
		return dst, nil
	}
	for _, f := range flows {
		ws[members[f.From]].out += int64(f.Packs)
		ws[members[f.To]].in += int64(f.Packs)
	}
	for _, f := range flows {
		src, dstw := &ws[members[f.From]], &ws[members[f.To]]
		l, _ := net.Lane(src.site.Loc, dstw.site.Loc)
		qty := int64(f.Packs) * pack
		// Lost sales avoided, shared among the SKU's flows by packs.
		gain := dstw.dstCurve.Loss(dstw.arr) - dstw.dstCurve.Loss(dstw.arr+dstw.in*pack)
		gain *= float64(f.Packs) / float64(dstw.in)
		loss := src.srcCurve.Loss(src.eff-src.out*pack) - src.srcCurve.Loss(src.eff)
		loss *= float64(f.Packs) / float64(src.out)
		avoided := gain - loss
		cost := l.CostPerUnit * qty
		pr := Proposal{
			AsOf: asOf, SKU: in.SKU,
			From: net.Locations[src.site.Loc], To: net.Locations[dstw.site.Loc],
			Quantity: event.Units(qty), PackSize: pack, Packs: int64(f.Packs),
			LeadTimeDays:             l.LeadDays,
			TransferCost:             event.Money{Amount: event.Amount(cost), Currency: p.set.Currency},
			ExpectedLostSalesAvoided: round3(avoided),
			ExpectedValue:            event.Money{Amount: event.Amount(math.Round(avoided*margin)) - event.Amount(cost), Currency: p.set.Currency},
			Source:                   src.reason(net, true, src.out*pack, pack),
			Destination:              dstw.reason(net, false, dstw.in*pack, pack),
		}
		pr.ID = proposalID(pr)
		dst = append(dst, pr)
	}
	return dst, nil
}

func (w *siteWork) reason(net *Network, source bool, moved, pack int64) SiteReason {
	s := w.site
	r := SiteReason{
		Location: net.Locations[s.Loc], OnHand: event.Units(s.OnHand), Reserved: event.Units(s.Reserved),
		InTransit: event.Units(s.InTransit), MinDisplay: event.Units(s.MinDisplay),
	}
	rate := perDay(s.Daily, 7)
	r.ForecastPerDay = round3(rate)
	cover := func(stock int64) float64 {
		if rate <= 0 {
			return 9999
		}
		return round3(math.Max(0, float64(stock+s.MinDisplay)) / rate)
	}
	if source {
		r.HorizonDays, r.Forecast = round3(w.srcH), round3(w.srcMean)
		r.CoverDays, r.CoverDaysAfter = cover(w.eff), cover(w.eff-moved)
		r.StockoutProbability = round3(w.srcCurve.Risk(w.eff))
		r.StockoutProbabilityAfter = round3(w.srcCurve.Risk(w.eff - moved))
	} else {
		r.HorizonDays, r.Forecast = round3(w.dstA+w.dstW), round3(window(s.Daily, 0, w.dstA+w.dstW))
		r.CoverDays, r.CoverDaysAfter = cover(w.eff), cover(w.eff+moved)
		r.StockoutProbability = round3(w.dstCurve.Risk(w.arr))
		r.StockoutProbabilityAfter = round3(w.dstCurve.Risk(w.arr + moved))
	}
	_ = pack
	return r
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// proposalID is stable for the same transfer planned on the same day, so a
// plan repeated (or retried) proposes, and an approval emits, it once.
func proposalID(p Proposal) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d", p.AsOf.UTC().Format("2006-01-02"), p.SKU, p.From, p.To, p.Quantity)
	return "rb-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// Stats describes one chain plan.
type Stats struct {
	SKUs      int           `json:"skus"`
	Sites     int64         `json:"sites"`
	Proposals int           `json:"proposals"`
	Units     event.Qty     `json:"units"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// PlanChain plans every SKU of a chain: fill(i, in) loads SKU i (0 ≤ i <
// skus) into in, reusing its slices; SKUs are independent problems solved
// in parallel. Proposals come back sorted by SKU, source and destination.
func PlanChain(ctx context.Context, net *Network, set Settings, asOf time.Time, skus int,
	fill func(i int, in *SKUInput) error) ([]Proposal, Stats, error) {
	start := time.Now()
	net.prepare()
	if set.ReviewDays <= 0 {
		set.ReviewDays = DefaultSettings.ReviewDays
	}
	if set.Nearest <= 0 {
		set.Nearest = DefaultSettings.Nearest
	}
	workers := set.Workers
	if workers <= 0 {
		workers = maxProcs()
	}
	var (
		mu    sync.Mutex
		all   []Proposal
		sites int64
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int, 256)
	go func() {
		defer close(next)
		for i := range skus {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &planner{net: net, set: set}
			var in SKUInput
			var mine []Proposal
			var n int64
			var err error
			for i := range next {
				if err != nil {
					continue
				}
				in = SKUInput{Sites: in.Sites[:0], buf: in.buf}
				if err = fill(i, &in); err != nil {
					continue
				}
				n += int64(len(in.Sites))
				mine, err = p.planSKU(&in, asOf, mine)
			}
			mu.Lock()
			all = append(all, mine...)
			sites += n
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	sort.Slice(all, func(a, b int) bool {
		x, y := all[a], all[b]
		if x.SKU != y.SKU {
			return x.SKU < y.SKU
		}
		if x.From != y.From {
			return x.From < y.From
		}
		return x.To < y.To
	})
	st := Stats{SKUs: skus, Sites: sites, Proposals: len(all), Elapsed: time.Since(start)}
	for _, p := range all {
		st.Units += p.Quantity
	}
	return all, st, first
}

// Plan plans a list of SKUs (a convenience over PlanChain).
func Plan(ctx context.Context, net *Network, set Settings, asOf time.Time, skus []SKUInput) ([]Proposal, Stats, error) {
	return PlanChain(ctx, net, set, asOf, len(skus), func(i int, in *SKUInput) error {
		*in = skus[i]
		return nil
	})
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }
