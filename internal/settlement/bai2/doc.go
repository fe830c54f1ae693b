// Package bai2 reads BAI2 files (BAI Cash Management Balance Reporting
// Specifications, version 2, 2005) into settlement transactions: one per 16
// transaction detail record.
//
// It reads records 01 (file header), 02 (group header), 03 (account
// identifier and summary), 16 (transaction detail), 88 (continuation of the
// previous record, whatever its type), 49 (account trailer), 98 (group
// trailer) and 99 (file trailer); "/" record terminators, defaulted (empty)
// fields, the 16 record's text field that runs to the end of the record and
// on through 88 continuations; funds types 0, 1, 2, Z, V (value date and
// time), S (immediate, one-day and two-or-more-day amounts) and D
// (distributions), so that the bank and customer reference columns after
// them land right; amounts in the implied decimals of the currency of the
// account (03), else of the group (02), else USD as the specification
// defaults.
//
// It verifies every control total and record count: the 49 account control
// total against the algebraic sum of the account's 03 and 16 amounts (funds
// type amounts and item counts excluded) and its record count against the
// account's physical records (03, 16, 88 and the 49 itself); the 98 group
// control total, account count and record count (02 to 98); the 99 file
// control total, group count and record count (01 to 99). A total that does
// not add up is a settlement.Problem naming the record and line; the file is
// still read to the end.
//
// Sources: BAI, Cash Management Balance Reporting Specifications Version
// 2, Technical Reference Manual (10/2005) — section 3 "Record Formats" for
// the records, fields, funds types and trailer definitions, Appendix A for
// the type codes; for the customized type code ranges (900–919 status,
// 920–959 credits, 960–999 debits), Oracle JD Edwards EnterpriseOne's UDC
// table 09/BA; for "/" (a 16 record ends with it unless its text runs on
// into an 88), Oracle EnterpriseOne's "Mapping BAI2 Fields" rules. Banks
// also end text with "/"; one trailing "/" of a text is dropped.
//
// It must not accept what it cannot read: an unknown record code, a record
// out of place, a malformed amount, date or funds type, or a file without a
// 99 trailer is an error naming the record and line.
package bai2
