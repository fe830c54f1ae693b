// Package redact keeps card data out of tillsync: it finds primary account
// numbers (PANs), track data, card verification codes and PINs in any
// string, JSON document, canonical event or log record, and removes them
// (or masks a PAN to its BIN and last four digits) at the first hop, before
// anything is written or logged (PCI DSS v4.0.1 Req. 3.3.1, 3.4.1, 3.5.1).
// With a Tokenizer it also replaces personal data (e-mail addresses, phone
// numbers, names, addresses) with keyed HMAC-SHA256 tokens that still join
// (Req. 3.5.1.1 asks the same of hashes of PANs).
//
// It owns the detection rules (the IIN table, Luhn, context keywords, the
// field names that hold IDs, card data and personal data), the slog
// backstop (NewLogHandler) and the scanner for files and SQLite databases
// (Scan, ScanFile, ScanPath) behind `tillsync scan`.
//
// Detection is one left-to-right pass over the bytes with no regular
// expressions: a candidate is a run of 13–19 digits, possibly grouped by
// single spaces or dashes, that passes Luhn and matches a network's IIN
// range and length; context then weighs in. Lowering: an ID field
// (Config.IDFields), a valid GTIN-13/14 barcode, a '+' before at most 15
// digits (E.164), an unusual grouping, a long hex string. Raising: a card
// keyword ("card", "visa", "pan", …) in the 48 bytes before it, or a field
// named for a card number, where any 12–19 digits are removed. Digits next
// to mask characters ("411111******1111", "•••• 4242") are already masked
// and stay. Short numbers are removed only after a CVV or PIN keyword, so
// quantities and prices stay. Redacting twice gives what redacting once
// gave.
//
// Sources: PCI DSS v4.0.1 Req. 3.3.1 (SAD not kept after authorization:
// full track, card verification code, PIN and PIN block) and Req. 3.4.1
// (display at most the BIN and last four), as reproduced at
// https://sammy.codific.com/browse/pci-dss-401/protect-account-data/protect-stored-account-data/;
// PCI SSC FAQ 1091 and the 8-digit-BIN FAQ on truncation formats
// (https://www.pcisecuritystandards.org/faq/articles/Frequently_Asked_Question/how-can-an-entity-meet-pci-dss-requirements-for-pan-masking-and-truncation-if-it-has-migrated-to-8-digit-bins/);
// ISO/IEC 7813 track layouts (start sentinels '%' and ';', separators '^'
// and '=', end sentinel '?'), e.g.
// https://pdfcoffee.com/card-track-details-pdf-free.html. The IIN table's
// sources are listed in iin.go, the keyed-hash rule's in tokenize.go.
//
// It must not keep, log or return any value it removes: Findings and Hit
// carry counts, kinds, brands and masked forms only. It does not decide
// what an event means (the event package validates) and holds no state
// beyond its configuration.
package redact
