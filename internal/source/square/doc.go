// Package square is the Square point-of-sale source: an HTTP handler for
// Square webhook notifications that verifies their signature, fetches the
// full order with Square's RetrieveOrder API when a notification carries
// only a summary, maps what it learns to canonical events with stable IDs,
// and acknowledges Square only after the events are durable.
//
// How Square facts become canonical events (see mapping.go for the details
// and the Square documentation each rule rests on):
//
//   - A Square order is the unit of sale. Once it is COMPLETED (and every
//     refund on it settled), its line items and tenders become one Sale
//     "square:order:<order_id>", and its returns (a return or exchange
//     order) one Return "square:order:<order_id>:return". Payment, refund
//     and order notifications all lead to the same order, fetched fresh, so
//     whichever of them arrives — once, twice or in any order — yields the
//     same events with the same IDs; the log keeps the first and reports
//     the rest as duplicates.
//   - A refund without an order (legacy) becomes a Return
//     "square:refund:<refund_id>" for its amount, with nothing restocked.
//   - inventory.count.updated becomes one StockCount per IN_STOCK count,
//     "square:inventory:<catalog_object_id>:<location_id>:<calculated_at>".
//
// The package must not store anything itself (the Submitter does), log card
// details or raw payloads (Square's payment objects carry the card's BIN,
// expiry and fingerprint), or acknowledge a notification before its events
// are committed.
package square
