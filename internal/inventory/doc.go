// Package inventory keeps stock as a ledger of signed movements derived from
// the event log, and answers what is on hand, reserved, in transit and
// available to promise per SKU, location and channel.
//
// The ledger is order-independent: applying the same set of events in any
// order gives the same positions. A StockCount anchors on-hand at its time;
// movements after that time apply on top, earlier ones are absorbed by it. A
// Void reverses its target whenever either arrives. Reservations and transfers
// are derived from per-document state (ordered, settled, cancelled), never
// from running counters that could double-count a retry.
//
// The package is pure: it does no I/O. The store loads the part of the ledger
// a batch touches, calls Apply, and writes back the Changes in the same
// transaction that appends the events.
package inventory
