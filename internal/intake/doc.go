// Package intake is the front door for events, shared by the hub and the
// store edge: the HTTP handler for POST /v1/events and the group committer
// behind it.
//
// The handler authenticates the caller, decodes and validates every event on
// its own (one bad event never sinks the others), and hands the valid ones to
// the committer. The committer gathers concurrent requests for a moment and
// writes them to its Sink in one durable transaction, then acknowledges them
// all: nothing is acknowledged before it is on disk.
//
// It must not know how events are stored or what they mean: the Sink (the
// hub's log and ledger, or the edge's outbox) owns that.
package intake
