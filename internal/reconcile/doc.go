// Package reconcile owns matching: card tenders taken at the tills against
// the lines of processor settlement reports and the deposits on bank
// statements, so that every card payment is known to have reached the bank
// and every credit on the bank statement is known to come from sales.
//
// The Engine is incremental. Tenders (from sale and return events) and
// settlement lines (from files parsed by internal/settlement) are fed in any
// order and any number of times; Run matches what it can and keeps the rest
// open, indexed for constant-time candidate lookup (by reference, by card
// last four and day, by amount and day, by batch), so that a line arriving
// in a later file finds its tender and resolves the exception raised for it.
// Every match records the Rule that made it and why, in words.
//
// Rules, most to least certain: reference (one-to-one, or one-to-many and
// many-to-one by the sum over a shared reference), card (last four,
// authorisation code, amount within tolerance, date window), amount and date
// (only when a single candidate fits), chargebacks to the sale they dispute,
// and, for deposits, payout and batch by ID, batch by net amount, a day's
// card tenders of a store less fees, and a batch less a small residue
// (subset-sum with a cap).
//
// Unmatched items become exceptions of kind settlement_unmatched (the
// sub-kind in their evidence) through exception.Inbox, with a stable key
// per open item; exception.Hub puts them in the hub's exceptions inbox. The engine's open items are serialisable (State) so that a
// hub can keep them between runs in a file of its own beside its database.
//
// It must not parse files (internal/settlement does), store events
// (internal/store) or decide what a human should do about an exception
// (internal/inbox). Money is integer minor units with an ISO 4217 currency;
// no float touches an amount.
package reconcile
