// Package shopify is the Shopify webhook source: it verifies, decodes and
// maps one shop's webhooks (POS and online orders, refunds, fulfillments,
// inventory levels) to canonical events and commits them before it answers.
//
// It owns the Shopify payload shapes, the exact decoding of Shopify's IDs and
// money, and the mapping decisions below. It must not store anything itself:
// durability is the Submitter's (the hub's committer and event log), and
// anything it remembers in memory (recent event IDs, orders seen, SKUs of
// inventory items) only saves work or time — correctness rests on the log.
//
// # Delivery
//
// Shopify POSTs a JSON payload with X-Shopify-Topic, X-Shopify-Hmac-Sha256,
// X-Shopify-Shop-Domain, X-Shopify-API-Version, X-Shopify-Webhook-Id,
// X-Shopify-Event-Id and X-Shopify-Triggered-At
// (https://shopify.dev/docs/apps/build/webhooks/delivery-structure). The
// handler reads the body once (bounded), checks the base64 HMAC-SHA256 of the
// raw bytes with the app's client secret in constant time — either of two
// secrets during a rotation, since Shopify may take up to an hour to sign
// with a new one (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries) —
// then maps, validates and submits, and answers 200 only once Submit has
// returned, i.e. the events are durable. Shopify waits 5 s for an answer and
// retries failures "8 times over 4 hours using an exponential backoff
// schedule", with the original payload and X-Shopify-Triggered-At
// (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism); an
// Admin-API subscription whose deliveries keep failing is deleted
// (https://shopify.dev/docs/apps/build/webhooks/subscribe/https). So:
//
//   - bad signature: 401; missing topic or shop header, empty or malformed
//     body, money that is not exact, a mapped event that breaks a canonical
//     rule: 400 with the field at fault; another shop's delivery: 403;
//   - commit failed: 500 (storage) or 503 (overloaded, stopping, timeout), so
//     Shopify retries; nothing is remembered;
//   - a delivery that refers to something not seen yet (a fulfillment whose
//     order is unknown, a level whose inventory item's SKU is unknown): 503
//     while it is younger than WaitFor, so a retry finds it;
//   - a delivery that cannot be placed (an unmapped Shopify location, a
//     product variant without SKU, a canonical ID the log already holds for
//     different content): parked through Deps.Park and acknowledged, or, with
//     no parker, 422 — Shopify retries it for 4 hours (time to fix the
//     location map) and then drops it, so wire a parker in production;
//   - topics that map to nothing (orders/paid, catalog topics, unknown
//     topics): 200 "ignored".
//
// # Duplicates, order and staleness
//
// Shopify may deliver an event more than once; X-Shopify-Event-Id is the
// same on every copy (https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates).
// A bounded memory of answered event IDs answers repeats at once, but what
// makes them harmless is that every canonical ID is derived from Shopify's
// own IDs — shopify:<shop>:order:<id>:create, …:order:<id>:cancel,
// …:refund:<id>, …:fulfillment:<id>, …:inventory:<item>:<location>:<updated_at>
// — and the log deduplicates IDs forever, across restarts. Attributes carry
// the delivery headers and are not part of an event's fingerprint, so a
// redelivery is a duplicate, not a conflict.
//
// Delivery order is not promised. The ledger is order-independent for stock,
// so events are mapped as they come: a refund or fulfillment carries its line
// items with SKUs, so neither needs its order. A delivery older than
// StaleAfter (now − X-Shopify-Triggered-At) is counted as stale; inventory
// levels are absolute and time-stamped (updated_at), so the ledger keeps the
// newest count whatever the arrival order, and the handler counts levels that
// arrive after a newer one (Stats.Superseded).
//
// # Mapping
//
//   - orders/create, source_name in POSSources ("pos"): a Sale at the order's
//     location_id. Lines keep their SKU, exact quantity and unit price; each
//     discount_allocation becomes a discount whose reason and code come from
//     its discount_application; tax_lines become taxes (included per
//     taxes_included). Custom sale items and gift cards (no variant/SKU) and
//     shipping lines become lines of NonStockSKU so the money balances. The
//     order webhook carries no transactions: the tender is one of the kind of
//     payment_gateway_names for what the lines cost, with total_tip_received
//     as its tip; if the payload does carry transactions, they are the
//     tenders, and any difference to the lines becomes a NonStockSKU line or
//     a discount.
//   - orders/create, any other source: an OnlineOrder on WebChannel
//     reserving the SKU lines at the order's location_id, or DefaultLocation.
//   - orders/paid: ignored — no stock effect, and the canonical events have
//     no payment status.
//   - orders/cancelled of a web order: OrderCancel, releasing what is still
//     reserved. Of a POS order: ignored — a cancellation moves no stock by
//     itself; goods come back only through a refund with a restock type,
//     which refunds/create delivers (a Void as well would restock twice).
//   - refunds/create: a Return at the restock location (else the POS
//     transaction's location, else DefaultLocation) referring to the order's
//     create event, with the refund transactions as tenders. restock_type
//     return and legacy_restock restock; cancel does not — it is for
//     unfulfilled items, which never left, and the web order's reservation is
//     released by its cancellation or fulfilment; no_restock does not
//     (https://shopify.dev/docs/api/admin-graphql/latest/enums/RefundLineItemRestockType).
//     Refunds without restock_type use the legacy restock flag. Lines
//     restocked at another location become a zero-priced Return there.
//   - fulfillments/create of a web order: a Fulfilment of its SKU lines at
//     the fulfillment's location_id. POS orders are fulfilled at the till and
//     Shopify records fulfillments for them too; their Sale already took the
//     stock, so those are ignored. Which kind an order was comes from memory
//     or, across restarts and when the fulfillment arrives first, from the log
//     (Deps.Lookup).
//   - inventory_levels/update: a StockCount of the item's SKU at the location
//     as of updated_at (negative levels count as 0). Levels of unmapped
//     locations are ignored. The payload has no SKU: it comes from SKUs,
//     from inventory_items/* and products/* deliveries, or Deps.ResolveSKU.
//
// Money: Shopify sends decimal strings ("12.99", "1000" for JPY) and, in a
// few places, JSON numbers (refund subtotals, tax rates). Both are taken as
// text and converted to integer minor units with the currency's ISO 4217
// exponent, exactly; a value with more decimals than the currency has is an
// error, never a rounding. IDs are 64-bit and mostly past 2^53: they are kept
// as their decimal text, never decoded through float64.
//
// Inventory levels: Shopify's "available" is on hand minus what is committed
// to open orders, while a tillsync count is on hand (the ledger subtracts
// reservations itself). Counting levels is right for locations whose stock
// Shopify POS owns and where web orders reserve little; set InventoryLevels
// to "ignore" when tillsync's own Shopify channel publishes availability to
// the same locations — otherwise each published level would come back as a
// count, and reservations would be subtracted twice.
package shopify
