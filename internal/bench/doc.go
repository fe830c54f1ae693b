// Package bench measures tillsync's ingest path on the machine it runs on:
// hub intake against raw database loops (SQLite and PostgreSQL), sale to
// availability through an edge, and an edge draining a backlog. It starts
// real hubs and edges in-process on loopback ports, with throwaway
// databases, and reports numbers with their targets.
//
// It reports; it does not assert. A missed target is a finding, not an
// error; lost events are an error.
package bench
