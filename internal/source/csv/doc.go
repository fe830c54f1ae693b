// Package csv is the CSV drop-folder source for legacy POS systems that can
// only export files: a Watcher picks up each file dropped in a folder,
// reads it with a configured column mapping, and imports it all or
// nothing.
//
// Every row is parsed and every event validated before anything is
// submitted; one problem anywhere moves the file to the failed folder with
// a <file>.error.txt that names the file, line and column of each problem.
// A good file is submitted, and moved to the done folder only after the
// events are durable. Event IDs come from an ID column when one is mapped,
// else from the file's SHA-256 and the row's line, so dropping the same
// file again — or a crash between commit and move — adds nothing.
//
// It reads what spreadsheet and till exports look like in practice: a
// UTF-8 byte-order mark, CRLF line ends, quoted fields, semicolon
// separators and decimal commas (common in European exports).
//
// It must not guess: a value it cannot read exactly (a price with more
// decimals than the currency has, an ambiguous "12,50" without
// decimal_comma) is a problem to fix in the file or the mapping, not a
// rounding.
package csv
