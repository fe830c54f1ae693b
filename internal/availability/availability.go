package availability

import (
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// Channel is a sales channel: its safety buffer and the locations it sells
// from (nil: all).
type Channel struct {
	Name      string
	Buffer    event.Qty
	Locations map[string]bool
}

// Sells reports whether the channel sells from a location.
func (c Channel) Sells(location string) bool { return c.Locations == nil || c.Locations[location] }

// ATP is what the channel may promise from a position.
func (c Channel) ATP(p inventory.Position) event.Qty {
	if a := p.Available() - c.Buffer; a > 0 {
		return a
	}
	return 0
}

// Update is one channel's availability of a SKU at a location.
type Update struct {
	Channel   string    `json:"channel"`
	SKU       string    `json:"sku"`
	Location  string    `json:"location"`
	Available event.Qty `json:"available"`
	OnHand    event.Qty `json:"on_hand"`
	Reserved  event.Qty `json:"reserved"`
	// Seq is the log sequence the value reflects.
	Seq int64 `json:"seq"`
	// Events are (some of) the events whose commit changed the value.
	Events []string `json:"events,omitempty"`
	// At is when the hub computed the value.
	At time.Time `json:"at"`
}

// Key identifies what an update is about.
type Key struct {
	Channel, SKU, Location string
}

// Key returns the update's key.
func (u *Update) Key() Key { return Key{u.Channel, u.SKU, u.Location} }

// maxCauses bounds Update.Events: a count touching a thousand SKUs names a
// few, not all.
const maxCauses = 16

// Updates computes every channel's update for changed positions. causes
// maps a key to the events that moved it (may be nil).
func Updates(channels []Channel, changed map[inventory.Key]inventory.Position, seq int64, causes map[inventory.Key][]string, now time.Time) []Update {
	var out []Update
	for k, p := range changed {
		for _, ch := range channels {
			if !ch.Sells(k.Location) {
				continue
			}
			ev := causes[k]
			if len(ev) > maxCauses {
				ev = ev[len(ev)-maxCauses:]
			}
			out = append(out, Update{
				Channel: ch.Name, SKU: k.SKU, Location: k.Location, Available: ch.ATP(p),
				OnHand: p.OnHand(), Reserved: p.Reserved, Seq: seq, Events: ev, At: now,
			})
		}
	}
	sortUpdates(out)
	return out
}

func sortUpdates(us []Update) {
	sort.Slice(us, func(i, j int) bool {
		a, b := us[i], us[j]
		if a.Seq != b.Seq {
			return a.Seq < b.Seq
		}
		if a.SKU != b.SKU {
			return a.SKU < b.SKU
		}
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		return a.Channel < b.Channel
	})
}

// Causes maps each moved position to the events that moved it.
func Causes(ch *inventory.Changes) map[inventory.Key][]string {
	m := map[inventory.Key][]string{}
	for _, mv := range ch.Moves {
		ids := m[mv.Key]
		if len(ids) == 0 || ids[len(ids)-1] != mv.EventID {
			m[mv.Key] = append(ids, mv.EventID)
		}
	}
	return m
}
