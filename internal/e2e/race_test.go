//go:build race

package e2e_test

// raceEnabled says the tests run with the race detector, which slows the
// embedded SQLite engine (pure Go) about tenfold: waits get more patience
// and the long outage buffers fewer events.
const raceEnabled = true

const slowdown = 4
