// Package csv reads any CSV export of bank or PSP transactions into
// settlement transactions through a column mapping from configuration: which
// column holds the booking date (and its Go layout), the amount (one signed
// column, an amount with a credit/debit indicator column, or separate debit
// and credit columns), the currency (a column or a fixed currency), the
// references and the description; the separator, the decimal comma, the
// character encoding and lines to skip before the header.
//
// Amounts are exact decimals in major units ("1.234,56" with decimal_comma;
// thousands grouped only in threes; a trailing minus as some ERP exports
// write it), read into minor units of the row's currency; a value with more
// decimals than the currency has is an error, never a rounding. When gross
// and fee columns are mapped, every row is checked to satisfy amount =
// gross − fee.
//
// The mapped types are refined as for bank files (settlement.Hint): a
// transfer from a known acquirer or PSP is a card settlement.
//
// It must not guess: a mapping that does not fit the file (a missing
// column, a date that does not fit the layout) is an error naming the line
// and column. A column mapped as card_last4 keeps only the last four digits.
package csv
