package bench

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// zone is the IANA zone of every benchmark store.
const zone = "Europe/Berlin"

// catalog is what a workload sells: SKUs with shelf prices, at locations.
type catalog struct {
	skus      []string
	prices    []int64 // minor units, by SKU index
	locations []string
}

func newCatalog(skus, locations int) *catalog {
	c := &catalog{}
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // simulation, not security
	for i := range skus {
		c.skus = append(c.skus, fmt.Sprintf("SKU-%06d", i+1))
		c.prices = append(c.prices, 99+rng.Int64N(150)*100) // 0.99 … 149.99
	}
	for i := range locations {
		c.locations = append(c.locations, fmt.Sprintf("store-%03d", i+1))
	}
	return c
}

// seedUnits is what every SKU is stocked with before a run: enough that no
// sale in any run takes a position below zero, so every sale changes
// available-to-promise.
const seedUnits = 1_000_000

// seedLines is how many lines one seeding receipt carries.
const seedLines = 100

// seed returns receipts that stock every SKU of the catalog at loc.
func (c *catalog) seed(prefix, loc string, at time.Time) []*event.Event {
	var out []*event.Event
	for start := 0; start < len(c.skus); start += seedLines {
		r := &event.Receipt{Supplier: "SUP-INITIAL", PurchaseOrder: fmt.Sprintf("PO-%s-%05d", loc, start/seedLines)}
		for _, sku := range c.skus[start:min(start+seedLines, len(c.skus))] {
			r.Lines = append(r.Lines, event.Line{SKU: sku, Quantity: event.Units(seedUnits)})
		}
		id := fmt.Sprintf("%s-%s-%05d", prefix, loc, start/seedLines)
		out = append(out, envelope(id, loc, at, r))
	}
	return out
}

func envelope(id, loc string, at time.Time, body event.Body) *event.Event {
	return &event.Event{ID: id, Type: body.Type(), Location: loc, Source: "pos", OccurredAt: at, Zone: zone, Body: body}
}

// generator draws realistic retail events over a catalog: mostly sales of
// one to three lines, some supplier receipts, a few stock adjustments, with
// popular SKUs selling more often than the long tail.
type generator struct {
	cat  *catalog
	rng  *rand.Rand
	zipf *rand.Zipf
}

func newGenerator(cat *catalog, seed uint64) *generator {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // simulation, not security
	return &generator{cat: cat, rng: rng, zipf: rand.NewZipf(rng, 1.2, 10, uint64(max(len(cat.skus)-1, 0)))}
}

// next draws an event: 85 % sales, 7 % receipts, 8 % adjustments.
func (g *generator) next(id, loc string, at time.Time) *event.Event {
	switch n := g.rng.IntN(100); {
	case n < 85:
		return g.sale(id, loc, at)
	case n < 92:
		return g.receipt(id, loc, at)
	default:
		return g.adjustment(id, loc, at)
	}
}

// skus draws n distinct SKU indexes.
func (g *generator) skus(n int) []int {
	out := make([]int, 0, n)
	for len(out) < n {
		i := int(g.zipf.Uint64()) //nolint:gosec // G115: below len(skus), an int
		dup := false
		for _, j := range out {
			dup = dup || i == j
		}
		if !dup {
			out = append(out, i)
		}
	}
	return out
}

func (g *generator) sale(id, loc string, at time.Time) *event.Event {
	lines := 1
	switch n := g.rng.IntN(100); {
	case n >= 75:
		lines = 3
	case n >= 40:
		lines = 2
	}
	s := &event.Sale{
		ReceiptNumber: fmt.Sprintf("R%d-%06d", 1+g.rng.IntN(8), g.rng.IntN(1_000_000)),
		Register:      fmt.Sprintf("till-%d", 1+g.rng.IntN(8)),
		Cashier:       fmt.Sprintf("emp-%03d", 1+g.rng.IntN(40)),
		Currency:      "EUR",
	}
	var total int64
	for _, i := range g.skus(lines) {
		units := int64(1)
		switch n := g.rng.IntN(100); {
		case n >= 95:
			units = 3
		case n >= 80:
			units = 2
		}
		s.Lines = append(s.Lines, event.SaleLine{SKU: g.cat.skus[i], Quantity: event.Units(units), UnitPrice: event.Amount(g.cat.prices[i])})
		total += units * g.cat.prices[i]
	}
	if g.rng.IntN(10) < 7 {
		brand := "visa"
		if g.rng.IntN(2) == 0 {
			brand = "mastercard"
		}
		s.Tenders = []event.Tender{{Kind: event.TenderCard, Amount: event.Amount(total),
			Card: &event.Card{Brand: brand, Last4: fmt.Sprintf("%04d", g.rng.IntN(10000)), Entry: "contactless"}}}
	} else {
		s.Tenders = []event.Tender{{Kind: event.TenderCash, Amount: event.Amount(total)}}
	}
	return envelope(id, loc, at, s)
}

func (g *generator) receipt(id, loc string, at time.Time) *event.Event {
	r := &event.Receipt{
		Supplier:      fmt.Sprintf("SUP-%03d", 1+g.rng.IntN(60)),
		PurchaseOrder: fmt.Sprintf("PO-%07d", g.rng.IntN(10_000_000)),
	}
	for _, i := range g.skus(2 + g.rng.IntN(7)) {
		r.Lines = append(r.Lines, event.Line{SKU: g.cat.skus[i], Quantity: event.Units(int64(6 * (1 + g.rng.IntN(8))))})
	}
	return envelope(id, loc, at, r)
}

func (g *generator) adjustment(id, loc string, at time.Time) *event.Event {
	reasons := []struct {
		reason string
		sign   int64
	}{{"damaged", -1}, {"theft", -1}, {"expired", -1}, {"found", 1}, {"correction", 1}, {"correction", -1}}
	rs := reasons[g.rng.IntN(len(reasons))]
	a := &event.Adjustment{Reason: rs.reason}
	for _, i := range g.skus(1 + g.rng.IntN(2)) {
		a.Lines = append(a.Lines, event.Line{SKU: g.cat.skus[i], Quantity: event.Units(rs.sign * int64(1+g.rng.IntN(2)))})
	}
	return envelope(id, loc, at, a)
}

// idDigits is the width of the counter that ends every generated event ID.
const idDigits = 10

// template is one encoded event whose ID counter can be rewritten in place,
// so a client can send a stream of distinct events without encoding JSON
// while it is being measured.
type template struct {
	json []byte
	idAt int // offset of the counter digits in json
	ev   *event.Event
	fp   string // hex fingerprint; IDs are not part of it
}

// stream hands out events with unique IDs (prefix + counter) at one
// location, cycling through a pool of templates.
type stream struct {
	prefix string
	loc    string
	pool   []template
}

// draw makes one event of a generator's choosing: (*generator).next for
// the mix, (*generator).sale for sales only.
type draw func(g *generator, id, loc string, at time.Time) *event.Event

// newStream encodes n templates drawn from g. With stamped, each carries a
// received_at, as the hub stores it.
func newStream(g *generator, kind draw, prefix, loc string, n int, at time.Time, stamped bool) (*stream, error) {
	s := &stream{prefix: prefix, loc: loc, pool: make([]template, n)}
	placeholder := prefix + fmt.Sprintf("%0*d", idDigits, 0)
	for i := range s.pool {
		e := kind(g, placeholder, loc, at)
		if stamped {
			e.ReceivedAt = at
		}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("bench: encode generated event: %w", err)
		}
		at := bytes.Index(b, []byte(`"id":"`+placeholder+`"`))
		if at < 0 {
			return nil, fmt.Errorf("bench: generated event has no id field: %s", b)
		}
		fp := e.Fingerprint()
		s.pool[i] = template{json: b, idAt: at + len(`"id":"`) + len(prefix), ev: e, fp: hex.EncodeToString(fp[:])}
	}
	return s, nil
}

// appendEvent appends the JSON of event number n of the stream.
func (s *stream) appendEvent(dst []byte, n int64) []byte {
	t := &s.pool[n%int64(len(s.pool))]
	start := len(dst)
	dst = append(dst, t.json...)
	putDigits(dst[start+t.idAt:start+t.idAt+idDigits], n)
	return dst
}

// id returns the ID of event number n.
func (s *stream) id(n int64) string {
	b := make([]byte, idDigits)
	putDigits(b, n)
	return s.prefix + string(b)
}

// template returns the template event number n is drawn from.
func (s *stream) template(n int64) *template { return &s.pool[n%int64(len(s.pool))] }

func putDigits(dst []byte, n int64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// lineDeltas returns the stock movements an event makes, as the ledger
// derives them for the event kinds generated here: sales take stock,
// receipts add it, adjustments move it by their signed quantity.
func lineDeltas(e *event.Event) []lineDelta {
	var out []lineDelta
	switch b := e.Body.(type) {
	case *event.Sale:
		for _, l := range b.Lines {
			out = append(out, lineDelta{l.SKU, -int64(l.Quantity)})
		}
	case *event.Receipt:
		for _, l := range b.Lines {
			out = append(out, lineDelta{l.SKU, int64(l.Quantity)})
		}
	case *event.Adjustment:
		for _, l := range b.Lines {
			out = append(out, lineDelta{l.SKU, int64(l.Quantity)})
		}
	}
	return out
}

type lineDelta struct {
	sku   string
	delta int64
}

// batchBody wraps encoded events as the body of POST /v1/events.
func batchBody(dst []byte, events func(dst []byte, i int) []byte, n int, edgeID string) []byte {
	dst = append(dst, `{"events":[`...)
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = events(dst, i)
	}
	dst = append(dst, ']')
	if edgeID != "" {
		dst = append(dst, `,"edge":{"id":"`...)
		dst = append(dst, edgeID...)
		dst = append(dst, `","backlog":0}`...)
	}
	return append(dst, '}')
}

// encodeBatch is batchBody for events already built.
func encodeBatch(events []*event.Event) ([]byte, error) {
	raws := make([][]byte, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("bench: encode event %s: %w", e.ID, err)
		}
		raws[i] = b
	}
	return batchBody(nil, func(dst []byte, i int) []byte { return append(dst, raws[i]...) }, len(raws), ""), nil
}
