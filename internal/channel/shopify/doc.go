// Package shopify pushes one availability channel to one Shopify shop's
// inventory, so the shop never sells what does not exist.
//
// Like channel/webhook it reads changed positions through its own cursor
// (store.PositionsChangedAfter, cursor "shopify:<name>"), so a slow or
// broken shop holds back only itself, and a shop that comes back gets the
// latest values, coalesced, not every intermediate one. For each changed
// (SKU, location) the channel sells it computes the available-to-promise
// (availability.Channel.ATP, rounded down to whole units), maps the SKU to
// an inventory item (a static map, or productVariants(query: "sku:…") with
// a cache) and the location to a Shopify location, and writes up to 250
// quantities per mutation. The cursor advances only after Shopify
// confirmed every quantity of a page, or the quantity was recorded as
// unmapped or refused (tillsync_shopify_unmapped, logged once per name).
// It owns no storage: what it knows of Shopify lives in memory and is
// re-read after a restart.
//
// # Compare-and-set (mode cas, the default)
//
// inventorySetQuantities writes absolute values and "supports
// compare-and-set functionality to handle concurrent requests properly":
// a quantity is written only if the persisted one still matches the
// expected value, otherwise the mutation fails with a stale error
// (https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities).
// The expected value travels as compareQuantity before API version 2026-01
// (error COMPARE_QUANTITY_STALE) and as changeFromQuantity from 2026-01,
// required from 2026-04, when compareQuantity is removed (error
// CHANGE_FROM_QUANTITY_STALE;
// https://shopify.dev/changelog/concurrency-protection-features). The
// destination picks the field by its API version (default 2026-10) and
// treats both codes alike. It never opts out of the check.
//
// For every key it keeps E, the quantity it believes Shopify holds (the
// last value Shopify confirmed, or read). The ledger is the truth, so the
// value written is the channel's ATP, A — except for one thing the ledger
// may not know yet: a decrease made in Shopify itself (a sale on Shopify
// POS, an online order) reaches tillsync later, through its webhook. So:
//
//  1. Write T = min(A, A + o) with expected value E, where o ≤ 0 is the
//     "offset", normally 0.
//  2. On a stale error, read Shopify's value Q (inventoryItem {
//     inventoryLevel(locationId) { quantities(names: ["available"]) } }),
//     recompute A from the ledger as it is now, and fold Shopify's own
//     movement into the offset: o = min(0, o + Q − E); then E = Q, and
//     write T again with expected value Q. Nothing is ever overwritten
//     without having been read.
//  3. On first contact (no E: the first push of a key, or after a
//     restart), read Q first and treat it the same way, as if Shopify had
//     held A: o = min(0, Q − A).
//  4. An offset is kept for SettleAfter (default 2 minutes) after the last
//     change behind tillsync's back, long enough for Shopify's webhook to
//     bring that sale into the ledger. Then it is dropped and A is written,
//     compare-and-set as always. A negative SettleAfter keeps offsets until
//     a restart.
//
// Why this never oversells: every value written is at most A, the ledger's
// available-to-promise at the time of the write; and a unit Shopify took
// off by itself is never put back by tillsync before SettleAfter, because
// min(A, A + o) keeps Shopify's decrease even when the ledger has not seen
// it. A write that raced with another writer fails its compare and is
// recomputed from a fresh read instead of erasing the other writer's
// change. The cost is the opposite error, briefly: when the ledger already
// held that decrease, it is counted twice until the offset settles (the
// shop shows fewer units than exist, for at most SettleAfter). The
// remaining risk is a Shopify sale whose webhook takes longer than
// SettleAfter to reach the ledger; raise SettleAfter to cover the source's
// worst delivery delay (or make it negative) where that matters.
//
// A write whose answer was lost is harmless. From 2026-01 mutations carry
// @idempotent(key:) with a fresh key per logical write, reused by its
// retries, so the retry is answered with the first attempt's result
// (https://shopify.dev/docs/api/usage/idempotent-requests). Before 2026-01
// the retry's compare fails, and the re-read finds the value already
// written: a Shopify value equal to the lost write's is taken as that
// write, anything else as the larger of the two possible decreases.
//
// Shopify's value can be negative (oversold in Shopify); a target of 0 is
// then left alone rather than hiding the oversell.
//
// The same shop as a source (internal/source/shopify) must not count
// inventory_levels/update for the locations this destination writes
// (InventoryLevels "ignore"): each value written would come back as a
// stock count of what is really available-to-promise. Its orders, on the
// other hand, are what brings Shopify's own sales into the ledger within
// SettleAfter.
//
// # Delta mode (mode adjust)
//
// inventoryAdjustQuantities applies deltas; from 2026-04 it requires an
// idempotency key (@idempotent) and an explicit changeFromQuantity, null to
// opt out (https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations).
// In this mode the delta is the ledger's movement since the last confirmed
// write of the key, sent with changeFromQuantity null: a delta commutes
// with concurrent changes, and the key makes a retried request apply once.
// A key with no baseline (first contact, after a restart) or with an
// offset goes through the compare-and-set path. The mode needs API version
// 2026-01 or later.
//
// It is not the default because deltas do not heal: one lost or doubled
// delta stays forever, Shopify's own sales that reach the ledger through
// its webhook are subtracted a second time, and nothing bounds Shopify's
// value by A. Absolute compare-and-set writes are self-correcting — the
// next write of a key restores the ledger's value — and never exceed A.
//
// # Cost points
//
// The GraphQL Admin API limits each app on each shop with a leaky bucket
// of cost points restored at 100 (Standard), 200 (Advanced), 1,000 (Plus)
// or 2,000 (Enterprise) points per second; every answer reports
// extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus
// {maximumAvailable, currentlyAvailable, restoreRate}}, and a request
// whose requested cost exceeds what is available is refused with
// errors[].extensions.code THROTTLED
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
// The Governor waits before sending until its model of the bucket holds
// the request's cost and replaces the model with every answer's
// throttleStatus; see Governor. A query that could never fit the bucket
// Shopify reports is split. A mutation costs 10 points whatever its size,
// so batching 250 quantities makes writes cheap (about 2,500 quantities a
// second on Standard); reads cost about 3 points a quantity and SKU
// lookups about 4 a SKU, so first contact with a large catalogue (the
// first run, or after a restart) is what spends the bucket: about 30 s
// per 1,000 SKU-locations on Standard. Reads and lookups go in queries of
// about 0.75 s of restore (25 reads on Standard, 100 on Plus), and between
// two of them changes of keys already known overtake the page that waits:
// a sale at a till is written within about a second even behind thousands
// of first contacts. The cursor still moves only past confirmed pages.
//
// # Failures
//
// 5xx answers and network errors are retried with back-off, the same
// request (and idempotency key) each time. 401, 403 and 404 stop the
// destination (Run returns ErrUnauthorized, ErrForbidden or ErrNotFound
// with what to fix); Check finds them at start. A quantity Shopify refuses
// for good (unknown inventory item, not stocked at the location) is
// recorded as unmapped and skipped until its key changes again.
//
// Measure runs the destination against the simulator
// (internal/sim/shopifyadmin) under a backlog and reports bucket
// utilisation, throttled share and sale-to-Shopify latency.
package shopify
