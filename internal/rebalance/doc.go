// Package rebalance proposes stock transfers between locations before a
// store runs out: it forecasts demand per SKU and location from the event
// log, turns the forecast into a demand distribution over the lead time
// (days of cover, stockout probability, expected lost sales), and solves,
// per SKU, a min-cost flow that moves pack-sized quantities from locations
// with excess to locations at risk where the expected lost sales avoided are
// worth more than the transfer.
//
// It owns the demand model (forecast.go), the lead-time demand
// distribution (dist.go), the exact solver (solver.go), chain-wide planning
// (plan.go), reading history and positions from the log and ledger
// (history.go), the approval step that turns an approved proposal into
// TransferOut events (approve.go), and the chain simulation behind
// `tillsync bench rebalance` (chainsim.go).
//
// It must not write to the ledger itself: an approved transfer becomes
// events appended through the hub's log like any POS fact, and the ledger,
// the ERP destinations and available-to-promise follow from them.
package rebalance
