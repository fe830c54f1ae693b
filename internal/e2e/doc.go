// Package e2e holds tillsync's end-to-end tests: a hub and a store edge run
// together, simulated POS registers post events to the edge, and the network
// and the processes are broken on purpose. Each test ends by reading the
// hub's event log and checking the promises the system makes to a retailer:
//
//   - Acknowledged means stored: every event the edge acknowledged to a
//     register reaches the hub's log exactly once — none lost, none doubled,
//     nothing the registers did not send — through a link cut under load
//     (TestLinkCut), a link flapping every 150 ms (TestLinkFlap), a long
//     outage with 30,000 buffered events (TestLongOutage; 6,000 with -short
//     or -race), and kill -9 of the edge (TestCrashEdge) or of the hub
//     (TestCrashHub), those two with the real binary and its config files.
//   - Store order survives: in the hub the store's sequence numbers
//     (store_seq) run 1..N without a gap, every event keeps the store_seq it
//     was acknowledged with, and in store_seq order each register's events
//     come in the order the register sent them.
//   - The ledger is the log: the hub's stored stock equals a rebuild from
//     the log (store.CheckLedger) and a rebuild in store order, so the
//     uplink sending new sales ahead of an old backlog changes no stock.
//   - The store keeps working offline and catches up: during an outage the
//     edge's stock view shows its own sales, its health reports the backlog,
//     and the hub's GET /v1/stores lists the store; after the link returns
//     the newest sales overtake the backlog, the backlog drains to zero at
//     the edge and at the hub, and the edge's view converges on the hub's.
//   - Bad input is refused clearly and selectively at the hub's
//     POST /v1/events (TestBadInputRequest, TestBadInputEvents,
//     TestGzipAccepted): whole-request errors carry their documented status
//     and code, and in a mixed batch exactly the valid events are stored.
//
// The tests assert outcomes, never timings: they wait for conditions by
// polling with generous deadlines. Network faults come from
// internal/sim/link. TestMain builds ./cmd/tillsync once for the crash tests
// (with -race when the tests have it). This package has no code outside its
// tests.
package e2e
