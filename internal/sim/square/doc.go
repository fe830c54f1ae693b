// Package square simulates a Square seller for tests, benchmarks and the
// demo: catalog items, stock per location, sales paid by card or cash,
// itemized returns with refunds, and the webhook notifications Square
// sends about them — signed as Square signs them, shaped as Square's
// documentation shows them, and deliverable with duplicates and out of
// order. It also serves the Orders API's RetrieveOrder
// (GET /v2/orders/{order_id}) with bearer-token authentication,
// Square-Version checks and rate limiting with Square's error bodies.
//
// It simulates; it is not a contract. Where Square leaves behaviour open
// (its rate limits are unpublished) the simulator picks something simple
// and documents it.
package square
