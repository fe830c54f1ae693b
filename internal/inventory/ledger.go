package inventory

import (
	"fmt"
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Key identifies one SKU at one location.
type Key struct {
	SKU      string
	Location string
}

// Position is the ledger state of one SKU at one location.
type Position struct {
	// CountQty and CountAt are the newest stock count; CountAt is zero when
	// the SKU was never counted here. CountEvent breaks ties between counts
	// with the same time.
	CountQty   event.Qty
	CountAt    time.Time
	CountEvent string
	// Delta is the sum of movements after CountAt (all movements when never
	// counted).
	Delta event.Qty
	// Reserved is stock promised to open orders; InTransit is stock shipped
	// here from another location and not yet received.
	Reserved  event.Qty
	InTransit event.Qty
}

// OnHand is the physical stock: the last count plus movements since.
func (p Position) OnHand() event.Qty { return p.CountQty + p.Delta }

// Available is on hand minus reserved, before any channel's safety buffer. It
// may be negative when the location is oversold.
func (p Position) Available() event.Qty { return p.OnHand() - p.Reserved }

// Move is one signed stock movement caused by an event.
type Move struct {
	Seq     int64
	EventID string
	Key
	Delta event.Qty
	At    time.Time
}

// DocKind separates the two kinds of open document the ledger tracks. The
// store looks documents up by kind: a new kind must be added there too.
type DocKind string

// Document kinds.
const (
	DocOrder    DocKind = "order"    // online orders: open quantity is reserved
	DocTransfer DocKind = "transfer" // transfers: open quantity is in transit
)

// DocRef names an order or transfer.
type DocRef struct {
	Kind DocKind
	ID   string
}

// Doc is the state of an order or transfer. Its open quantity per SKU counts
// at Location (the order's fulfilling location, the transfer's destination)
// once Location is known.
type Doc struct {
	DocRef
	Location  string
	Channel   string
	Cancelled bool
	// Placed is set once the order or transfer-out itself has been applied;
	// before that only settlements (fulfilments, transfer-ins) are known.
	Placed bool
	// PlacedSeq is the log sequence of the event that placed it (0 before).
	PlacedSeq int64
	Lines     map[string]*DocLine // by SKU
}

// DocLine is one SKU of a document.
type DocLine struct {
	Ordered event.Qty
	Settled event.Qty
}

// Open is what is still reserved or in transit for the line.
func (d *Doc) Open(sku string) event.Qty {
	l := d.Lines[sku]
	if l == nil || d.Cancelled || d.Location == "" {
		return 0
	}
	if o := l.Ordered - l.Settled; o > 0 {
		return o
	}
	return 0
}

// VoidMark records that an event was voided, and whether the reversal has
// been applied (it waits when the void arrives before its target).
type VoidMark struct {
	TargetID string
	VoidID   string
	At       time.Time
	Applied  bool
}

// OversellKind says how an oversell was detected.
type OversellKind string

// Oversell kinds.
const (
	// OversellOrder: an online order asked for more than was available.
	OversellOrder OversellKind = "order_unreservable"
	// OversellSale: a store sale took stock already promised to orders.
	OversellSale OversellKind = "sale_over_reserved"
)

// Oversell is the evidence of stock promised twice.
type Oversell struct {
	EventID   string       `json:"event_id"`
	Kind      OversellKind `json:"kind"`
	SKU       string       `json:"sku"`
	Location  string       `json:"location"`
	OrderID   string       `json:"order_id,omitempty"`
	Requested event.Qty    `json:"requested"`
	OnHand    event.Qty    `json:"on_hand"`
	Reserved  event.Qty    `json:"reserved"`
	At        time.Time    `json:"at"`
}

// Changes is what one Apply wrote: the store persists exactly these.
type Changes struct {
	Moves     []Move
	Positions map[Key]Position
	Docs      map[DocRef]*Doc
	Voids     map[string]VoidMark
	Oversells []Oversell
}

// Keys returns the changed positions' keys in a stable order.
func (c *Changes) Keys() []Key {
	keys := make([]Key, 0, len(c.Positions))
	for k := range c.Positions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].SKU != keys[j].SKU {
			return keys[i].SKU < keys[j].SKU
		}
		return keys[i].Location < keys[j].Location
	})
	return keys
}

// KeyTime is a stock count's key and time: the store answers, for each, the
// sum of recorded movements strictly after that time.
type KeyTime struct {
	Key
	At time.Time
}

// Ledger applies events to positions. A full ledger (NewMemory) holds
// everything; a partial ledger (NewPartial) holds what a store loaded for one
// batch and fails loudly if Apply reaches for anything else.
type Ledger struct {
	full      bool
	positions map[Key]*Position
	docs      map[DocRef]*Doc
	voids     map[string]*VoidMark
	targets   map[string]*event.Event // sales and returns that voids may reverse
	// moves holds every movement in a full ledger; in a partial one only
	// those made since the last Reset, with movesAfter holding the stored sum.
	moves      map[Key][]Move
	movesAfter map[KeyTime]event.Qty

	out *Changes
}

// NewMemory returns an empty full ledger, for rebuilding from the log, for
// the edge's offline view and for tests.
func NewMemory() *Ledger {
	l := newLedger()
	l.full = true
	return l
}

// NewPartial returns an empty partial ledger for the store to load into.
func NewPartial() *Ledger { return newLedger() }

func newLedger() *Ledger {
	return &Ledger{
		positions:  map[Key]*Position{},
		docs:       map[DocRef]*Doc{},
		voids:      map[string]*VoidMark{},
		targets:    map[string]*event.Event{},
		moves:      map[Key][]Move{},
		movesAfter: map[KeyTime]event.Qty{},
	}
}

// LoadPosition puts a stored position (or the zero Position for a key not
// yet stored) into a partial ledger.
func (l *Ledger) LoadPosition(k Key, p Position) { l.positions[k] = &p }

// NewDoc returns an empty document, as a loader records one not yet stored.
func NewDoc(r DocRef) *Doc { return &Doc{DocRef: r, Lines: map[string]*DocLine{}} }

// LoadDoc puts a stored document (or NewDoc for one not yet stored) into a
// partial ledger.
func (l *Ledger) LoadDoc(d *Doc) { l.docs[d.DocRef] = d }

// LoadVoid puts a stored void mark into a partial ledger.
func (l *Ledger) LoadVoid(m VoidMark) { l.voids[m.TargetID] = &m }

// LoadTarget puts a stored sale or return (a void's target) into the ledger.
func (l *Ledger) LoadTarget(e *event.Event) { l.targets[e.ID] = e }

// LoadMovesAfter records the stored sum of movements for k after t.
func (l *Ledger) LoadMovesAfter(kt KeyTime, sum event.Qty) { l.movesAfter[kt] = sum }

// Position returns the position of a key (zero if unknown).
func (l *Ledger) Position(k Key) Position {
	if p := l.positions[k]; p != nil {
		return *p
	}
	return Position{}
}

// Positions calls f for every position the ledger holds.
func (l *Ledger) Positions(f func(Key, Position)) {
	for k, p := range l.positions {
		f(k, *p)
	}
}

// Doc returns a document's state, or nil.
func (l *Ledger) Doc(r DocRef) *Doc { return l.docs[r] }

// Applied is one event with its log sequence number.
type Applied struct {
	Seq   int64
	Event *event.Event
}

// Apply applies new events (already deduplicated) and returns what changed.
func (l *Ledger) Apply(events []Applied) (*Changes, error) {
	l.out = &Changes{Positions: map[Key]Position{}, Docs: map[DocRef]*Doc{}, Voids: map[string]VoidMark{}}
	if !l.full {
		l.moves = map[Key][]Move{}
	}
	for _, a := range events {
		if err := l.apply(a.Seq, a.Event); err != nil {
			return nil, fmt.Errorf("ledger: event %s: %w", a.Event.ID, err)
		}
	}
	out := l.out
	l.out = nil
	return out, nil
}

// errNotLoaded reports a partial ledger reaching for state its loader did not
// fetch: a bug in Touched, never a data problem.
type errNotLoaded struct{ what string }

func (e errNotLoaded) Error() string { return "ledger state not loaded: " + e.what }

func (l *Ledger) pos(k Key) (*Position, error) {
	p := l.positions[k]
	if p == nil {
		if !l.full {
			return nil, errNotLoaded{fmt.Sprintf("position %s@%s", k.SKU, k.Location)}
		}
		p = &Position{}
		l.positions[k] = p
	}
	return p, nil
}

func (l *Ledger) dirty(k Key, p *Position) { l.out.Positions[k] = *p }

func (l *Ledger) doc(r DocRef) (*Doc, error) {
	d := l.docs[r]
	if d == nil {
		if !l.full {
			return nil, errNotLoaded{fmt.Sprintf("%s %s", r.Kind, r.ID)}
		}
		d = NewDoc(r)
		l.docs[r] = d
	}
	return d, nil
}

// Diff compares a ledger's positions with another set (from storage, or from
// a ledger built in another order) and describes each difference in on
// hand, reserved or in transit. Count anchors are compared by their effect.
func Diff(l *Ledger, other map[Key]Position) []string {
	var out []string
	seen := map[Key]bool{}
	cmp := func(k Key, a, b Position) {
		if a.OnHand() != b.OnHand() || a.Reserved != b.Reserved || a.InTransit != b.InTransit {
			out = append(out, fmt.Sprintf("%s@%s: on_hand %s vs %s, reserved %s vs %s, in_transit %s vs %s",
				k.SKU, k.Location, a.OnHand(), b.OnHand(), a.Reserved, b.Reserved, a.InTransit, b.InTransit))
		}
	}
	for k, p := range l.positions {
		seen[k] = true
		cmp(k, *p, other[k])
	}
	for k, p := range other {
		if !seen[k] {
			cmp(k, Position{}, p)
		}
	}
	sort.Strings(out)
	return out
}
