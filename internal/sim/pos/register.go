package pos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// Ack is what a register learns when its edge acknowledges an event.
type Ack struct {
	Event  *event.Event
	Status intake.Status
	At     time.Time
	// Error is the edge's reason for a rejection.
	Error *intake.Error
}

// Register is one till. Use NewRegister; Run posts traffic until its context
// ends.
type Register struct {
	Store, ID, Zone string
	// URL is the edge's base URL.
	URL     string
	Client  *http.Client
	Catalog *Catalog
	// Rate is events per second.
	Rate float64
	// OnAck is called for every acknowledged (or rejected) event.
	OnAck func(Ack)
	// Peers are other stores this register's store may transfer stock to;
	// TransferIn arrives through Transfers.
	Peers     []string
	Transfers chan<- *event.Event

	rng *rand.Rand
	n   int
	// LeakRate is the share of sales sent with card data in them (test
	// numbers), to prove redaction; Leaked counts them.
	LeakRate float64
	Leaked   int
	mu       sync.Mutex
	recent   []*event.Event // recent sales, for returns and voids
}

// NewRegister returns a register with its own deterministic random stream.
func NewRegister(store, id, zone, url string, client *http.Client, c *Catalog, rate float64, seed uint64) *Register {
	return &Register{Store: store, ID: id, Zone: zone, URL: url, Client: client, Catalog: c, Rate: rate,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} //nolint:gosec // simulation, not security
}

// Run posts events at the register's rate until ctx ends. Each request is
// retried with the same event IDs until the edge answers, as a real till
// does with its journal.
func (r *Register) Run(ctx context.Context) {
	interval := time.Duration(float64(time.Second) / r.Rate)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e := r.Next(time.Now())
		r.Post(ctx, []*event.Event{e})
	}
}

// Post sends events to the edge until it answers (or ctx ends).
func (r *Register) Post(ctx context.Context, evs []*event.Event) {
	body, _ := json.Marshal(map[string]any{"events": evs})
	for attempt := 0; ctx.Err() == nil; attempt++ {
		resp, err := r.post(ctx, body)
		if err == nil {
			now := time.Now()
			for _, res := range resp.Results {
				if res.Index >= 0 && res.Index < len(evs) && r.OnAck != nil {
					r.OnAck(Ack{Event: evs[res.Index], Status: res.Status, At: now, Error: res.Error})
				}
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*50*time.Millisecond, time.Second)):
		}
	}
}

func (r *Register) post(ctx context.Context, body []byte) (*intake.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("edge answered %s: %s", resp.Status, b)
	}
	var out intake.Response
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *Register) id(kind string) string {
	r.n++
	return fmt.Sprintf("%s-%s-%s-%06d", r.Store, r.ID, kind, r.n)
}

func (r *Register) envelope(kind string, t event.Type, at time.Time, body event.Body) *event.Event {
	return &event.Event{ID: r.id(kind), Type: t, Location: r.Store, Source: "pos", OccurredAt: at.UTC(), Zone: r.Zone, Body: body}
}

// Next makes the register's next event, in a realistic mix.
func (r *Register) Next(at time.Time) *event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.rng.IntN(1000)
	switch {
	case n < 40 && len(r.recent) > 0:
		return r.returnOf(at)
	case n < 65 && len(r.recent) > 0:
		return r.void(at)
	case n < 90:
		return r.adjust(at)
	case n < 110:
		return r.receive(at)
	case n < 125:
		return r.drawer(at)
	case n < 135 && len(r.Peers) > 0 && r.Transfers != nil:
		return r.transfer(at)
	}
	return r.sale(at)
}

var reasons = []string{"mgr ovrd dmgd box 15%", "staff disc", "price match", "loyalty 10%", "bundle 3for2"}

func (r *Register) sale(at time.Time) *event.Event {
	s := &event.Sale{Currency: "EUR", Register: r.ID, Cashier: fmt.Sprintf("c%02d", 1+r.rng.IntN(12))}
	lines := 1 + r.rng.IntN(3)
	var total int64
	seen := map[string]bool{}
	for i := 0; i < lines; i++ {
		it := r.Catalog.Pick(r.rng)
		if seen[it.SKU] {
			continue
		}
		seen[it.SKU] = true
		ln := event.SaleLine{LineID: fmt.Sprint(i + 1), SKU: it.SKU, Quantity: event.Units(1), UnitPrice: event.Amount(it.Price)}
		if it.Weighed {
			ln.Quantity = event.Qty(150 + r.rng.IntN(900)) // 0.150–1.049 kg
		} else if r.rng.IntN(10) == 0 {
			ln.Quantity = event.Units(2)
		}
		ext, _ := ln.Extended()
		if r.rng.IntN(12) == 0 {
			d := ext / 10
			ln.Discounts = []event.Discount{{Amount: event.Amount(d), Reason: reasons[r.rng.IntN(len(reasons))]}}
			ext -= d
		}
		// German VAT, included in the price: 19/119 of the line.
		ln.Taxes = []event.Tax{{Code: "DE-VAT-19", RateBP: 1900, Amount: event.Amount(ext * 19 / 119), Included: true}}
		s.Lines = append(s.Lines, ln)
		total += ext
	}
	switch k := r.rng.IntN(10); {
	case k < 6:
		tip := int64(0)
		if r.rng.IntN(20) == 0 {
			tip = 100
		}
		s.Tenders = []event.Tender{{Kind: event.TenderCard, Amount: event.Amount(total), Tip: event.Amount(tip),
			Card: &event.Card{Brand: "visa", Last4: fmt.Sprintf("%04d", r.rng.IntN(10000)), AuthCode: fmt.Sprintf("A%05d", r.rng.IntN(100000)), Entry: "contactless"}}}
	case k < 9:
		s.Tenders = []event.Tender{{Kind: event.TenderCash, Amount: event.Amount(total)}}
	default: // split: gift card first, rest by card
		gift := min(total, 2000)
		s.Tenders = []event.Tender{{Kind: event.TenderGiftCard, Amount: event.Amount(gift), Reference: fmt.Sprintf("GC-%06d", r.rng.IntN(1000000))}}
		if total > gift {
			s.Tenders = append(s.Tenders, event.Tender{Kind: event.TenderCard, Amount: event.Amount(total - gift), Card: &event.Card{Brand: "mastercard", Last4: "5454"}})
		}
	}
	r.leak(s)
	e := r.envelope("sale", event.TypeSale, at, s)
	s.ReceiptNumber = e.ID
	r.recent = append(r.recent, e)
	if len(r.recent) > 50 {
		r.recent = r.recent[1:]
	}
	return e
}

// takeRecent removes and returns a random recent sale.
func (r *Register) takeRecent() *event.Event {
	i := r.rng.IntN(len(r.recent))
	e := r.recent[i]
	r.recent = append(r.recent[:i], r.recent[i+1:]...)
	return e
}

func (r *Register) returnOf(at time.Time) *event.Event {
	orig := r.takeRecent()
	s := orig.Body.(*event.Sale)
	ln := s.Lines[0]
	ln.Discounts, ln.Taxes = nil, nil
	restock := r.rng.IntN(5) != 0 // one in five comes back damaged
	ln.Restock = &restock
	ext, _ := ln.Extended()
	ret := &event.Return{OriginalEventID: orig.ID, OriginalReceipt: s.ReceiptNumber, Currency: "EUR", Register: r.ID,
		Lines: []event.SaleLine{ln}, Tenders: []event.Tender{{Kind: event.TenderCash, Amount: event.Amount(ext)}}, Reason: "changed mind"}
	return r.envelope("return", event.TypeReturn, at, ret)
}

func (r *Register) void(at time.Time) *event.Event {
	orig := r.takeRecent()
	return r.envelope("void", event.TypeVoid, at, &event.Void{VoidedEventID: orig.ID, Register: r.ID, Reason: "customer cancelled"})
}

func (r *Register) adjust(at time.Time) *event.Event {
	it := r.Catalog.Pick(r.rng)
	q, why := event.Units(-1), "damaged"
	if r.rng.IntN(3) == 0 {
		q, why = event.Units(1), "found"
	}
	if it.Weighed {
		q /= 10
	}
	return r.envelope("adj", event.TypeAdjustment, at, &event.Adjustment{Reason: why, Lines: []event.Line{{SKU: it.SKU, Quantity: q}}})
}

func (r *Register) receive(at time.Time) *event.Event {
	rc := &event.Receipt{Supplier: "central-dc", PurchaseOrder: fmt.Sprintf("PO-%06d", r.rng.IntN(1000000))}
	for i := 0; i < 1+r.rng.IntN(4); i++ {
		it := r.Catalog.Pick(r.rng)
		q := event.Units(int64(2 + r.rng.IntN(10)))
		if it.Scarce {
			q = event.Units(1)
		}
		if it.Weighed {
			q = event.Units(5)
		}
		rc.Lines = append(rc.Lines, event.Line{SKU: it.SKU, Quantity: q})
	}
	return r.envelope("rcv", event.TypeReceipt, at, rc)
}

func (r *Register) drawer(at time.Time) *event.Event {
	return r.envelope("drawer", event.TypeDrawerCount, at, &event.DrawerCount{Register: r.ID, Currency: "EUR",
		Counted: event.Amount(20000 + r.rng.IntN(300000))})
}

func (r *Register) transfer(at time.Time) *event.Event {
	to := r.Peers[r.rng.IntN(len(r.Peers))]
	it := r.Catalog.Pick(r.rng)
	for it.Weighed {
		it = r.Catalog.Pick(r.rng)
	}
	id := r.id("xfer")
	out := r.envelope("xout", event.TypeTransferOut, at, &event.TransferOut{TransferID: id, ToLocation: to, Lines: []event.Line{{SKU: it.SKU, Quantity: event.Units(1)}}})
	in := &event.Event{ID: id + "-in", Type: event.TypeTransferIn, Location: to, Source: "pos", Zone: r.Zone,
		Body: &event.TransferIn{TransferID: id, FromLocation: r.Store, Lines: []event.Line{{SKU: it.SKU, Quantity: event.Units(1)}}}}
	select {
	case r.Transfers <- in:
	default: // the receiving side is busy: the transfer stays in transit
	}
	return out
}

// Test card data as tills leak it in real life: a cashier typing the card
// into the notes, a terminal putting track 2 into the tender reference, a
// refund note with the number. PCI test numbers only. Redaction at the
// first hop must remove every one.
var leaks = []func(s *event.Sale){
	func(s *event.Sale) { s.Notes = "cust paid w/ card 4111 1111 1111 1111 exp 12/28 cvv 123" },
	func(s *event.Sale) {
		if len(s.Tenders) > 0 {
			s.Tenders[0].Reference = ";5555555555554444=28121010000000000000?"
		}
	},
	func(s *event.Sale) { s.Lines[0].Description = "refund to 3782-822463-10005 if faulty" },
	func(s *event.Sale) { s.Notes = "manual entry: %B4012888888881881^DOE/JANE^2812101000000000?" },
}

func (r *Register) leak(s *event.Sale) {
	if r.LeakRate <= 0 || r.rng.Float64() >= r.LeakRate {
		return
	}
	leaks[r.rng.IntN(len(leaks))](s)
	r.Leaked++
}
