// Package store persists tillsync's event log and inventory ledger in SQLite
// (the embedded default: pure Go, WAL, synchronous=FULL) or PostgreSQL (pgx),
// with one schema and one set of queries for both.
//
// It owns connections, migrations, the dialect differences, and the single
// transaction that appends a batch of events, deduplicated on ID forever, and
// applies their ledger changes. It must not decide what events mean: the
// inventory package computes the changes; this package loads what that
// computation needs and writes back what it produced.
package store
