// Package stripe reads Stripe's itemized payout reconciliation report
// (report types payout_reconciliation.itemized.*, the CSV behind the
// Dashboard's "Payout reconciliation → Itemized" download) into settlement
// transactions: one per balance transaction, with the automatic payout it
// was paid out in as its batch reference.
//
// Columns are found by their header names (Stripe lets the columns be
// chosen and ordered): currency and net are required; gross and fee, when
// present, make a Breakdown, and every row is checked to satisfy net =
// gross − fee. Amounts are decimal strings in major units ("100.00",
// "1000" for JPY; a decimal comma when the report was run with one), read
// exactly into minor units of the row's currency. reporting_category
// (charge, refund, dispute, fee, payout, …) gives the type and is kept as the
// code. created_utc and available_on_utc are the booking and value dates.
//
// Source: Stripe's report type reference, "Payout reconciliation report
// type" (docs.stripe.com/reports/report-types/payout-reconciliation), whose
// schema says gross, fee and net are "expressed in major units of the
// currency (e.g. dollars for USD, yen for JPY)" and currency is a
// lower-case ISO code; the reporting categories are Stripe's "Reporting
// categories" list.
//
// Customer names, e-mail addresses and shipping addresses are not read;
// metadata columns (payment_metadata[…] and the like) are kept as
// attributes with card numbers masked.
package stripe
