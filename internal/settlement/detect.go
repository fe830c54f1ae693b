package settlement

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// SniffLen is how many leading bytes Detect needs at most.
const SniffLen = 8 << 10

// ErrUnknownFormat is returned by Detect when the first bytes fit no format
// that can be recognised without configuration.
var ErrUnknownFormat = errors.New("cannot tell the file's format from its first bytes (BAI2, camt.053, Stripe or Adyen); name it")

// camtNamespace is the namespace prefix of every camt.053 version.
const camtNamespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."

// Detect tells the format from a file's first bytes (up to SniffLen):
//   - BAI2: the first record is a 01 file header ("01,");
//   - camt.053: XML whose text names a camt.053.001.xx namespace;
//   - Stripe: a CSV header with balance_transaction_id and reporting_category;
//   - Adyen: a CSV header with "Psp Reference" and "Merchant Account".
//
// A generic CSV cannot be told from its bytes; it needs a mapping, and
// Detect returns ErrUnknownFormat for it.
func Detect(head []byte) (Format, error) {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("01,")) {
		return FormatBAI2, nil
	}
	if bytes.HasPrefix(trimmed, []byte("<")) {
		if bytes.Contains(head, []byte(camtNamespace)) {
			return FormatCamt053, nil
		}
		return "", ErrUnknownFormat
	}
	line, _, _ := bytes.Cut(trimmed, []byte("\n"))
	cols := headerNames(line)
	switch {
	case cols["balance_transaction_id"] && cols["reporting_category"]:
		return FormatStripe, nil
	case cols["automatic_payout_id"] && cols["reporting_category"] && cols["net"]:
		return FormatStripe, nil
	case cols["psp reference"] && cols["merchant account"]:
		return FormatAdyen, nil
	}
	return "", ErrUnknownFormat
}

// headerNames reads a CSV header line (comma, semicolon or tab separated)
// into its lower-cased column names.
func headerNames(line []byte) map[string]bool {
	out := map[string]bool{}
	for _, sep := range []rune{',', ';', '\t'} {
		r := csv.NewReader(bytes.NewReader(line))
		r.Comma = sep
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		rec, err := r.Read()
		if err != nil && !errors.Is(err, io.EOF) {
			continue
		}
		for _, c := range rec {
			out[strings.ToLower(strings.TrimSpace(c))] = true
		}
	}
	return out
}
