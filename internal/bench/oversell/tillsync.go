package oversell

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inventory"
)

// openLedger starts tillsync's side: the hub's ledger holding the opening
// stock (one receipt per store), the web channel, and the destination's
// view of every level (Shopify holds the opening stock).
func (s *sim) openLedger() error {
	s.ledger = inventory.NewMemory()
	s.channel = availability.Channel{Name: "web"}
	s.dest = make([]destKey, len(s.onHand))
	for lv, q := range s.day.stock {
		s.dest[lv] = destKey{believed: q, scheduled: q}
	}
	s.prop = rand.New(rand.NewPCG(s.cfg.Seed, 0x9a0b)) //nolint:gosec // a simulation's latencies
	for st := range s.stores {
		var lines []event.Line
		for k := range s.cfg.SKUs {
			if q := s.day.stock[k*s.stores+st]; q > 0 {
				lines = append(lines, et.L(skuName(k), q))
			}
		}
		if len(lines) == 0 {
			continue
		}
		if err := s.apply(et.Receive("open-"+storeName(st), storeName(st), Opening.Add(-time.Hour), lines...)); err != nil {
			return err
		}
	}
	return nil
}

// apply appends one event to the hub's ledger and queues a push of every
// level whose available-to-promise it changed, landing after a delay drawn
// from the sale-to-Shopify latency (never before an earlier push of the
// same level: the destination writes a key's values in order).
func (s *sim) apply(e *event.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	s.logSeq++
	ch, err := s.ledger.Apply([]inventory.Applied{{Seq: s.logSeq, Event: e}})
	if err != nil {
		return err
	}
	s.res.LedgerEvents++
	s.res.LedgerOversells += int64(len(ch.Oversells))
	for k, p := range ch.Positions {
		lv, err := s.level(k)
		if err != nil {
			return err
		}
		atp := units(s.channel.ATP(p))
		dk := &s.dest[lv]
		if atp == dk.scheduled {
			continue
		}
		dk.scheduled = atp
		dk.landing = max(s.now+s.cfg.Propagation.sample(s.prop.Float64()), dk.landing+time.Nanosecond)
		s.schedule(&item{at: dk.landing, kind: kPush, level: lv, value: atp})
	}
	return nil
}

func units(q event.Qty) int64 { return int64(q) / event.QtyScale }

func (s *sim) level(k inventory.Key) (int, error) {
	sku, ok1 := s.skuIdx[k.SKU]
	st, ok2 := s.locIdx[k.Location]
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("ledger changed %s@%s, which the simulation does not stock", k.SKU, k.Location)
	}
	return sku*s.stores + st, nil
}

// atp is the channel's available-to-promise of a level in the ledger now.
func (s *sim) atp(level int) int64 {
	return units(s.channel.ATP(s.ledger.Position(inventory.Key{SKU: s.sku(level), Location: s.loc(level)})))
}

// push is the Shopify destination's write of one level, by its
// compare-and-set rules (internal/channel/shopify): write T = min(A, A+o)
// expecting E; on a stale compare read Shopify's value Q, fold Shopify's
// own movement into the offset (o = min(0, o+Q−E)), take E = Q, recompute
// A from the ledger and write again. An offset is dropped SettleAfter after
// its last change. The first attempt writes a, the ATP the change committed
// (the value as of its commit, though it lands later); a < 0 reads the
// ledger now.
func (s *sim) push(lv int, a int64) error {
	dk := &s.dest[lv]
	for range 5 {
		if a < 0 {
			a = s.atp(lv)
		}
		t := max(0, min(a, a+dk.offset))
		if t == dk.believed {
			return nil
		}
		want := dk.believed
		stale, err := s.shop.set([]quantity{{level: lv, qty: t, compare: &want}}, s.stores)
		if err != nil {
			return s.retry(lv, err)
		}
		if len(stale) == 0 {
			dk.believed = t
			s.res.Quantities++
			return nil
		}
		q, err := s.shop.read(lv, s.stores)
		if err != nil {
			return s.retry(lv, err)
		}
		if o := min(0, dk.offset+q-dk.believed); o != dk.offset {
			dk.offset, dk.offsetAt = o, s.now
			s.schedule(&item{at: s.now + s.cfg.SettleAfter, kind: kSettle, level: lv, mark: s.now})
		}
		dk.believed = q
		a = -1
	}
	return fmt.Errorf("level %s@%s: still stale after 5 compare-and-set attempts", s.sku(lv), s.loc(lv))
}

// retry puts a throttled write back for when the bucket holds its cost.
func (s *sim) retry(lv int, err error) error {
	var th errThrottled
	if !errors.As(err, &th) {
		return err
	}
	s.schedule(&item{at: s.now + time.Duration(th.wait*float64(time.Second)), kind: kPush, level: lv, value: -1})
	return nil
}

// checkLedger compares the hub's ledger with the simulated stores at the
// end (every event applied once, nothing lost), and the shop with the
// ledger: once every push has landed, no level shows more than the
// channel's available-to-promise.
func (s *sim) checkLedger() error {
	var bad []string
	for lv := range s.onHand {
		p := s.ledger.Position(inventory.Key{SKU: s.sku(lv), Location: s.loc(lv)})
		if units(p.OnHand()) != s.onHand[lv] || units(p.Reserved) != s.reserved[lv] {
			bad = append(bad, fmt.Sprintf("%s@%s: ledger on hand %s reserved %s, store %d and %d",
				s.sku(lv), s.loc(lv), p.OnHand(), p.Reserved, s.onHand[lv], s.reserved[lv]))
		}
		if a := units(s.channel.ATP(p)); s.shown[lv] > a {
			bad = append(bad, fmt.Sprintf("%s@%s: the shop shows %d, the ledger's ATP is %d", s.sku(lv), s.loc(lv), s.shown[lv], a))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the ledger disagrees with the stores at %d levels, first %s", len(bad), bad[0])
	}
	return nil
}
