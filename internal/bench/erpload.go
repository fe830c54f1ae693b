package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// erpLoad draws a store day for an ERP destination: till sales (with the
// VAT the till charged, included in the price), returns and post-voids of
// recent sales, and — for detail postings — stock adjustments and goods
// received. Every event becomes exactly one ERP document, and every
// document one NetSuite request (no transfers or web orders, which take
// several), so documents per second is requests per second.
//
// Event IDs follow three POS styles, one per store, and two of them hold
// characters NetSuite does not take in an external ID (":" and "/"), so
// the connector's rewriting of IDs is part of what is checked.
type erpLoad struct {
	g     *generator
	stock bool // adjustments and receipts too (detail), or money only (summary)
	seq   map[string]int
	// recent are sales a return or void may still refer to, by location.
	recent map[string][]*event.Event
}

func newERPLoad(cat *catalog, seed uint64, stock bool) *erpLoad {
	return &erpLoad{g: newGenerator(cat, seed), stock: stock, seq: map[string]int{}, recent: map[string][]*event.Event{}}
}

// vatBP is the German standard VAT rate the benchmark's tills charge.
const vatBP = 1900

// id returns the next event ID of a store, in its POS's style.
func (l *erpLoad) id(loc string) string {
	l.seq[loc]++
	n := l.seq[loc]
	switch l.g.cat.indexOf(loc) % 3 {
	case 0:
		return fmt.Sprintf("%s:R%d:%07d", loc, 1+n%8, n) // register-scoped receipt numbers
	case 1:
		return fmt.Sprintf("%s-%07d", loc, n) // already a valid NetSuite external ID
	default:
		return fmt.Sprintf("pos/%s/%07d", loc, n)
	}
}

// next draws one event at loc. Detail mix: 82 % sales, 6 % returns, 4 %
// voids, 5 % adjustments, 3 % receipts; summary mix: 90 % sales (the
// stock share too), 6 % returns, 4 % voids. A return or void needs a recent sale at loc; without
// one it is a sale.
func (l *erpLoad) next(loc string, at time.Time) *event.Event {
	switch n := l.g.rng.IntN(100); {
	case n >= 82 && n < 88 && len(l.recent[loc]) > 0:
		return l.refund(loc, at)
	case n >= 88 && n < 92 && len(l.recent[loc]) > 0:
		return l.void(loc, at)
	case l.stock && n >= 92 && n < 97:
		return l.g.adjustment(l.id(loc), loc, at)
	case l.stock && n >= 97:
		return l.g.receipt(l.id(loc), loc, at)
	}
	return l.sale(loc, at)
}

// sale is a till sale whose lines carry the VAT included in their price.
func (l *erpLoad) sale(loc string, at time.Time) *event.Event {
	e := l.g.sale(l.id(loc), loc, at)
	s := e.Body.(*event.Sale)
	for i := range s.Lines {
		ext, _ := s.Lines[i].Extended()
		s.Lines[i].Taxes = []event.Tax{{Code: "DE-VAT-19", RateBP: vatBP, Amount: event.Amount(includedVAT(ext)), Included: true}}
	}
	const keep = 200
	l.recent[loc] = append(l.recent[loc], e)
	if len(l.recent[loc]) > keep {
		l.recent[loc] = l.recent[loc][1:]
	}
	return e
}

// includedVAT is the VAT inside a gross amount, rounded half up.
func includedVAT(gross int64) int64 { return (gross*vatBP + (10000+vatBP)/2) / (10000 + vatBP) }

// take removes and returns a random recent sale at loc: a sale is
// returned or voided at most once.
func (l *erpLoad) take(loc string) *event.Event {
	rs := l.recent[loc]
	i := l.g.rng.IntN(len(rs))
	e := rs[i]
	l.recent[loc] = append(rs[:i:i], rs[i+1:]...)
	return e
}

// refund returns one unit of a recent sale's first line, paid back the way
// the sale was paid.
func (l *erpLoad) refund(loc string, at time.Time) *event.Event {
	orig := l.take(loc)
	s := orig.Body.(*event.Sale)
	line := s.Lines[0]
	line.Quantity = event.Units(1)
	gross := int64(line.UnitPrice)
	line.Taxes = []event.Tax{{Code: "DE-VAT-19", RateBP: vatBP, Amount: event.Amount(includedVAT(gross)), Included: true}}
	tender := event.Tender{Kind: s.Tenders[0].Kind, Amount: event.Amount(gross), Card: s.Tenders[0].Card}
	reasons := []string{"changed mind", "defective", "wrong size"}
	r := &event.Return{OriginalEventID: orig.ID, OriginalReceipt: s.ReceiptNumber, ReceiptNumber: fmt.Sprintf("RT-%06d", l.g.rng.IntN(1_000_000)),
		Register: s.Register, Cashier: s.Cashier, Currency: s.Currency, Lines: []event.SaleLine{line}, Tenders: []event.Tender{tender},
		Reason: reasons[l.g.rng.IntN(len(reasons))]}
	return envelope(l.id(loc), loc, at, r)
}

// void cancels a recent sale in full (a post-void).
func (l *erpLoad) void(loc string, at time.Time) *event.Event {
	orig := l.take(loc)
	s := orig.Body.(*event.Sale)
	return envelope(l.id(loc), loc, at, &event.Void{VoidedEventID: orig.ID, Register: s.Register, Cashier: s.Cashier, Reason: "cashier error"})
}

// indexOf returns a location's index in the catalog (0 if unknown).
func (c *catalog) indexOf(loc string) int {
	for i, l := range c.locations {
		if l == loc {
			return i
		}
	}
	return 0
}

// detailBacklog draws n events spread over the hour before now, round the
// catalog's stores.
func detailBacklog(cat *catalog, n int, now time.Time) ([]*event.Event, error) {
	l := newERPLoad(cat, 7, true)
	start := now.Add(-time.Hour)
	step := time.Hour / time.Duration(max(n, 1))
	out := make([]*event.Event, 0, n)
	for i := range n {
		out = append(out, l.next(cat.locations[i%len(cat.locations)], start.Add(time.Duration(i)*step)))
	}
	return out, validate(out)
}

// summaryBacklog draws n till events (sales, returns, voids) on the day
// before now, over hours of opening from 09:00 store time, round the
// catalog's stores: every period they fall in has closed.
func summaryBacklog(cat *catalog, n, hours int, now time.Time) ([]*event.Event, error) {
	zoneLoc, err := event.LoadZone(zone)
	if err != nil {
		return nil, err
	}
	y := now.In(zoneLoc).AddDate(0, 0, -1)
	open := time.Date(y.Year(), y.Month(), y.Day(), 9, 0, 0, 0, zoneLoc)
	span := time.Duration(hours) * time.Hour
	step := span / time.Duration(max(n, 1))
	l := newERPLoad(cat, 11, false)
	out := make([]*event.Event, 0, n)
	for i := range n {
		out = append(out, l.next(cat.locations[i%len(cat.locations)], open.Add(time.Duration(i)*step).UTC()))
	}
	return out, validate(out)
}

func validate(evs []*event.Event) error {
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("bench: generated event %s: %w", e.ID, err)
		}
	}
	return nil
}

// netsuiteID is the external ID the NetSuite connector files a document
// under (its externalID): an ID of letters, digits, "_" and "-" as it is;
// any other keeps those, turns the rest into "-" and gets a hash of the
// original appended. A wrong copy here shows as documents lost.
func netsuiteID(id string) string {
	safe := id != ""
	b := []byte(id)
	for i, c := range b {
		if !netsuiteIDChar(c) {
			safe = false
			b[i] = '-'
		}
	}
	if safe {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return string(b) + "-x" + hex.EncodeToString(sum[:8])
}

func netsuiteIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}
