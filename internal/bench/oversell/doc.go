// Package oversell is the oversell benchmark (tillsync bench oversell): a
// simulated Black Friday on which many stores and an online shop compete
// for scarce SKUs, replayed under three strategies — a scheduled connector
// syncing every 15 minutes, the same every 60 seconds, and tillsync — and
// a measurement of the Shopify channel destination under a backlog.
//
// # The day
//
// A discrete-event simulation in simulated time (default 10 hours from
// 08:00 Berlin, 50 stores, 1,000 SKUs each stocked at 3 stores with 1–5
// units) with Poisson demand rising to four times the base rate in the
// afternoon. Till customers take what is on the shelf; online customers
// check out on a simulated Shopify (internal/sim/shopifyadmin, on the
// simulation's clock, spoken to in GraphQL through its handler), which
// accepts an order only from a location it shows with enough units, routes
// it to the location showing most and takes the units off that level at
// once, as Shopify does. The order reaches the hub and the store after a
// webhook delay (default 0.5–3 s); the store sets the units aside if its
// shelf still has them, else the order moves to the store with the most
// on its shelf (ship-from-store routing), else it was oversold and is
// cancelled without restocking the shop. Every strategy replays the same
// seeded demand, opening stock, delays and routing, with the same rules:
// only how the shop learns of stock differs.
//
// # The strategies
//
//   - batch (15 min, 60 s): at each interval the connector snapshots every
//     level's available stock (on hand less reserved, as the ERP holds
//     it) and overwrites the shop's value where it changed since its last
//     run, 250 quantities per inventorySetQuantities with no compare
//     (changeFromQuantity null). Between runs the shop changes only by
//     its own checkouts.
//   - tillsync: every till sale, online order, cancellation and
//     fulfilment is a canonical event applied to the real ledger
//     (internal/inventory, a memory ledger) — till sales after EdgeDelay
//     (200 ms), online orders after the webhook delay. Each change of a
//     level's available-to-promise (availability.Channel.ATP) is pushed
//     with inventorySetQuantities and changeFromQuantity to the same
//     simulated shop, following the destination's compare-and-set rules
//     (internal/channel/shopify: on a stale compare re-read, keep
//     Shopify's own decrease as an offset until SettleAfter, never write
//     more than the ATP).
//
// # What is measured and what is modelled
//
// Run for real: the ledger and its oversell detection, the channel's ATP,
// the simulator's levels, compare-and-set checks and cost bucket (on the
// simulated clock). Modelled: the time a push takes to land. The Shopify
// destination itself runs on the wall clock (its governor, store, cursor)
// and cannot run in simulated time, so the bench first runs
// shopifybench.Measure — the real destination against the simulator on
// the Standard plan (100 points/s) under a backlog, in real time — and
// each tillsync push lands after a delay drawn from the measured
// sale-to-Shopify latency (p50, p95, p99 and max, interpolated linearly;
// below the median the median). The value written is the ATP as of the
// change's commit, even though it lands later. The push logic in
// tillsync.go restates the destination's documented compare-and-set
// rules; it is not the destination's code.
//
// Oversold units are units of accepted online orders that no store had
// when the order reached the stores; phantom exposure is the time, summed
// over SKUs, that the shop showed at least one unit of a SKU while no
// store had one available (on hand less every unit promised to an
// accepted order), counted until the end of the day. The same per SKU and
// location is reported as level-seconds.
//
// tillsync's remaining window is real and counted, not assumed away: an
// online checkout inside a till sale's propagation delay, or a till sale
// of a unit the shop sold online whose order has not reached the store
// yet, oversells when no other store has the SKU.
//
// It reports; it does not assert. Missed targets are findings; a ledger
// that ends different from the stores, or a shop showing more than the
// ledger's ATP once every push has landed, is an error.
package oversell
