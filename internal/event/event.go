package event

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// Type names the kind of retail fact an event records.
type Type string

// The canonical event types.
const (
	TypeSale        Type = "sale"
	TypeReturn      Type = "return"
	TypeVoid        Type = "void"
	TypeAdjustment  Type = "inventory_adjustment"
	TypeReceipt     Type = "receipt"
	TypeTransferOut Type = "transfer_out"
	TypeTransferIn  Type = "transfer_in"
	TypeStockCount  Type = "stock_count"
	TypeDrawerCount Type = "drawer_count"
	TypeOnlineOrder Type = "online_order"
	TypeFulfilment  Type = "fulfilment"
	TypeOrderCancel Type = "order_cancel"
)

// Types lists every event type, in documentation order.
var Types = []Type{
	TypeSale, TypeReturn, TypeVoid, TypeAdjustment, TypeReceipt, TypeTransferOut,
	TypeTransferIn, TypeStockCount, TypeDrawerCount, TypeOnlineOrder, TypeFulfilment, TypeOrderCancel,
}

// newBody returns an empty body for a type, or nil if the type is unknown.
func newBody(t Type) Body {
	switch t {
	case TypeSale:
		return &Sale{}
	case TypeReturn:
		return &Return{}
	case TypeVoid:
		return &Void{}
	case TypeAdjustment:
		return &Adjustment{}
	case TypeReceipt:
		return &Receipt{}
	case TypeTransferOut:
		return &TransferOut{}
	case TypeTransferIn:
		return &TransferIn{}
	case TypeStockCount:
		return &StockCount{}
	case TypeDrawerCount:
		return &DrawerCount{}
	case TypeOnlineOrder:
		return &OnlineOrder{}
	case TypeFulfilment:
		return &Fulfilment{}
	case TypeOrderCancel:
		return &OrderCancel{}
	}
	return nil
}

// Event is one retail fact with a stable identity. The ID is chosen by the
// POS (or derived from the source's own IDs) and never changes: it is the
// deduplication key in the log and the external ID at every destination.
type Event struct {
	ID   string
	Type Type
	// Location is the store or warehouse where the fact happened.
	Location string
	// Source names the system that produced the event: "pos", "shopify", …
	Source string
	// OccurredAt is when it happened, in UTC; Zone is the store's IANA zone,
	// kept so reports can show the store's local day.
	OccurredAt time.Time
	Zone       string
	// ReceivedAt is when the first tillsync hop (edge or webhook intake)
	// received it, in UTC.
	ReceivedAt time.Time
	// StoreSeq is the edge's gapless per-store sequence number, zero for
	// events that did not pass through an edge.
	StoreSeq int64
	// Attributes carries source-specific extras that have no canonical field.
	Attributes map[string]string
	// Body holds the type-specific data; its Type() equals Type.
	Body Body

	// sealed is the event's encoding, kept by Seal.
	sealed *encoding
}

// encoding is what Encode returns.
type encoding struct {
	json        []byte
	fingerprint [32]byte
}

// Seal normalizes the event and keeps its encoding for Encode. Intake seals
// each event in its request's own goroutine, so that the store's commit —
// one batch at a time, with the database waiting — does not encode it
// again. The event must not change after Seal, nor a copy of it that keeps
// the seal (Seal a changed copy again).
func (e *Event) Seal() error {
	e.Normalize()
	e.sealed = nil
	b, fp, err := e.Encode()
	if err != nil {
		return err
	}
	e.sealed = &encoding{json: b, fingerprint: fp}
	return nil
}

// Body is the type-specific part of an event. The set of bodies is closed:
// only this package implements it.
type Body interface {
	Type() Type
	validate(v *validator)
}

// Precision is the resolution of event times: microseconds, what both
// databases store exactly. Times are cut to it when an event is decoded and
// before it is stored, so replaying the log computes exactly what the live
// ledger did.
const Precision = time.Microsecond

// Normalize puts the event's times in UTC at Precision.
func (e *Event) Normalize() {
	e.OccurredAt = e.OccurredAt.UTC().Truncate(Precision)
	e.ReceivedAt = e.ReceivedAt.UTC().Truncate(Precision)
}

// LocalTime returns when the event happened in the store's own zone.
func (e *Event) LocalTime() time.Time {
	loc, err := LoadZone(e.Zone)
	if err != nil {
		return e.OccurredAt
	}
	return e.OccurredAt.In(loc)
}

// Fingerprint hashes what the event says happened — type, location, source,
// time, zone and data — leaving out what hops add (received_at, store_seq,
// attributes). Two deliveries of one event have the same fingerprint; an ID
// reused for a different fact does not.
func (e *Event) Fingerprint() [32]byte {
	var body []byte
	if e.Body != nil {
		body, _ = json.Marshal(e.Body) // bodies are plain structs: cannot fail
	}
	return e.fingerprint(body)
}

// fingerprint hashes the envelope fields and the body's JSON.
func (e *Event) fingerprint(body []byte) [32]byte {
	h := sha256.New()
	for _, s := range []string{string(e.Type), e.Location, e.Source, e.OccurredAt.UTC().Truncate(Precision).Format(time.RFC3339Nano), e.Zone} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(body)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Encode returns the event's JSON and its Fingerprint, encoding the body
// once for both: the log stores the one and deduplicates on the other.
func (e *Event) Encode() ([]byte, [32]byte, error) {
	if e.sealed != nil {
		return e.sealed.json, e.sealed.fingerprint, nil
	}
	var body []byte
	if e.Body != nil {
		var err error
		if body, err = json.Marshal(e.Body); err != nil {
			return nil, [32]byte{}, fmt.Errorf("encode %s data: %w", e.Type, err)
		}
	}
	full, err := json.Marshal(e.wire(body))
	return full, e.fingerprint(body), err
}
