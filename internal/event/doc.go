// Package event defines tillsync's canonical retail events: the one shape every
// POS fact takes once it enters the system, whatever source it came from.
//
// It owns the event envelope (stable ID, location, source, time with the
// store's zone), the typed bodies (Sale, Return, Void, …), exact money
// (integer minor units with an ISO 4217 currency), fixed-point quantities,
// validation that names the field and the rule, and the JSON form used on the
// wire and in the log.
//
// It must not do I/O, know about storage, or apply stock effects: the
// inventory package derives those from events.
package event
