package oversell

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

// Opening is when the simulated day starts: Black Friday 2026, 08:00 in
// Berlin (07:00 UTC).
var Opening = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)

// Result is one strategy's day.
type Result struct {
	Name     string `json:"name"`
	Strategy string `json:"strategy"` // batch or tillsync
	// IntervalS is a batch strategy's sync interval in seconds.
	IntervalS float64 `json:"interval_s,omitempty"`

	// OversoldUnits are units of accepted online orders that no store had
	// when the order reached the stores; CancelledOrders the orders that
	// therefore had to be cancelled. Rerouted orders found their units at
	// another store than the one the shop routed them to.
	OversoldUnits   int64 `json:"oversold_units"`
	CancelledOrders int64 `json:"cancelled_orders"`
	Rerouted        int64 `json:"rerouted_orders"`
	// PhantomSKUSeconds is the time, summed over SKUs, that the channel
	// showed at least one unit of the SKU while no store had one available
	// (on hand less every unit promised to an accepted order).
	// PhantomLevelSeconds counts the same per SKU and location: the
	// channel showed a unit at a store that had none there.
	PhantomSKUSeconds   float64 `json:"phantom_sku_seconds"`
	PhantomLevelSeconds float64 `json:"phantom_level_seconds"`

	// OnlineOrders were accepted by the shop; OnlineTurnedAway found the
	// SKU shown as sold out; OnlineUnitsReserved were really set aside.
	OnlineOrders        int64 `json:"online_orders"`
	OnlineTurnedAway    int64 `json:"online_turned_away"`
	OnlineUnitsReserved int64 `json:"online_units_reserved"`
	// StoreUnitsSold at the tills; StoreUnmet customers found the shelf
	// empty.
	StoreUnitsSold int64 `json:"store_units_sold"`
	StoreUnmet     int64 `json:"store_unmet"`

	// Traffic to the simulated shop: requests, refused for cost, writes
	// refused by compare-and-set, quantities written, cost points spent.
	Requests      int64   `json:"shop_requests"`
	Throttled     int64   `json:"shop_throttled"`
	StaleCompares int64   `json:"stale_compares"`
	Quantities    int64   `json:"quantities_written"`
	Points        float64 `json:"points"`

	// tillsync only: events applied to the ledger, and the oversells the
	// ledger itself detected (it must agree: 0 when none happened).
	LedgerEvents    int64 `json:"ledger_events,omitempty"`
	LedgerOversells int64 `json:"ledger_oversells,omitempty"`
}

type kind uint8

const (
	kDemand    kind = iota
	kArrive         // an online order reaches the hub and the store
	kFulfil         // a reserved order leaves the store
	kSync           // batch: snapshot every level and write what changed
	kSyncChunk      // batch: one mutation of the snapshot
	kCommit         // tillsync: a till sale reaches the hub
	kPush           // tillsync: the destination's write of one level
	kSettle         // tillsync: a Shopify-side decrease has had time to reach the ledger
)

type order struct {
	id    string
	level int
	qty   int64
	pick  time.Duration
}

type item struct {
	at    time.Duration
	seq   int64
	kind  kind
	d     *demand
	o     *order
	e     *event.Event
	level int
	value int64         // kPush: the ATP to write (-1: the ledger's now)
	mark  time.Duration // kSettle: the offset change it settles
}

type queue []*item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// destKey is what the destination knows of one level (see the
// compare-and-set rules in internal/channel/shopify).
type destKey struct {
	believed  int64 // E: what Shopify holds, as last confirmed or read
	offset    int64 // o ≤ 0: Shopify's own decreases not yet in the ledger
	offsetAt  time.Duration
	scheduled int64         // the last ATP a push was scheduled for
	landing   time.Duration // when that push lands
}

// sim is one strategy's run over the day.
type sim struct {
	cfg      *Config
	day      *day
	stores   int
	interval time.Duration // batch; 0 for tillsync
	end      time.Duration

	now time.Duration
	q   queue
	seq int64

	onHand, reserved, inflight, shown []int64
	exp, levelExp                     *exposure
	skuShown, skuAvail                []int64 // per SKU: Σ shown, Σ max(0, truth)
	availCache                        []int64 // per level: its part of skuAvail
	shop                              *shop
	res                               *Result
	orders                            int

	// batch
	lastSent []int64
	chunks   [][]quantity

	// tillsync
	ledger  *inventory.Ledger
	channel availability.Channel
	logSeq  int64
	dest    []destKey
	prop    *rand.Rand
	skuIdx  map[string]int
	locIdx  map[string]int
}

func skuName(i int) string   { return fmt.Sprintf("BF-%05d", i) }
func storeName(i int) string { return fmt.Sprintf("store-%03d", i) }

// run simulates the day under one strategy: interval > 0 is a batch sync
// at that interval, 0 is tillsync.
func run(cfg *Config, d *day, name string, interval time.Duration) (*Result, error) {
	s, err := simulate(cfg, d, name, interval)
	if err != nil {
		return nil, err
	}
	return s.res, nil
}

// simulate runs the day and returns the finished simulation.
func simulate(cfg *Config, d *day, name string, interval time.Duration) (*sim, error) {
	levels := cfg.SKUs * cfg.Stores
	s := &sim{
		cfg: cfg, day: d, stores: cfg.Stores, interval: interval,
		end:    time.Duration(cfg.Hours * float64(time.Hour)),
		onHand: make([]int64, levels), reserved: make([]int64, levels), inflight: make([]int64, levels), shown: make([]int64, levels),
		res: &Result{Name: name, Strategy: "tillsync"},
	}
	s.exp, s.levelExp = newExposure(cfg.SKUs, s.end), newExposure(levels, s.end)
	s.skuShown, s.skuAvail = make([]int64, cfg.SKUs), make([]int64, cfg.SKUs)
	s.availCache = make([]int64, levels)
	for lv, q := range d.stock {
		s.availCache[lv] = q
		s.skuAvail[lv/cfg.Stores] += q
		s.skuShown[lv/cfg.Stores] += q
	}
	copy(s.onHand, d.stock)
	if interval > 0 {
		s.res.Strategy, s.res.IntervalS = "batch", interval.Seconds()
		s.lastSent = make([]int64, levels)
		copy(s.lastSent, d.stock)
	}
	if err := s.openShop(); err != nil {
		return nil, err
	}
	if interval == 0 {
		if err := s.openLedger(); err != nil {
			return nil, err
		}
	}
	for i := range d.demands {
		s.schedule(&item{at: d.demands[i].at, kind: kDemand, d: &d.demands[i]})
	}
	for t := interval; interval > 0 && t < s.end; t += interval {
		s.schedule(&item{at: t, kind: kSync})
	}
	for s.q.Len() > 0 {
		it := heap.Pop(&s.q).(*item)
		s.now = it.at
		if err := s.handle(it); err != nil {
			return nil, fmt.Errorf("%s at %s: %w", name, s.clock().Format("15:04:05.000"), err)
		}
	}
	s.res.PhantomSKUSeconds = s.exp.close().Seconds()
	s.res.PhantomLevelSeconds = s.levelExp.close().Seconds()
	s.res.Requests, s.res.Throttled, s.res.StaleCompares, s.res.Points = s.shop.requests, s.shop.throttled, s.shop.stale, s.shop.points
	if interval == 0 {
		if err := s.checkLedger(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return s, nil
}

func (s *sim) clock() time.Time { return Opening.Add(s.now) }

func (s *sim) schedule(it *item) {
	s.seq++
	it.seq = s.seq
	heap.Push(&s.q, it)
}

// truth is what is really available at a level: on hand less every unit
// promised to an accepted order, known at the store yet or not.
func (s *sim) truth(level int) int64 { return s.onHand[level] - s.reserved[level] - s.inflight[level] }

// mark updates the phantom accounting of a level and its SKU after a
// change of what the channel shows or what really exists.
func (s *sim) mark(level int) {
	t := s.truth(level)
	s.levelExp.set(level, s.now, s.shown[level] >= 1 && t <= 0)
	sku := level / s.stores
	a := max(0, t)
	s.skuAvail[sku] += a - s.availCache[level]
	s.availCache[level] = a
	s.exp.set(sku, s.now, s.skuShown[sku] >= 1 && s.skuAvail[sku] == 0)
}

// openShop creates the simulated shop on the simulation's clock: a
// location per store, an inventory item per SKU, the opening stock shown.
func (s *sim) openShop() error {
	sim, err := shopifyadmin.New(shopifyadmin.Config{Token: shopToken, RestoreRate: s.cfg.RestoreRate,
		BucketSize: s.cfg.BucketSize, Now: s.clock})
	if err != nil {
		return err
	}
	s.shop = &shop{sim: sim, path: "/admin/api/" + shopVersion + "/graphql.json"}
	s.skuIdx, s.locIdx = map[string]int{}, map[string]int{}
	items, locs := map[string]int{}, map[string]int{}
	for i := range s.stores {
		l := sim.AddLocation()
		s.shop.locs = append(s.shop.locs, l)
		locs[l] = i
		s.locIdx[storeName(i)] = i
	}
	for k := range s.cfg.SKUs {
		it := sim.AddVariant(skuName(k), s.shop.locs...)
		s.shop.items = append(s.shop.items, it)
		items[it] = k
		s.skuIdx[skuName(k)] = k
		for st, l := range s.shop.locs {
			sim.SetAvailable(it, l, s.day.stock[k*s.stores+st])
		}
	}
	copy(s.shown, s.day.stock)
	sim.OnChange(func(c shopifyadmin.Change) {
		lv := items[c.Item]*s.stores + locs[c.Location]
		s.skuShown[lv/s.stores] += c.Quantity - s.shown[lv]
		s.shown[lv] = c.Quantity
		s.mark(lv)
	})
	return nil
}

func (s *sim) handle(it *item) error {
	switch it.kind {
	case kDemand:
		if it.d.online {
			s.onlineOrder(it.d)
		} else {
			s.tillSale(it.d)
		}
	case kArrive:
		return s.arrive(it.o)
	case kFulfil:
		o := it.o
		s.onHand[o.level] -= o.qty
		s.reserved[o.level] -= o.qty
		s.mark(o.level)
		if s.ledger != nil {
			return s.apply(et.Fulfil(o.id+"-ship", s.loc(o.level), s.clock(), o.id, et.L(s.sku(o.level), o.qty)))
		}
	case kSync:
		s.sync()
	case kSyncChunk:
		return s.syncChunk()
	case kCommit:
		return s.apply(it.e)
	case kPush:
		return s.push(it.level, it.value)
	case kSettle:
		dk := &s.dest[it.level]
		if dk.offset != 0 && dk.offsetAt == it.mark {
			dk.offset = 0
			return s.push(it.level, -1)
		}
	}
	return nil
}

func (s *sim) sku(level int) string { return skuName(level / s.stores) }
func (s *sim) loc(level int) string { return storeName(level % s.stores) }

// tillSale: a customer at a till takes what is on the shelf (on hand less
// what the store has set aside for orders it knows of).
func (s *sim) tillSale(d *demand) {
	lv := d.sku*s.stores + d.store
	n := min(d.qty, s.onHand[lv]-s.reserved[lv])
	if n <= 0 {
		s.res.StoreUnmet++
		return
	}
	s.onHand[lv] -= n
	s.res.StoreUnitsSold += n
	s.mark(lv)
	if s.ledger != nil {
		s.seq++ // the event's ID only
		e := et.Sale(fmt.Sprintf("sale-%d", s.seq), s.loc(lv), s.clock(), et.L(s.sku(lv), n))
		s.schedule(&item{at: s.now + s.cfg.EdgeDelay, kind: kCommit, e: e})
	}
}

// onlineOrder: the shop accepts an order only from a location showing
// enough, routes it to the location showing most (ties from the order's
// own starting point) and takes the units off that level itself, as
// Shopify does at checkout.
func (s *sim) onlineOrder(d *demand) {
	best := -1
	for i := range s.stores {
		lv := d.sku*s.stores + (d.route+i)%s.stores
		if s.shown[lv] >= d.qty && (best < 0 || s.shown[lv] > s.shown[best]) {
			best = lv
		}
	}
	if best < 0 {
		s.res.OnlineTurnedAway++
		return
	}
	s.orders++
	o := &order{id: fmt.Sprintf("web-%06d", s.orders), level: best, qty: d.qty, pick: d.pick}
	s.res.OnlineOrders++
	s.inflight[best] += d.qty
	s.shop.sim.AdjustAvailable(s.shop.items[d.sku], s.shop.locs[best%s.stores], -d.qty) // marks the level
	s.schedule(&item{at: s.now + d.webhook, kind: kArrive, o: o})
}

// arrive: the order reaches the stores (and, for tillsync, the hub). The
// store the shop routed it to sets the units aside if its shelf still has
// them; otherwise the order moves to the store with the most on its shelf
// (as ship-from-store routing does, in every strategy alike). When no
// store has them the order was oversold and is cancelled (without
// restocking the shop: the units never existed).
func (s *sim) arrive(o *order) error {
	routed := o.level
	s.inflight[routed] -= o.qty
	s.mark(routed)
	shelf := func(lv int) int64 { return s.onHand[lv] - s.reserved[lv] }
	lv := routed
	if shelf(lv) < o.qty {
		first := lv - lv%s.stores
		best := -1
		for st := range s.stores {
			if c := first + st; shelf(c) >= o.qty && (best < 0 || shelf(c) > shelf(best)) {
				best = c
			}
		}
		if best >= 0 {
			lv = best
			s.res.Rerouted++
		}
	}
	ok := shelf(lv) >= o.qty
	if ok {
		o.level = lv
		s.reserved[lv] += o.qty
		s.res.OnlineUnitsReserved += o.qty
		s.schedule(&item{at: s.now + o.pick, kind: kFulfil, o: o})
		s.mark(lv)
	} else {
		s.res.OversoldUnits += o.qty - max(0, shelf(lv))
		s.res.CancelledOrders++
	}
	if s.ledger == nil {
		return nil
	}
	if err := s.apply(et.Order(o.id+"-order", s.loc(lv), s.clock(), o.id, s.channel.Name, et.L(s.sku(lv), o.qty))); err != nil {
		return err
	}
	if !ok {
		return s.apply(et.Cancel(o.id+"-cancel", s.loc(lv), s.clock(), o.id))
	}
	return nil
}

// sync is a scheduled connector's run: it snapshots every level's
// available stock as the ERP holds it and overwrites the shop's value
// where it changed since the last run, 250 quantities per mutation, with
// no compare (changeFromQuantity null).
func (s *sim) sync() {
	var qs []quantity
	for lv := range s.onHand {
		atp := max(0, s.onHand[lv]-s.reserved[lv])
		if atp != s.lastSent[lv] {
			qs = append(qs, quantity{level: lv, qty: atp})
		}
	}
	for i := 0; i < len(qs); i += maxQuantities {
		s.chunks = append(s.chunks, qs[i:min(i+maxQuantities, len(qs))])
	}
	if len(qs) > 0 {
		s.schedule(&item{at: s.now, kind: kSyncChunk})
	}
}

func (s *sim) syncChunk() error {
	if len(s.chunks) == 0 {
		return nil
	}
	c := s.chunks[0]
	if _, err := s.shop.set(c, s.stores); err != nil {
		var th errThrottled
		if errors.As(err, &th) {
			s.schedule(&item{at: s.now + time.Duration(th.wait*float64(time.Second)), kind: kSyncChunk})
			return nil
		}
		return err
	}
	s.res.Quantities += int64(len(c))
	for _, q := range c {
		s.lastSent[q.level] = q.qty
	}
	s.chunks = s.chunks[1:]
	if len(s.chunks) > 0 {
		s.schedule(&item{at: s.now, kind: kSyncChunk})
	}
	return nil
}
