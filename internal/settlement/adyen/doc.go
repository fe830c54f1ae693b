// Package adyen reads Adyen's Settlement details report (the CSV generated
// per merchant account and batch, settlement_detail_report_batch_N.csv) into
// settlement transactions: one per line — settled payments, refunds,
// chargebacks and their reversals, fees, deposit corrections and the
// merchant payout that pays the batch to the bank.
//
// Columns are found by their header names: Merchant Account, Psp
// Reference, Merchant Reference, Payment Method, Creation Date, TimeZone,
// Type, Modification Reference, Gross Currency, Gross Debit (GC), Gross Credit
// (GC), Exchange Rate, Net Currency, Net Debit (NC), Net Credit (NC),
// Commission (NC), Markup (NC), Scheme Fees (NC), Interchange (NC), Payment
// Method Variant and Batch Number; Type, a net currency and one of the net
// columns are required. Amounts are exact decimals in major units of their
// currency. The transaction's amount is the net (credit minus debit, in the
// net currency); gross, the four fee columns and the exchange rate make the
// Breakdown, and when gross and net are in one currency every line is
// checked to satisfy net = gross − fees.
//
// Source: Adyen's "Settlement details report" documentation
// (docs.adyen.com/reporting/settlement-detail-report): the column order and
// the sample lines for Settled, Chargeback, Fee ("Transaction Fees"),
// DepositCorrection and MerchantPayout entries, whose nets are gross minus
// commission, markup, scheme fees and interchange.
//
// The TimeZone column's abbreviations (CET, CEST, GMT, BST, JST, …) and
// offsets give Creation Date its zone; an abbreviation it does not know
// leaves the zone unknown and is kept as an attribute.
package adyen
