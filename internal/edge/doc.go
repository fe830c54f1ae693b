// Package edge is the store agent: it takes events from the store's POS
// terminals, acknowledges each only once it is fsynced to a local SQLite log,
// sends the log to the hub in compressed batches, and trims only what the
// hub says it has durably stored. When the hub is out of reach the store
// keeps selling: the edge keeps accepting, keeps a local stock view (the
// hub's last snapshot plus the store's own unsynced movements), and on
// reconnect drains the backlog as fast as the hub accepts while new events
// go out beside it.
//
// It must not decide stock truth: the hub's ledger is the truth; the edge's
// view is a best estimate for the store while it is cut off.
package edge
