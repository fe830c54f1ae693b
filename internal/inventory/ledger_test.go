package inventory_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inventory"
)

// at is minute m after eventtest.Base.
func at(m int) time.Time { return et.Base.Add(time.Duration(m) * time.Minute) }

func u(n int64) event.Qty { return event.Units(n) }

// bundle is a memory ledger with a running log sequence.
type bundle struct {
	t   *testing.T
	l   *inventory.Ledger
	seq int64
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{t: t, l: inventory.NewMemory()}
}

// apply applies the events as one batch, checking each is valid first.
func (b *bundle) apply(evs ...*event.Event) *inventory.Changes {
	b.t.Helper()
	applied := make([]inventory.Applied, len(evs))
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			b.t.Fatalf("test event %s: %v", e.ID, err)
		}
		b.seq++
		applied[i] = inventory.Applied{Seq: b.seq, Event: e}
	}
	ch, err := b.l.Apply(applied)
	if err != nil {
		b.t.Fatalf("apply: %v", err)
	}
	return ch
}

// want checks on hand, reserved and in transit of sku at loc.
func (b *bundle) want(sku, loc string, onHand, reserved, inTransit int64) {
	b.t.Helper()
	p := b.l.Position(inventory.Key{SKU: sku, Location: loc})
	if p.OnHand() != u(onHand) || p.Reserved != u(reserved) || p.InTransit != u(inTransit) {
		b.t.Errorf("%s@%s: on_hand %s reserved %s in_transit %s, want %d %d %d",
			sku, loc, p.OnHand(), p.Reserved, p.InTransit, onHand, reserved, inTransit)
	}
}

// each runs f once per order of the events, each event in its own batch,
// so a test states the result it expects whatever the arrival order.
func each(t *testing.T, evs []*event.Event, f func(b *bundle)) {
	t.Helper()
	for _, order := range permutations(len(evs)) {
		name := fmt.Sprint(order)
		t.Run(name, func(t *testing.T) {
			b := setup(t)
			for _, i := range order {
				b.apply(evs[i])
			}
			f(b)
		})
	}
}

// permutations lists every order of n items (n ≤ 5 keeps it small).
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func restock(e *event.Event, flags ...bool) *event.Event {
	r := e.Body.(*event.Return)
	for i, f := range flags {
		r.Lines[i].Restock = &f
	}
	return e
}

// clickAndCollect makes a till sale settle web order web-1.
func clickAndCollect(e *event.Event) *event.Event {
	e.Body.(*event.Sale).OrderID = "web-1"
	return e
}

func TestSaleAndReturn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 10), et.L("B", 5)))
	b.apply(et.Sale("sale", "s1", at(1), et.L("A", 3), et.L("B", 1), et.L("A", 1)))
	b.want("A", "s1", 6, 0, 0)
	b.want("B", "s1", 4, 0, 0)
	b.want("A", "s2", 0, 0, 0)

	b.apply(et.Return("ret", "s1", at(2), "sale", et.L("A", 2)))
	b.want("A", "s1", 8, 0, 0)

	// Restock defaults to true; false leaves the item off the shelf.
	b.apply(restock(et.Return("ret2", "s1", at(3), "sale", et.L("A", 1), et.L("B", 1)), false, true))
	b.want("A", "s1", 8, 0, 0)
	b.want("B", "s1", 5, 0, 0)
}

func TestSaleMayGoNegative(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.apply(et.Sale("sale", "s1", at(1), et.L("A", 2)))
	b.want("A", "s1", -2, 0, 0)
	if len(ch.Oversells) != 0 {
		t.Errorf("oversells %+v: nothing was reserved", ch.Oversells)
	}
}

func TestFractionalQuantities(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := et.Receive("rcv", "s1", at(0), event.Line{SKU: "APL", Quantity: 5250})
	sale := et.Sale("sale", "s1", at(1), event.Line{SKU: "APL", Quantity: 1234})
	b.apply(rcv, sale)
	if got := b.l.Position(inventory.Key{SKU: "APL", Location: "s1"}).OnHand(); got != 4016 {
		t.Errorf("on hand %s, want 4.016", got)
	}
}

func TestVoid(t *testing.T) {
	t.Parallel()
	rcv := et.Receive("rcv", "s1", at(0), et.L("A", 10))
	sale := et.Sale("sale", "s1", at(1), et.L("A", 3))
	void := et.Void("void", "s1", at(2), "sale")

	t.Run("after or before its target", func(t *testing.T) {
		t.Parallel()
		each(t, []*event.Event{rcv, sale, void}, func(b *bundle) { b.want("A", "s1", 10, 0, 0) })
	})
	t.Run("twice", func(t *testing.T) {
		t.Parallel()
		again := et.Void("void-again", "s1", at(3), "sale")
		each(t, []*event.Event{rcv, sale, void, again}, func(b *bundle) { b.want("A", "s1", 10, 0, 0) })
	})
	t.Run("return", func(t *testing.T) {
		t.Parallel()
		ret := restock(et.Return("ret", "s1", at(1), "", et.L("A", 2), et.L("B", 1)), true, false)
		void := et.Void("void", "s1", at(2), "ret")
		each(t, []*event.Event{rcv, ret, void}, func(b *bundle) {
			b.want("A", "s1", 10, 0, 0)
			b.want("B", "s1", 0, 0, 0)
		})
	})
	t.Run("target never arrives", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ch := b.apply(rcv, void)
		b.want("A", "s1", 10, 0, 0)
		if m := ch.Voids["sale"]; m.VoidID != "void" || m.Applied {
			t.Errorf("void mark %+v, want an unapplied mark by void", m)
		}
		ch = b.apply(sale)
		b.want("A", "s1", 10, 0, 0)
		if m := ch.Voids["sale"]; !m.Applied {
			t.Errorf("void mark %+v, want it applied once the sale arrived", m)
		}
	})
	t.Run("reversal happens at the void's time", func(t *testing.T) {
		t.Parallel()
		// A count between the sale and the void absorbs the sale but not the
		// reversal: the reversal adds the 3 back on top of the count.
		count := et.Count("count", "s1", at(90), et.L("A", 7))
		late := et.Void("void", "s1", at(120), "sale")
		each(t, []*event.Event{rcv, sale, count, late}, func(b *bundle) { b.want("A", "s1", 10, 0, 0) })
		early := et.Void("void", "s1", at(60), "sale")
		each(t, []*event.Event{rcv, sale, count, early}, func(b *bundle) { b.want("A", "s1", 7, 0, 0) })
	})
	t.Run("the earliest of two voids wins", func(t *testing.T) {
		t.Parallel()
		count := et.Count("count", "s1", at(90), et.L("A", 7))
		early := et.Void("void-early", "s1", at(60), "sale")
		late := et.Void("void-late", "s1", at(120), "sale")
		each(t, []*event.Event{sale, count, early, late}, func(b *bundle) {
			b.want("A", "s1", 7, 0, 0)
		})
		// On a tie in time the smaller ID wins; the result is the same.
		a := et.Void("void-a", "s1", at(60), "sale")
		z := et.Void("void-z", "s1", at(60), "sale")
		each(t, []*event.Event{sale, count, a, z}, func(b *bundle) { b.want("A", "s1", 7, 0, 0) })
	})
	t.Run("mark names the winning void", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(et.Void("void-late", "s1", at(120), "sale"))
		ch := b.apply(et.Void("void-early", "s1", at(60), "sale"))
		if m := ch.Voids["sale"]; m.VoidID != "void-early" || !m.At.Equal(at(60)) || m.Applied {
			t.Errorf("void mark %+v, want void-early at %v, not applied", m, at(60))
		}
		ch = b.apply(et.Void("void-later", "s1", at(180), "sale"))
		if len(ch.Voids) != 0 || len(ch.Moves) != 0 {
			t.Errorf("a losing void changed %+v", ch)
		}
	})
	t.Run("only sales and returns are reversed", func(t *testing.T) {
		t.Parallel()
		each(t, []*event.Event{rcv, et.Void("void", "s1", at(2), "rcv")}, func(b *bundle) { b.want("A", "s1", 10, 0, 0) })
	})
}

func TestAdjustmentAndReceipt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 10)))
	b.apply(et.Adjust("damaged", "s1", at(1), et.L("A", -2), et.L("B", 1)))
	b.want("A", "s1", 8, 0, 0)
	b.want("B", "s1", 1, 0, 0)
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	out := et.TransferOut("out", "wh", at(1), "tr-1", "s1", et.L("A", 5), et.L("B", 2))
	in := et.TransferIn("in", "s1", at(2), "tr-1", "wh", et.L("A", 5), et.L("B", 2))

	t.Run("in transit at the destination", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(out)
		b.want("A", "wh", -5, 0, 0)
		b.want("A", "s1", 0, 0, 5)
		b.want("B", "s1", 0, 0, 2)
		b.apply(in)
		b.want("A", "wh", -5, 0, 0)
		b.want("A", "s1", 5, 0, 0)
		b.want("B", "s1", 2, 0, 0)
	})
	t.Run("either order", func(t *testing.T) {
		t.Parallel()
		each(t, []*event.Event{out, in}, func(b *bundle) {
			b.want("A", "wh", -5, 0, 0)
			b.want("A", "s1", 5, 0, 0)
			b.want("B", "s1", 2, 0, 0)
		})
	})
	t.Run("received in parts", func(t *testing.T) {
		t.Parallel()
		in1 := et.TransferIn("in-1", "s1", at(2), "tr-1", "wh", et.L("A", 3))
		in2 := et.TransferIn("in-2", "s1", at(3), "tr-1", "wh", et.L("A", 2), et.L("B", 2))
		each(t, []*event.Event{out, in1}, func(b *bundle) {
			b.want("A", "s1", 3, 0, 2)
			b.want("B", "s1", 0, 0, 2)
		})
		each(t, []*event.Event{out, in1, in2}, func(b *bundle) {
			b.want("A", "s1", 5, 0, 0)
			b.want("B", "s1", 2, 0, 0)
		})
	})
	t.Run("shipped in parts", func(t *testing.T) {
		t.Parallel()
		out2 := et.TransferOut("out-2", "wh", at(1), "tr-1", "s1", et.L("A", 1))
		each(t, []*event.Event{out, out2, in}, func(b *bundle) {
			b.want("A", "wh", -6, 0, 0)
			b.want("A", "s1", 5, 0, 1)
		})
	})
	t.Run("more received than shipped", func(t *testing.T) {
		t.Parallel()
		over := et.TransferIn("in", "s1", at(2), "tr-1", "wh", et.L("A", 7), et.L("B", 2))
		each(t, []*event.Event{out, over}, func(b *bundle) {
			b.want("A", "s1", 7, 0, 0)
			b.want("B", "s1", 2, 0, 0)
		})
	})
	t.Run("arrival with no shipment", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(et.TransferIn("in", "s1", at(2), "tr-9", "wh", et.L("A", 1)))
		b.want("A", "s1", 1, 0, 0)
	})
}

func TestStockCount(t *testing.T) {
	t.Parallel()
	rcv := et.Receive("rcv", "s1", at(0), et.L("A", 10))
	count := et.Count("count", "s1", at(10), et.L("A", 7), et.L("B", 0))
	before := et.Sale("before", "s1", at(5), et.L("A", 2))
	atCount := et.Sale("at-count", "s1", at(10), et.L("A", 1))
	after := et.Sale("after", "s1", at(15), et.L("A", 1))

	t.Run("anchors on hand", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(rcv, count)
		b.want("A", "s1", 7, 0, 0)
		b.want("B", "s1", 0, 0, 0)
	})
	t.Run("later movements apply, earlier ones are absorbed", func(t *testing.T) {
		t.Parallel()
		each(t, []*event.Event{rcv, count, before, atCount, after}, func(b *bundle) { b.want("A", "s1", 6, 0, 0) })
	})
	t.Run("late count", func(t *testing.T) {
		t.Parallel()
		// The count arrives after movements that happened after it.
		b := setup(t)
		b.apply(rcv, after, et.Receive("rcv-2", "s1", at(20), et.L("A", 4)))
		b.want("A", "s1", 13, 0, 0)
		b.apply(count)
		b.want("A", "s1", 10, 0, 0)
	})
	t.Run("the newest of two counts wins", func(t *testing.T) {
		t.Parallel()
		newer := et.Count("count-2", "s1", at(12), et.L("A", 4))
		each(t, []*event.Event{rcv, count, newer, before, after}, func(b *bundle) { b.want("A", "s1", 3, 0, 0) })
	})
	t.Run("tie broken by event ID", func(t *testing.T) {
		t.Parallel()
		a := et.Count("count-a", "s1", at(10), et.L("A", 1))
		z := et.Count("count-z", "s1", at(10), et.L("A", 9))
		each(t, []*event.Event{a, z, after}, func(b *bundle) {
			b.want("A", "s1", 8, 0, 0)
			if p := b.l.Position(inventory.Key{SKU: "A", Location: "s1"}); p.CountEvent != "count-z" {
				t.Errorf("count event %q, want count-z", p.CountEvent)
			}
		})
	})
	t.Run("void of an absorbed sale after the count", func(t *testing.T) {
		t.Parallel()
		void := et.Void("void", "s1", at(20), "before")
		each(t, []*event.Event{rcv, count, before, void}, func(b *bundle) { b.want("A", "s1", 9, 0, 0) })
	})
	t.Run("only its own location and SKUs", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(rcv, et.Receive("rcv-s2", "s2", at(0), et.L("A", 3)), et.Receive("rcv-c", "s1", at(0), et.L("C", 3)), count)
		b.want("A", "s1", 7, 0, 0)
		b.want("A", "s2", 3, 0, 0)
		b.want("C", "s1", 3, 0, 0)
	})
}

func TestOnlineOrder(t *testing.T) {
	t.Parallel()
	rcv := et.Receive("rcv", "s1", at(0), et.L("A", 10), et.L("B", 10))
	order := et.Order("ord", "s1", at(1), "web-1", "shopify", et.L("A", 3), et.L("B", 1), et.L("A", 1))

	t.Run("reserves", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ch := b.apply(rcv, order)
		b.want("A", "s1", 10, 4, 0)
		b.want("B", "s1", 10, 1, 0)
		if p := b.l.Position(inventory.Key{SKU: "A", Location: "s1"}); p.Available() != u(6) {
			t.Errorf("available %s, want 6", p.Available())
		}
		d := ch.Docs[inventory.DocRef{Kind: inventory.DocOrder, ID: "web-1"}]
		if d == nil || !d.Placed || d.Location != "s1" || d.Channel != "shopify" || d.Lines["A"].Ordered != u(4) {
			t.Errorf("order doc %+v", d)
		}
		if len(ch.Oversells) != 0 {
			t.Errorf("oversells %+v", ch.Oversells)
		}
	})
	t.Run("placed once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(rcv, order, et.Order("ord-again", "s1", at(2), "web-1", "shopify", et.L("A", 3), et.L("B", 1), et.L("A", 1)))
		b.want("A", "s1", 10, 4, 0)
	})
	fulfil := et.Fulfil("ful", "s1", at(5), "web-1", et.L("A", 4))
	t.Run("fulfilment settles and ships", func(t *testing.T) {
		t.Parallel()
		each(t, []*event.Event{rcv, order, fulfil}, func(b *bundle) {
			b.want("A", "s1", 6, 0, 0)
			b.want("B", "s1", 10, 1, 0)
		})
	})
	t.Run("partial fulfilment", func(t *testing.T) {
		t.Parallel()
		part := et.Fulfil("ful", "s1", at(5), "web-1", et.L("A", 1))
		each(t, []*event.Event{rcv, order, part}, func(b *bundle) { b.want("A", "s1", 9, 3, 0) })
	})
	t.Run("fulfilled from another location", func(t *testing.T) {
		t.Parallel()
		elsewhere := et.Fulfil("ful", "wh", at(5), "web-1", et.L("A", 4))
		each(t, []*event.Event{rcv, order, elsewhere}, func(b *bundle) {
			b.want("A", "s1", 10, 0, 0)
			b.want("A", "wh", -4, 0, 0)
		})
	})
	cancel := et.Cancel("cxl", "s1", at(6), "web-1")
	t.Run("cancel releases what remains", func(t *testing.T) {
		t.Parallel()
		part := et.Fulfil("ful", "s1", at(5), "web-1", et.L("A", 1))
		each(t, []*event.Event{rcv, order, part, cancel}, func(b *bundle) {
			b.want("A", "s1", 9, 0, 0)
			b.want("B", "s1", 10, 0, 0)
		})
	})
	t.Run("cancel before the order arrives", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(rcv, cancel)
		b.apply(order)
		b.want("A", "s1", 10, 0, 0)
		b.want("B", "s1", 10, 0, 0)
	})
	t.Run("click and collect sale settles the reservation", func(t *testing.T) {
		t.Parallel()
		collect := clickAndCollect(et.Sale("collect", "s1", at(5), et.L("A", 4), et.L("B", 1)))
		each(t, []*event.Event{rcv, order, collect}, func(b *bundle) {
			b.want("A", "s1", 6, 0, 0)
			b.want("B", "s1", 9, 0, 0)
		})
	})
}

func TestOversell(t *testing.T) {
	t.Parallel()
	t.Run("order asks for more than is available", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 5)))
		b.apply(et.Order("ord-1", "s1", at(1), "web-1", "shopify", et.L("A", 3)))
		ch := b.apply(et.Order("ord-2", "s1", at(2), "web-2", "amazon", et.L("A", 1), et.L("A", 2)))
		want := inventory.Oversell{EventID: "ord-2", Kind: inventory.OversellOrder, SKU: "A", Location: "s1", OrderID: "web-2",
			Requested: u(3), OnHand: u(5), Reserved: u(3), At: at(2)}
		if len(ch.Oversells) != 1 || ch.Oversells[0] != want {
			t.Fatalf("oversells %+v, want %+v", ch.Oversells, want)
		}
		b.want("A", "s1", 5, 6, 0) // still reserved: the order stands
	})
	t.Run("order for exactly what is available", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ch := b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 5)), et.Order("ord-1", "s1", at(1), "web-1", "shopify", et.L("A", 5)))
		if len(ch.Oversells) != 0 {
			t.Errorf("oversells %+v", ch.Oversells)
		}
	})
	t.Run("sale takes promised stock", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 5)), et.Order("ord-1", "s1", at(1), "web-1", "shopify", et.L("A", 4)))
		ch := b.apply(et.Sale("sale-1", "s1", at(2), et.L("A", 1)))
		if len(ch.Oversells) != 0 {
			t.Errorf("oversells %+v: available is still 0", ch.Oversells)
		}
		ch = b.apply(et.Sale("sale-2", "s1", at(3), et.L("A", 1), et.L("A", 1)))
		want := inventory.Oversell{EventID: "sale-2", Kind: inventory.OversellSale, SKU: "A", Location: "s1",
			Requested: u(2), OnHand: u(2), Reserved: u(4), At: at(3)}
		if len(ch.Oversells) != 1 || ch.Oversells[0] != want {
			t.Fatalf("oversells %+v, want %+v", ch.Oversells, want)
		}
	})
	t.Run("click and collect is not an oversell", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 2)), et.Order("ord-1", "s1", at(1), "web-1", "shopify", et.L("A", 2)))
		ch := b.apply(clickAndCollect(et.Sale("collect", "s1", at(2), et.L("A", 2))))
		if len(ch.Oversells) != 0 {
			t.Errorf("oversells %+v", ch.Oversells)
		}
		b.want("A", "s1", 0, 0, 0)
	})
}

func TestDrawerCountMovesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.apply(et.Drawer("dc", "s1", at(0), 15000))
	if len(ch.Moves) != 0 || len(ch.Positions) != 0 || len(ch.Docs) != 0 {
		t.Errorf("drawer count changed %+v", ch)
	}
}

func TestChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.apply(et.Receive("rcv", "s1", at(0), et.L("B", 3), et.L("A", 1)))
	ch := b.apply(et.Sale("sale", "s1", at(1), et.L("B", 1)), et.Receive("rcv-2", "s2", at(2), et.L("A", 1)))
	want := []inventory.Move{
		{Seq: 2, EventID: "sale", Key: inventory.Key{SKU: "B", Location: "s1"}, Delta: u(-1), At: at(1)},
		{Seq: 3, EventID: "rcv-2", Key: inventory.Key{SKU: "A", Location: "s2"}, Delta: u(1), At: at(2)},
	}
	if fmt.Sprint(ch.Moves) != fmt.Sprint(want) {
		t.Errorf("moves %v, want %v", ch.Moves, want)
	}
	if got := fmt.Sprint(ch.Keys()); got != "[{A s2} {B s1}]" {
		t.Errorf("keys %s", got)
	}
	if p := ch.Positions[inventory.Key{SKU: "B", Location: "s1"}]; p.OnHand() != u(2) {
		t.Errorf("changed position B@s1 on hand %s, want 2", p.OnHand())
	}
}

func TestPartialLedgerFailsLoudly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    *event.Event
		what string
	}{
		{"position", et.Receive("rcv", "s1", at(0), et.L("A", 1)), "position A@s1"},
		{"order", et.Cancel("cxl", "s1", at(0), "web-1"), "order web-1"},
	}
	for _, tt := range tests {
		l := inventory.NewPartial()
		_, err := l.Apply([]inventory.Applied{{Seq: 1, Event: tt.e}})
		if err == nil || !strings.Contains(err.Error(), "not loaded: "+tt.what) {
			t.Errorf("%s: Apply on an empty partial ledger: %v", tt.name, err)
		}
	}

	// A count needs the stored sum of movements after it.
	l := inventory.NewPartial()
	k := inventory.Key{SKU: "A", Location: "s1"}
	l.LoadPosition(k, inventory.Position{})
	_, err := l.Apply([]inventory.Applied{{Seq: 1, Event: et.Count("cnt", "s1", at(0), et.L("A", 1))}})
	if err == nil || !strings.Contains(err.Error(), "movements of A@s1") {
		t.Errorf("count without stored movements: %v", err)
	}
	l.LoadMovesAfter(inventory.KeyTime{Key: k, At: at(0)}, u(-2))
	if _, err := l.Apply([]inventory.Applied{{Seq: 1, Event: et.Count("cnt", "s1", at(0), et.L("A", 5))}}); err != nil {
		t.Fatal(err)
	}
	if got := l.Position(k).OnHand(); got != u(3) {
		t.Errorf("on hand %s, want 5 counted − 2 moved since", got)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.apply(et.Receive("rcv", "s1", at(0), et.L("A", 2)), et.Count("cnt", "s1", at(1), et.L("B", 4)))
	same := map[inventory.Key]inventory.Position{
		{SKU: "A", Location: "s1"}: {Delta: u(2)},
		{SKU: "B", Location: "s1"}: {Delta: u(4)}, // same on hand, no anchor: equal by effect
	}
	if d := inventory.Diff(b.l, same); len(d) != 0 {
		t.Errorf("Diff = %v, want none", d)
	}
	other := map[inventory.Key]inventory.Position{
		{SKU: "A", Location: "s1"}: {Delta: u(1)},
		{SKU: "C", Location: "s2"}: {Reserved: u(1)},
	}
	want := []string{
		"A@s1: on_hand 2 vs 1, reserved 0 vs 0, in_transit 0 vs 0",
		"B@s1: on_hand 4 vs 0, reserved 0 vs 0, in_transit 0 vs 0",
		"C@s2: on_hand 0 vs 0, reserved 0 vs 1, in_transit 0 vs 0",
	}
	if d := inventory.Diff(b.l, other); fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("Diff =\n%v\nwant\n%v", strings.Join(d, "\n"), strings.Join(want, "\n"))
	}
}
