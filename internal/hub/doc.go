// Package hub composes the central tillsync process: intake and group
// commit into the log and ledger, availability fan-out (SSE and webhooks),
// store sync health, the JSON API and metrics. It is wiring: the behaviour
// lives in the packages it wires.
package hub
