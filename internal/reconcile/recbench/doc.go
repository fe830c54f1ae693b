// Package recbench is the reconciliation benchmark behind `tillsync bench
// reconcile`: it writes a month of card tenders of many stores and the PSP
// settlement report for them (fees, payout batches, missing references,
// refunds, tips, split tenders) as files, then times parsing and matching
// end to end, and a plain in-memory hash join over the same data in the
// same run, and reports the ratio and peak memory.
//
// It owns the synthetic data and the timing; the matching is
// internal/reconcile's and the parsing internal/settlement's. Targets are
// reported, never failed.
package recbench
