// Package shopifyadmin simulates the slice of Shopify's GraphQL Admin API
// that tillsync's Shopify channel destination (internal/channel/shopify)
// uses: inventory levels of the "available" quantity, compare-and-set
// writes, delta writes with idempotency keys, SKU lookup through product
// variants, and the cost-based leaky bucket that rate-limits every app on a
// shop.
//
// It serves
//
//	POST /admin/api/<version>/graphql.json   X-Shopify-Access-Token required (401 otherwise)
//	GET  /_sim/stats                          counters for tests and benchmarks
//
// # Not a GraphQL server
//
// There is no GraphQL parser here. A request is matched by the root field
// its query text names and answered from its variables JSON, which is how
// the destination sends everything (the whole mutation input is one
// variable):
//
//	inventorySetQuantities(     variables.input (InventorySetQuantitiesInput), variables.idempotencyKey
//	inventoryAdjustQuantities(  variables.input (InventoryAdjustQuantitiesInput), variables.idempotencyKey
//	productVariants(            variables.query ("sku:A OR sku:\"B C\""), variables.first
//	inventoryItem(              variables item0, location0, item1, location1, …; answered as aliases l0, l1, …
//	shop                        the shop's ID (a cheap ping)
//
// The @idempotent directive is recognised by its text, with the key either
// a literal or a variable. Selection sets are not read: answers carry a
// fixed shape (userErrors {code field message}; nodes {sku inventoryItem
// {id}}; inventoryLevel {quantities {name quantity}}).
//
// # Version rules
//
// The compare-and-set input follows the API version in the path, as the
// changelog describes
// (https://shopify.dev/changelog/concurrency-protection-features):
//
//   - before 2026-01: compareQuantity per quantity, or ignoreCompareQuantity;
//     a mismatch is COMPARE_QUANTITY_STALE, a missing one
//     COMPARE_QUANTITY_REQUIRED.
//   - 2026-01: changeFromQuantity is accepted and, when present (even
//     null), overrides compareQuantity; a mismatch is
//     CHANGE_FROM_QUANTITY_STALE. @idempotent is accepted.
//   - 2026-04 and later: changeFromQuantity is required on every quantity
//     (null opts out), compareQuantity and ignoreCompareQuantity are gone,
//     and inventoryAdjustQuantities requires @idempotent
//     (https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations).
//
// A mutation with any user error changes nothing (all or nothing); the
// errors name the offending input by field path
// (["input","quantities","3","changeFromQuantity"]).
//
// # Cost model
//
// Shopify gives every field an integer cost — scalars and enums 0, objects
// 1, connections sized by their first argument, mutations 10 — and charges
// the requested (worst-case) cost before running a query, refunding the
// difference to the actual cost afterwards; a single query may not request
// more than 1,000 points
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
// The simulator approximates that per operation:
//
//	inventorySetQuantities, inventoryAdjustQuantities   10 (+1 when inventoryAdjustmentGroup is selected)
//	productVariants(first: N)                             2 + 2N requested (variant + its inventoryItem), 2 + 2×returned actual
//	one aliased inventoryItem { inventoryLevel { quantities } }   3 requested; 1 if the item is unknown, 2 if not stocked
//	shop { id }                                           1
//
// # Leaky bucket
//
// Each simulator is one app on one shop, so one bucket. Its restore rate is
// the plan's (Standard 100, Advanced 200, Plus 1,000, Enterprise 2,000
// points per second, per the page above) and its size twenty seconds of
// restore (2,000 points on Standard), which is what throttleStatus reports
// on live shops; both can be overridden. Every answer carries
// extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus
// {maximumAvailable, currentlyAvailable, restoreRate}}; a request whose
// requested cost exceeds what is available is refused with HTTP 200 and
// errors[0].extensions.code "THROTTLED", and charged nothing.
//
// # Behind tillsync's back
//
// SetAvailable and AdjustAvailable change a level as another writer would
// (a sale on Shopify POS, an online order, a merchant's edit), and
// BeforeMutation runs a hook between a mutation's arrival and its
// execution, so a test can make a compare-and-set go stale on purpose.
package shopifyadmin
