package inventory

import (
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

func (l *Ledger) apply(seq int64, e *event.Event) error {
	switch b := e.Body.(type) {
	case *event.Sale:
		if err := l.sale(seq, e, b); err != nil {
			return err
		}
		return l.settleVoid(seq, e)
	case *event.Return:
		for _, ln := range b.Lines {
			if ln.Restock == nil || *ln.Restock {
				if err := l.move(seq, e, Key{ln.SKU, e.Location}, ln.Quantity, e.OccurredAt); err != nil {
					return err
				}
			}
		}
		return l.settleVoid(seq, e)
	case *event.Void:
		return l.void(seq, e, b)
	case *event.Adjustment:
		return l.lines(seq, e, b.Lines, 1)
	case *event.Receipt:
		return l.lines(seq, e, b.Lines, 1)
	case *event.TransferOut:
		if err := l.lines(seq, e, b.Lines, -1); err != nil {
			return err
		}
		return l.changeDoc(DocRef{DocTransfer, b.TransferID}, func(d *Doc) {
			d.Placed, d.Location = true, b.ToLocation
			if d.PlacedSeq == 0 {
				d.PlacedSeq = seq
			}
			for _, ln := range b.Lines {
				line(d, ln.SKU).Ordered += ln.Quantity
			}
		})
	case *event.TransferIn:
		if err := l.lines(seq, e, b.Lines, 1); err != nil {
			return err
		}
		return l.changeDoc(DocRef{DocTransfer, b.TransferID}, func(d *Doc) {
			if d.Location == "" {
				d.Location = e.Location
			}
			for _, ln := range b.Lines {
				line(d, ln.SKU).Settled += ln.Quantity
			}
		})
	case *event.StockCount:
		for _, ln := range b.Lines {
			if err := l.count(e, Key{ln.SKU, e.Location}, ln.Quantity); err != nil {
				return err
			}
		}
		return nil
	case *event.DrawerCount:
		return nil // cash, not stock
	case *event.OnlineOrder:
		return l.order(seq, e, b)
	case *event.Fulfilment:
		if err := l.lines(seq, e, b.Lines, -1); err != nil {
			return err
		}
		return l.changeDoc(DocRef{DocOrder, b.OrderID}, func(d *Doc) {
			for _, ln := range b.Lines {
				line(d, ln.SKU).Settled += ln.Quantity
			}
		})
	case *event.OrderCancel:
		return l.changeDoc(DocRef{DocOrder, b.OrderID}, func(d *Doc) { d.Cancelled = true })
	}
	return nil
}

func line(d *Doc, sku string) *DocLine {
	ln := d.Lines[sku]
	if ln == nil {
		ln = &DocLine{}
		d.Lines[sku] = ln
	}
	return ln
}

// lines moves every line by sign × quantity at the event's location and time.
func (l *Ledger) lines(seq int64, e *event.Event, lines []event.Line, sign event.Qty) error {
	for _, ln := range lines {
		if err := l.move(seq, e, Key{ln.SKU, e.Location}, sign*ln.Quantity, e.OccurredAt); err != nil {
			return err
		}
	}
	return nil
}

// move records a movement and applies it unless a newer count absorbs it.
func (l *Ledger) move(seq int64, e *event.Event, k Key, delta event.Qty, at time.Time) error {
	p, err := l.pos(k)
	if err != nil {
		return err
	}
	m := Move{Seq: seq, EventID: e.ID, Key: k, Delta: delta, At: at}
	l.moves[k] = append(l.moves[k], m)
	l.out.Moves = append(l.out.Moves, m)
	if p.CountAt.IsZero() || at.After(p.CountAt) {
		p.Delta += delta
		l.dirty(k, p)
	}
	return nil
}

// count anchors on-hand at the count's time if it is the newest count.
func (l *Ledger) count(e *event.Event, k Key, qty event.Qty) error {
	p, err := l.pos(k)
	if err != nil {
		return err
	}
	at := e.OccurredAt
	newer := p.CountAt.IsZero() || at.After(p.CountAt) || (at.Equal(p.CountAt) && e.ID > p.CountEvent)
	if !newer {
		return nil
	}
	after, err := l.sumAfter(k, at)
	if err != nil {
		return err
	}
	p.CountQty, p.CountAt, p.CountEvent, p.Delta = qty, at, e.ID, after
	l.dirty(k, p)
	return nil
}

// sumAfter is the sum of every movement of k strictly after t.
func (l *Ledger) sumAfter(k Key, t time.Time) (event.Qty, error) {
	var sum event.Qty
	if !l.full {
		stored, ok := l.movesAfter[KeyTime{k, t}]
		if !ok {
			return 0, errNotLoaded{"movements of " + k.SKU + "@" + k.Location + " after " + t.Format(time.RFC3339Nano)}
		}
		sum = stored
	}
	for _, m := range l.moves[k] {
		if m.At.After(t) {
			sum += m.Delta
		}
	}
	return sum, nil
}

func (l *Ledger) sale(seq int64, e *event.Event, s *event.Sale) error {
	before := map[Key]event.Qty{}
	for _, ln := range s.Lines {
		k := Key{ln.SKU, e.Location}
		p, err := l.pos(k)
		if err != nil {
			return err
		}
		if _, seen := before[k]; !seen {
			before[k] = p.Available()
		}
		if err := l.move(seq, e, k, -ln.Quantity, e.OccurredAt); err != nil {
			return err
		}
	}
	if s.OrderID != "" {
		// A till sale that settles an online order (click and collect)
		// releases the reservation as a fulfilment would.
		if err := l.changeDoc(DocRef{DocOrder, s.OrderID}, func(d *Doc) {
			for _, ln := range s.Lines {
				line(d, ln.SKU).Settled += ln.Quantity
			}
		}); err != nil {
			return err
		}
		return nil
	}
	for _, ln := range s.Lines {
		k := Key{ln.SKU, e.Location}
		b, ok := before[k]
		if !ok {
			continue
		}
		delete(before, k)
		p := l.positions[k]
		if p.Reserved > 0 && p.Available() < 0 && p.Available() < b {
			l.out.Oversells = append(l.out.Oversells, Oversell{
				EventID: e.ID, Kind: OversellSale, SKU: k.SKU, Location: k.Location,
				Requested: b - p.Available(), OnHand: p.OnHand(), Reserved: p.Reserved, At: e.OccurredAt,
			})
		}
	}
	return nil
}

func (l *Ledger) order(seq int64, e *event.Event, o *event.OnlineOrder) error {
	want := map[string]event.Qty{}
	var skus []string
	for _, ln := range o.Lines {
		if _, ok := want[ln.SKU]; !ok {
			skus = append(skus, ln.SKU)
		}
		want[ln.SKU] += ln.Quantity
	}
	for _, sku := range skus {
		k := Key{sku, e.Location}
		p, err := l.pos(k)
		if err != nil {
			return err
		}
		if avail := p.Available(); want[sku] > avail {
			l.out.Oversells = append(l.out.Oversells, Oversell{
				EventID: e.ID, Kind: OversellOrder, SKU: sku, Location: e.Location, OrderID: o.OrderID,
				Requested: want[sku], OnHand: p.OnHand(), Reserved: p.Reserved, At: e.OccurredAt,
			})
		}
	}
	return l.changeDoc(DocRef{DocOrder, o.OrderID}, func(d *Doc) {
		if d.Placed {
			return // an order is placed once; a second OnlineOrder for it changes nothing
		}
		d.Placed, d.Location, d.Channel, d.PlacedSeq = true, e.Location, o.Channel, seq
		for sku, q := range want {
			line(d, sku).Ordered = q
		}
	})
}

// changeDoc mutates a document and moves the difference in its open
// quantities into Reserved (orders) or InTransit (transfers).
func (l *Ledger) changeDoc(r DocRef, f func(*Doc)) error {
	d, err := l.doc(r)
	if err != nil {
		return err
	}
	before := openByKey(d)
	f(d)
	after := openByKey(d)
	for k, q := range after {
		before[k] -= q
	}
	for k, negDiff := range before {
		if negDiff == 0 {
			continue
		}
		p, err := l.pos(k)
		if err != nil {
			return err
		}
		if r.Kind == DocOrder {
			p.Reserved -= negDiff
		} else {
			p.InTransit -= negDiff
		}
		l.dirty(k, p)
	}
	l.out.Docs[r] = d
	return nil
}

func openByKey(d *Doc) map[Key]event.Qty {
	m := make(map[Key]event.Qty, len(d.Lines))
	for sku := range d.Lines {
		if q := d.Open(sku); q != 0 {
			m[Key{sku, d.Location}] = q
		}
	}
	return m
}

// void reverses its target now if the target is known, or marks it so the
// target is reversed when it arrives.
//
// A target is voided once. When several voids name it, the one that happened
// first (the smaller ID on a tie) wins whatever order they arrive in: a later
// void changes nothing, an earlier one moves the reversal to its own time.
// Which void wins matters when a stock count falls between them.
func (l *Ledger) void(seq int64, e *event.Event, v *event.Void) error {
	m := &VoidMark{TargetID: v.VoidedEventID, VoidID: e.ID, At: e.OccurredAt}
	old := l.voids[m.TargetID]
	if old != nil && !voidsFirst(m, old) {
		return nil
	}
	t := l.targets[m.TargetID]
	if old != nil && old.Applied {
		if t == nil {
			return errNotLoaded{"void target " + m.TargetID}
		}
		// Take back the reversal made at the losing void's time.
		if err := l.reverse(seq, e.ID, t, old.At, -1); err != nil {
			return err
		}
	}
	l.voids[m.TargetID] = m
	if t != nil {
		if err := l.reverse(seq, e.ID, t, m.At, 1); err != nil {
			return err
		}
		m.Applied = true
	}
	l.out.Voids[m.TargetID] = *m
	return nil
}

// voidsFirst reports whether void a takes precedence over void b.
func voidsFirst(a, b *VoidMark) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	return a.VoidID < b.VoidID
}

// settleVoid remembers a sale or return as a possible void target, and
// reverses it at once if its void came first.
func (l *Ledger) settleVoid(seq int64, e *event.Event) error {
	l.targets[e.ID] = e
	m := l.voids[e.ID]
	if m == nil || m.Applied {
		return nil
	}
	if err := l.reverse(seq, m.VoidID, e, m.At, 1); err != nil {
		return err
	}
	m.Applied = true
	l.out.Voids[m.TargetID] = *m
	return nil
}

// reverse undoes a sale's or return's movements at the void's time and
// location of the target; sign -1 takes such a reversal back.
func (l *Ledger) reverse(seq int64, voidID string, t *event.Event, at time.Time, sign event.Qty) error {
	ve := &event.Event{ID: voidID}
	switch b := t.Body.(type) {
	case *event.Sale:
		for _, ln := range b.Lines {
			if err := l.move(seq, ve, Key{ln.SKU, t.Location}, sign*ln.Quantity, at); err != nil {
				return err
			}
		}
	case *event.Return:
		for _, ln := range b.Lines {
			if ln.Restock == nil || *ln.Restock {
				if err := l.move(seq, ve, Key{ln.SKU, t.Location}, -sign*ln.Quantity, at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
