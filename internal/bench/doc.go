// Package bench measures tillsync on the machine it runs on. Ingest: hub
// intake against raw database loops (SQLite and PostgreSQL), sale to
// availability through an edge, and an edge draining a backlog. ERP: the
// destination engine draining a hub's log into a simulated NetSuite
// account, against the ceiling its concurrency limit and latency allow,
// and summary mode's events per request. It starts real hubs, edges,
// engines and simulators in-process on loopback ports, with throwaway
// databases, and reports numbers with their targets.
//
// It reports; it does not assert. A missed target is a finding, not an
// error; lost events, and ERP documents lost or duplicated, are errors.
package bench
