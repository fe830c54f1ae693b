// Package inbox is the exceptions inbox: one model for integration problems
// (dead letters, mapping failures, connector errors) and business anomalies
// (unmatched settlement, cash variance, oversell, suspicious patterns) that
// need a human.
//
// It owns the model — kinds, severities, the state machine (open,
// acknowledged, resolved, auto_resolved), evidence, ranked suggestions,
// assignee and the append-only trail of every exception — deduplication on
// a stable key, the registry of action handlers (the "replay" of a dead
// letter is one), and the feeds that raise and auto-resolve exceptions from
// what the hub already records (dead letters, oversells).
//
// It must not sit on an event path: feeds read what the engines have
// already committed, asynchronously, so raising an exception never slows or
// fails event processing. It must not know HTTP: the hub serves it.
package inbox
