// Package settlement owns the normalised view of money that reached an
// account: bank statements (BAI2, camt.053), payment-service payout reports
// (Stripe, Adyen) and generic CSV exports all become Transactions with the
// same fields, so that reconciliation can match till sales, PSP settlements
// and bank credits without knowing where each line came from.
//
// It holds the shared types (Transaction, Date, Summary, the errors and
// problems that name a place in a file), exact decimal parsing, format
// detection from a file's first bytes, and the Parser contract that the
// format packages under it implement. Parsers stream: they emit one
// transaction at a time and never hold a whole file.
//
// It must not guess and must not leak: money is integer minor units with an
// ISO 4217 currency (never a float), a value that cannot be read exactly is
// an error naming the line, record or XML element, and a full card number
// never leaves a parser (only the last four digits are kept; free text is
// masked).
//
// It must not match, post or store anything: that belongs to the
// reconciliation that consumes its transactions.
package settlement
