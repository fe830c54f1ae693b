package inventory

import (
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Snapshot is a location's positions as of a log sequence: what the hub
// sends an edge (GET /v1/edge/snapshot) for its offline stock view.
type Snapshot struct {
	Location  string             `json:"location"`
	AsOfSeq   int64              `json:"as_of_seq"`
	Positions []SnapshotPosition `json:"positions"`
}

// SnapshotPosition is one SKU's ledger state in a snapshot.
type SnapshotPosition struct {
	SKU        string    `json:"sku"`
	CountQty   event.Qty `json:"count_qty"`
	CountAt    time.Time `json:"count_at,omitzero"`
	CountEvent string    `json:"count_event,omitempty"`
	Delta      event.Qty `json:"delta"`
	Reserved   event.Qty `json:"reserved"`
	InTransit  event.Qty `json:"in_transit"`
}

// SnapshotOf converts a position for a snapshot.
func SnapshotOf(sku string, p Position) SnapshotPosition {
	return SnapshotPosition{SKU: sku, CountQty: p.CountQty, CountAt: p.CountAt, CountEvent: p.CountEvent,
		Delta: p.Delta, Reserved: p.Reserved, InTransit: p.InTransit}
}

// Position converts back to a ledger position.
func (p SnapshotPosition) Position() Position {
	return Position{CountQty: p.CountQty, CountAt: p.CountAt, CountEvent: p.CountEvent, Delta: p.Delta,
		Reserved: p.Reserved, InTransit: p.InTransit}
}
