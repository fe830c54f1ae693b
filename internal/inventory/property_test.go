package inventory_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inventory"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "run the ledger property test for this seed only")
	itersFlag = flag.Int("iterations", 300, "number of seeds the ledger property test tries")
)

// TestLedgerOrderIndependent is the ledger's central promise: the same set of
// events gives the same positions whatever order they arrive in and however
// the store splits them into batches. For each seed it generates a random
// history over a few SKUs, locations, orders and transfers, and applies it
//
//   - to a memory ledger in generation order,
//   - to memory ledgers in random orders and random batches,
//   - through partial ledgers loaded batch by batch from a simulated store,
//     exactly as internal/store loads them,
//
// and checks every result against a reference model written from the
// package documentation. Oversells depend on the order by nature and are
// not compared. Rerun one failure with -seed N.
//
// Every fourth seed is "untidy": orders may be placed twice and transfers
// rerouted. The ledger keeps the first placement and the last destination it
// sees, so those results depend on the order by design; for them the test
// checks only that the store's partial ledgers never miss state and agree
// with a memory ledger fed the same arrival order.
func TestLedgerOrderIndependent(t *testing.T) {
	t.Parallel()
	seeds := make([]uint64, *itersFlag)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	if *seedFlag != 0 {
		seeds = []uint64{*seedFlag}
	}
	for _, seed := range seeds {
		if !checkSeed(t, seed) {
			t.Fatalf("seed %d failed; rerun with: go test -run TestLedgerOrderIndependent -seed %d -v ./internal/inventory", seed, seed)
		}
	}
}

func checkSeed(t *testing.T, seed uint64) bool {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	untidy := seed%4 == 0
	evs := generate(r, 10+r.IntN(50), untidy)
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Fatalf("seed %d: generated an invalid event %s: %v", seed, e.ID, err)
		}
	}
	want := model(evs)
	ok := true
	check := func(mode string, got *inventory.Ledger, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("seed %d, %s: %v", seed, mode, err)
			ok = false
			return
		}
		if untidy {
			return
		}
		if d := inventory.Diff(got, want); len(d) > 0 {
			t.Errorf("seed %d, %s: positions differ from the model (ledger vs model):\n\t%s", seed, mode, strings.Join(d, "\n\t"))
			ok = false
		}
	}

	l := inventory.NewMemory()
	_, err := l.Apply(inOrder(evs, identity(len(evs))))
	check("memory, generation order", l, err)

	for i := range 3 {
		order := r.Perm(len(evs))
		l, err := applyBatches(inventory.NewMemory(), split(r, inOrder(evs, order)))
		check(fmt.Sprintf("memory, permutation %d", i), l, err)
	}

	for i := range 3 {
		order := identity(len(evs))
		if i > 0 {
			order = r.Perm(len(evs))
		}
		s := newStore()
		var err error
		for _, batch := range split(r, inOrder(evs, order)) {
			if err = s.append(batch); err != nil {
				break
			}
		}
		// A memory ledger fed the same arrival order must agree exactly.
		l, memErr := applyBatches(inventory.NewMemory(), [][]inventory.Applied{inOrder(evs, order)})
		check(fmt.Sprintf("memory, store %d's order", i), l, memErr)
		switch {
		case err != nil:
			t.Errorf("seed %d, store %d: %v", seed, i, err)
			ok = false
		case memErr == nil:
			if d := inventory.Diff(l, s.positions); len(d) > 0 {
				t.Errorf("seed %d, store %d: stored positions differ (memory vs store):\n\t%s", seed, i, strings.Join(d, "\n\t"))
				ok = false
			}
		}
	}
	if !ok {
		t.Logf("seed %d events:\n%s", seed, describe(evs))
	}
	return ok
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// inOrder gives the events log sequence numbers in the order they arrive.
func inOrder(evs []*event.Event, order []int) []inventory.Applied {
	out := make([]inventory.Applied, len(order))
	for seq, i := range order {
		out[seq] = inventory.Applied{Seq: int64(seq + 1), Event: evs[i]}
	}
	return out
}

// split cuts a sequence into random consecutive batches of 1 to 8 events.
func split(r *rand.Rand, all []inventory.Applied) [][]inventory.Applied {
	var out [][]inventory.Applied
	for len(all) > 0 {
		n := min(1+r.IntN(8), len(all))
		out = append(out, all[:n])
		all = all[n:]
	}
	return out
}

func applyBatches(l *inventory.Ledger, batches [][]inventory.Applied) (*inventory.Ledger, error) {
	for _, b := range batches {
		if _, err := l.Apply(b); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// store simulates what internal/store keeps between batches: the event log,
// positions, documents, void marks and movements.
type store struct {
	log       map[string]*event.Event
	positions map[inventory.Key]inventory.Position
	docs      map[inventory.DocRef]*inventory.Doc
	voids     map[string]inventory.VoidMark
	moves     []inventory.Move
}

func newStore() *store {
	return &store{
		log:       map[string]*event.Event{},
		positions: map[inventory.Key]inventory.Position{},
		docs:      map[inventory.DocRef]*inventory.Doc{},
		voids:     map[string]inventory.VoidMark{},
	}
}

// append does what Store.Append does with one batch: the events join the log
// first, then a partial ledger is loaded as loadLedger loads it, applied,
// and its Changes written back.
func (s *store) append(batch []inventory.Applied) error {
	evs := make([]*event.Event, len(batch))
	for i, a := range batch {
		evs[i] = a.Event
		s.log[a.Event.ID] = a.Event
	}
	l := inventory.NewPartial()
	refs := inventory.RefsOf(evs)
	for _, r := range refs.Docs {
		d := inventory.NewDoc(r)
		if stored := s.docs[r]; stored != nil {
			d = cloneDoc(stored)
		}
		l.LoadDoc(d)
	}
	for _, id := range refs.VoidMarks {
		if m, ok := s.voids[id]; ok {
			l.LoadVoid(m)
		}
	}
	for _, id := range refs.Targets {
		if e := s.log[id]; e != nil {
			l.LoadTarget(e)
		}
	}
	keys, counts := l.Touched(evs)
	for _, k := range keys {
		l.LoadPosition(k, s.positions[k])
	}
	for _, kt := range counts {
		var sum event.Qty
		for _, m := range s.moves {
			if m.Key == kt.Key && m.At.After(kt.At) {
				sum += m.Delta
			}
		}
		l.LoadMovesAfter(kt, sum)
	}
	ch, err := l.Apply(batch)
	if err != nil {
		return err
	}
	s.moves = append(s.moves, ch.Moves...)
	for k, p := range ch.Positions {
		s.positions[k] = p
	}
	for r, d := range ch.Docs {
		s.docs[r] = cloneDoc(d)
	}
	for id, m := range ch.Voids {
		s.voids[id] = m
	}
	return nil
}

func cloneDoc(d *inventory.Doc) *inventory.Doc {
	c := *d
	c.Lines = make(map[string]*inventory.DocLine, len(d.Lines))
	for sku, ln := range d.Lines {
		l := *ln
		c.Lines[sku] = &l
	}
	return &c
}

// generator makes random but valid histories. Unless untidy, each order is
// placed at most once and each transfer always ships to the same
// destination: the ledger keeps the first placement and the last destination
// it sees, so either varying makes the result depend on the order by design.
type generator struct {
	r         *rand.Rand
	untidy    bool
	n         int
	evs       []*event.Event
	targets   []string             // sales and returns
	others    []string             // events a void cannot reverse
	transfers map[string][2]string // transfer → from, to
	orders    map[string]string    // order → fulfilling location
	placed    map[string]bool
}

var (
	genSKUs      = []string{"A", "B", "C"}
	genLocations = []string{"s1", "s2", "wh"}
)

func generate(r *rand.Rand, n int, untidy bool) []*event.Event {
	g := &generator{r: r, untidy: untidy, transfers: map[string][2]string{}, orders: map[string]string{}, placed: map[string]bool{}}
	for len(g.evs) < n {
		g.next()
	}
	return g.evs
}

func (g *generator) pick(from []string) string { return from[g.r.IntN(len(from))] }

// when is a random time in a four-hour window, on whole minutes so that
// ties between counts and movements are common.
func (g *generator) when() time.Time { return at(g.r.IntN(240)) }

func (g *generator) qty() event.Qty {
	if g.r.IntN(5) == 0 {
		return event.Qty(1 + g.r.IntN(3999)) // weighed goods
	}
	return u(int64(1 + g.r.IntN(4)))
}

func (g *generator) lines() []event.Line {
	out := make([]event.Line, 1+g.r.IntN(3))
	for i := range out {
		out[i] = event.Line{SKU: g.pick(genSKUs), Quantity: g.qty()}
	}
	return out
}

func (g *generator) id(kind string) string {
	g.n++
	return fmt.Sprintf("%s-%03d", kind, g.n)
}

func (g *generator) transfer() (string, string, string) {
	id := fmt.Sprintf("tr-%d", g.r.IntN(3))
	ft, ok := g.transfers[id]
	if !ok {
		from := g.pick(genLocations)
		to := g.pick(genLocations)
		for to == from {
			to = g.pick(genLocations)
		}
		ft = [2]string{from, to}
		g.transfers[id] = ft
	}
	if g.untidy && g.r.IntN(3) == 0 {
		ft[1] = g.pick(genLocations) // rerouted
		for ft[1] == ft[0] {
			ft[1] = g.pick(genLocations)
		}
	}
	return id, ft[0], ft[1]
}

func (g *generator) order() (string, string) {
	id := fmt.Sprintf("web-%d", g.r.IntN(4))
	loc, ok := g.orders[id]
	if !ok {
		loc = g.pick(genLocations)
		g.orders[id] = loc
	}
	return id, loc
}

func (g *generator) next() {
	r := g.r
	var e *event.Event
	switch k := r.IntN(100); {
	case k < 15:
		e = et.Receive(g.id("rcv"), g.pick(genLocations), g.when(), g.lines()...)
		g.others = append(g.others, e.ID)
	case k < 33:
		e = et.Sale(g.id("sale"), g.pick(genLocations), g.when(), g.lines()...)
		if r.IntN(5) == 0 {
			order, loc := g.order()
			e.Location = loc
			e.Body.(*event.Sale).OrderID = order
		}
		g.targets = append(g.targets, e.ID)
	case k < 41:
		e = et.Return(g.id("ret"), g.pick(genLocations), g.when(), "", g.lines()...)
		for i := range e.Body.(*event.Return).Lines {
			if k := r.IntN(3); k > 0 { // else restock is left to its default
				back := k == 2
				e.Body.(*event.Return).Lines[i].Restock = &back
			}
		}
		g.targets = append(g.targets, e.ID)
	case k < 52:
		var target string
		switch j := r.IntN(10); {
		case j < 7 && len(g.targets) > 0:
			target = g.pick(g.targets) // often twice
		case j < 8 && len(g.others) > 0:
			target = g.pick(g.others)
		default:
			target = fmt.Sprintf("missing-%d", r.IntN(3))
		}
		e = et.Void(g.id("void"), g.pick(genLocations), g.when(), target)
	case k < 58:
		ls := g.lines()
		for i := range ls {
			if r.IntN(2) == 0 {
				ls[i].Quantity = -ls[i].Quantity
			}
		}
		e = et.Adjust(g.id("adj"), g.pick(genLocations), g.when(), ls...)
	case k < 65:
		id, from, to := g.transfer()
		e = et.TransferOut(g.id("out"), from, g.when(), id, to, g.lines()...)
	case k < 72:
		id, from, to := g.transfer()
		if r.IntN(10) == 0 {
			to = g.pick(genLocations) // received at the wrong store
		}
		e = et.TransferIn(g.id("in"), to, g.when(), id, from, g.lines()...)
	case k < 82:
		var ls []event.Line
		for _, sku := range genSKUs {
			if r.IntN(2) == 0 {
				ls = append(ls, event.Line{SKU: sku, Quantity: u(int64(r.IntN(10)))})
			}
		}
		if len(ls) == 0 {
			ls = append(ls, event.Line{SKU: g.pick(genSKUs), Quantity: 0})
		}
		e = et.Count(g.id("cnt"), g.pick(genLocations), g.when(), ls...)
		g.others = append(g.others, e.ID)
	case k < 84:
		e = et.Drawer(g.id("dc"), g.pick(genLocations), g.when(), int64(r.IntN(100000)))
	case k < 91:
		id, loc := g.order()
		if g.placed[id] && !g.untidy {
			return
		}
		if g.untidy && r.IntN(3) == 0 {
			loc = g.pick(genLocations)
		}
		g.placed[id] = true
		e = et.Order(g.id("ord"), loc, g.when(), id, "shopify", g.lines()...)
	case k < 97:
		id, loc := g.order()
		if r.IntN(5) == 0 {
			loc = g.pick(genLocations)
		}
		e = et.Fulfil(g.id("ful"), loc, g.when(), id, g.lines()...)
	default:
		id, loc := g.order()
		e = et.Cancel(g.id("cxl"), loc, g.when(), id)
	}
	g.evs = append(g.evs, e)
}

// model computes positions straight from the package documentation, with no
// notion of arrival order.
func model(evs []*event.Event) map[inventory.Key]inventory.Position {
	type move struct {
		k     inventory.Key
		delta event.Qty
		at    time.Time
	}
	type count struct {
		at  time.Time
		id  string
		qty event.Qty
	}
	var moves []move
	counts := map[inventory.Key]count{}
	byID := map[string]*event.Event{}
	voids := map[string]*event.Event{} // target → winning void
	ordered := map[string]map[string]event.Qty{}
	orderAt := map[string]string{}
	cancelled := map[string]bool{}
	settled := map[string]map[string]event.Qty{}
	shipped := map[string]map[string]event.Qty{}
	shipTo := map[string]string{}
	received := map[string]map[string]event.Qty{}
	add := func(m map[string]map[string]event.Qty, doc, sku string, q event.Qty) {
		if m[doc] == nil {
			m[doc] = map[string]event.Qty{}
		}
		m[doc][sku] += q
	}
	stock := func(e *event.Event, ls []event.Line, sign event.Qty) {
		for _, l := range ls {
			moves = append(moves, move{inventory.Key{SKU: l.SKU, Location: e.Location}, sign * l.Quantity, e.OccurredAt})
		}
	}
	for _, e := range evs {
		byID[e.ID] = e
		switch b := e.Body.(type) {
		case *event.Sale:
			for _, l := range b.Lines {
				moves = append(moves, move{inventory.Key{SKU: l.SKU, Location: e.Location}, -l.Quantity, e.OccurredAt})
				if b.OrderID != "" {
					add(settled, b.OrderID, l.SKU, l.Quantity)
				}
			}
		case *event.Return:
			for _, l := range b.Lines {
				if l.Restock == nil || *l.Restock {
					moves = append(moves, move{inventory.Key{SKU: l.SKU, Location: e.Location}, l.Quantity, e.OccurredAt})
				}
			}
		case *event.Void:
			w := voids[b.VoidedEventID]
			if w == nil || e.OccurredAt.Before(w.OccurredAt) || (e.OccurredAt.Equal(w.OccurredAt) && e.ID < w.ID) {
				voids[b.VoidedEventID] = e
			}
		case *event.Adjustment:
			stock(e, b.Lines, 1)
		case *event.Receipt:
			stock(e, b.Lines, 1)
		case *event.TransferOut:
			stock(e, b.Lines, -1)
			shipTo[b.TransferID] = b.ToLocation
			for _, l := range b.Lines {
				add(shipped, b.TransferID, l.SKU, l.Quantity)
			}
		case *event.TransferIn:
			stock(e, b.Lines, 1)
			for _, l := range b.Lines {
				add(received, b.TransferID, l.SKU, l.Quantity)
			}
		case *event.StockCount:
			for _, l := range b.Lines {
				k := inventory.Key{SKU: l.SKU, Location: e.Location}
				c, ok := counts[k]
				if !ok || e.OccurredAt.After(c.at) || (e.OccurredAt.Equal(c.at) && e.ID > c.id) {
					counts[k] = count{e.OccurredAt, e.ID, l.Quantity}
				}
			}
		case *event.OnlineOrder:
			orderAt[b.OrderID] = e.Location
			for _, l := range b.Lines {
				add(ordered, b.OrderID, l.SKU, l.Quantity)
			}
		case *event.Fulfilment:
			stock(e, b.Lines, -1)
			for _, l := range b.Lines {
				add(settled, b.OrderID, l.SKU, l.Quantity)
			}
		case *event.OrderCancel:
			cancelled[b.OrderID] = true
		}
	}
	// A void reverses its target's movements at the void's time.
	for target, v := range voids {
		t := byID[target]
		if t == nil {
			continue
		}
		switch b := t.Body.(type) {
		case *event.Sale:
			for _, l := range b.Lines {
				moves = append(moves, move{inventory.Key{SKU: l.SKU, Location: t.Location}, l.Quantity, v.OccurredAt})
			}
		case *event.Return:
			for _, l := range b.Lines {
				if l.Restock == nil || *l.Restock {
					moves = append(moves, move{inventory.Key{SKU: l.SKU, Location: t.Location}, -l.Quantity, v.OccurredAt})
				}
			}
		}
	}

	out := map[inventory.Key]inventory.Position{}
	for k, c := range counts {
		out[k] = inventory.Position{CountQty: c.qty, CountAt: c.at, CountEvent: c.id}
	}
	for _, m := range moves {
		p := out[m.k]
		if p.CountAt.IsZero() || m.at.After(p.CountAt) {
			p.Delta += m.delta
		}
		out[m.k] = p
	}
	open := func(want, got event.Qty) event.Qty { return max(want-got, 0) }
	for order, lines := range ordered {
		if cancelled[order] {
			continue
		}
		for sku, q := range lines {
			k := inventory.Key{SKU: sku, Location: orderAt[order]}
			p := out[k]
			p.Reserved += open(q, settled[order][sku])
			out[k] = p
		}
	}
	for tr, lines := range shipped {
		for sku, q := range lines {
			k := inventory.Key{SKU: sku, Location: shipTo[tr]}
			p := out[k]
			p.InTransit += open(q, received[tr][sku])
			out[k] = p
		}
	}
	return out
}

// describe lists events one a line, for a failure's log.
func describe(evs []*event.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\t%s %s@%s %s", e.ID, e.Type, e.Location, e.OccurredAt.Sub(et.Base))
		switch x := e.Body.(type) {
		case *event.Sale:
			fmt.Fprintf(&b, " order=%q lines=%v", x.OrderID, saleLines(x.Lines))
		case *event.Return:
			fmt.Fprintf(&b, " lines=%v", saleLines(x.Lines))
		case *event.Void:
			fmt.Fprintf(&b, " target=%s", x.VoidedEventID)
		case *event.Adjustment:
			fmt.Fprintf(&b, " lines=%v", x.Lines)
		case *event.Receipt:
			fmt.Fprintf(&b, " lines=%v", x.Lines)
		case *event.TransferOut:
			fmt.Fprintf(&b, " %s to=%s lines=%v", x.TransferID, x.ToLocation, x.Lines)
		case *event.TransferIn:
			fmt.Fprintf(&b, " %s from=%s lines=%v", x.TransferID, x.FromLocation, x.Lines)
		case *event.StockCount:
			fmt.Fprintf(&b, " lines=%v", x.Lines)
		case *event.OnlineOrder:
			fmt.Fprintf(&b, " %s lines=%v", x.OrderID, saleLines(x.Lines))
		case *event.Fulfilment:
			fmt.Fprintf(&b, " %s lines=%v", x.OrderID, x.Lines)
		case *event.OrderCancel:
			fmt.Fprintf(&b, " %s", x.OrderID)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func saleLines(ls []event.SaleLine) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.SKU + ":" + l.Quantity.String()
		if l.Restock != nil && !*l.Restock {
			out[i] += "(no restock)"
		}
	}
	return out
}

// TestTouchedCoversBatch checks directly that a partial ledger loaded from
// Touched can apply batches whose documents change location within the
// batch, the case the per-event key lists once missed.
func TestTouchedCoversBatch(t *testing.T) {
	t.Parallel()
	batches := [][]*event.Event{
		// The destination changes inside one batch: the second transfer-out
		// moves what the first left in transit at s1 over to s2.
		{et.TransferOut("out-1", "wh", at(1), "tr-1", "s1", et.L("A", 2)),
			et.TransferOut("out-2", "wh", at(2), "tr-1", "s2", et.L("B", 1))},
		// A transfer-in names its store before the transfer-out arrives.
		{et.TransferIn("in-1", "s1", at(5), "tr-2", "wh", et.L("A", 1)),
			et.TransferOut("out-3", "wh", at(4), "tr-2", "s2", et.L("A", 3), et.L("C", 1))},
		// An order placed and settled by click and collect in one batch.
		{et.Receive("rcv", "s1", at(0), et.L("A", 5)),
			et.Order("ord", "s1", at(1), "web-1", "shopify", et.L("A", 2), et.L("B", 1)),
			clickAndCollect(et.Sale("collect", "s1", at(2), et.L("A", 2), et.L("C", 1))),
			et.Cancel("cxl", "s1", at(3), "web-1")},
		// A sale, its void and a second, earlier void in one batch.
		{et.Sale("sale", "s1", at(10), et.L("A", 1)),
			et.Void("void-2", "s1", at(30), "sale"),
			et.Count("cnt", "s1", at(20), et.L("A", 4)),
			et.Void("void-1", "s1", at(15), "sale")},
	}
	for i, evs := range batches {
		s := newStore()
		batch := inOrder(evs, identity(len(evs)))
		if err := s.append(batch); err != nil {
			t.Errorf("batch %d: %v", i, err)
			continue
		}
		mem := inventory.NewMemory()
		if _, err := mem.Apply(batch); err != nil {
			t.Fatal(err)
		}
		if d := inventory.Diff(mem, s.positions); len(d) > 0 {
			t.Errorf("batch %d: stored positions differ:\n%s", i, strings.Join(d, "\n"))
		}
		if d := inventory.Diff(mem, model(evs)); len(d) > 0 {
			t.Errorf("batch %d: positions differ from the model:\n%s", i, strings.Join(d, "\n"))
		}
	}
}

// TestRefsOf checks what a batch asks the store to load before Touched.
func TestRefsOf(t *testing.T) {
	t.Parallel()
	evs := []*event.Event{
		clickAndCollect(et.Sale("sale", "s1", at(0), et.L("A", 1))),
		et.Return("ret", "s1", at(0), "", et.L("A", 1)),
		et.Void("void", "s1", at(0), "sale-0"),
		et.TransferOut("out", "wh", at(0), "tr-1", "s1", et.L("A", 1)),
		et.TransferIn("in", "s1", at(0), "tr-1", "wh", et.L("A", 1)),
		et.Order("ord", "s1", at(0), "web-2", "shopify", et.L("A", 1)),
		et.Fulfil("ful", "s1", at(0), "web-1", et.L("A", 1)),
		et.Cancel("cxl", "s1", at(0), "web-3"),
		et.Receive("rcv", "s1", at(0), et.L("A", 1)),
	}
	r := inventory.RefsOf(evs)
	wantDocs := []inventory.DocRef{
		{Kind: inventory.DocOrder, ID: "web-1"}, {Kind: inventory.DocTransfer, ID: "tr-1"},
		{Kind: inventory.DocOrder, ID: "web-2"}, {Kind: inventory.DocOrder, ID: "web-3"},
	}
	if !slices.Equal(r.Docs, wantDocs) {
		t.Errorf("docs %v, want %v", r.Docs, wantDocs)
	}
	if want := []string{"sale-0"}; !slices.Equal(r.Targets, want) {
		t.Errorf("targets %v, want %v", r.Targets, want)
	}
	if want := []string{"sale", "ret", "sale-0"}; !slices.Equal(r.VoidMarks, want) {
		t.Errorf("void marks %v, want %v", r.VoidMarks, want)
	}
}
