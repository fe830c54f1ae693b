// Package quarantine puts SKU mapping into the hub's intake: a Sink in
// front of the log that rewrites every line code the catalog, a source's
// mapping, a rule or a sure repair resolves, records automatic repairs
// with their evidence, and durably holds back events with a code nothing
// resolves — acknowledged, never lost, never blocking the events around
// them. An inbox exception per unknown code offers the resolver's ranked
// candidates; approving one makes a rule and releases every held event it
// resolves into the log, which deduplicates by event ID, so ledger and
// destinations see each released event exactly once.
//
// It owns the quarantine's behaviour, not its tables (internal/store) nor
// the resolver (internal/mapping), and it never writes the log itself: it
// hands events to the next sink.
package quarantine
