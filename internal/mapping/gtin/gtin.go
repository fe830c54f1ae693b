// Package gtin validates and normalises GS1 trade item numbers as POS
// scanners and keyboards deliver them: GTIN-8, GTIN-12 (UPC-A), GTIN-13
// (EAN-13) and GTIN-14, UPC-E, with or without leading zeros, scanner
// symbology prefixes and suffixes, and with the check digit left off.
//
// It owns the arithmetic only (GS1 check digits, UPC-E expansion and
// compression, the canonical key); it knows nothing of catalogs.
package gtin

import (
	"fmt"
	"strings"
)

// CheckDigit returns the GS1 mod-10 check digit for body, the digits of a
// GTIN without its last digit. body must be all ASCII digits.
func CheckDigit(body string) byte {
	sum := 0
	// Weights alternate 3,1,3,… starting from the rightmost body digit.
	for i, w := len(body)-1, 3; i >= 0; i-- {
		sum += int(body[i]-'0') * w
		w = 4 - w
	}
	return byte('0' + (10-sum%10)%10)
}

// Digits reports whether s is non-empty and all ASCII digits.
func Digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks that s is a GTIN-8, -12, -13 or -14 with a correct check
// digit, and says what is wrong otherwise.
func Validate(s string) error {
	switch {
	case !Digits(s):
		return fmt.Errorf("GTIN %q: not all digits", s)
	case len(s) != 8 && len(s) != 12 && len(s) != 13 && len(s) != 14:
		return fmt.Errorf("GTIN %q: %d digits, want 8, 12, 13 or 14", s, len(s))
	}
	if want := CheckDigit(s[:len(s)-1]); s[len(s)-1] != want {
		return fmt.Errorf("GTIN %q: check digit is %c, want %c", s, s[len(s)-1], want)
	}
	return nil
}

// Valid reports whether s is a GTIN with a correct check digit.
func Valid(s string) bool { return Validate(s) == nil }

// Key is the canonical form of a valid GTIN: its digits without leading
// zeros, so that the same item matches whether it is written as GTIN-12,
// GTIN-13 or GTIN-14 ("036000291452", "0036000291452", "00036000291452"
// all have the key "36000291452"). The GS1 check digit is position
// independent from the right, so zero padding never changes it.
func Key(s string) string {
	k := strings.TrimLeft(s, "0")
	if k == "" {
		return "0"
	}
	return k
}

// ToGTIN14 left-pads a valid GTIN to 14 digits.
func ToGTIN14(s string) string {
	if len(s) >= 14 {
		return s
	}
	return strings.Repeat("0", 14-len(s)) + s
}

// ExpandUPCE expands an 8-digit UPC-E (number system 0 or 1, six digits,
// check digit) to its 12-digit UPC-A. It reports false if s is not a UPC-E
// or its check digit is wrong.
func ExpandUPCE(s string) (string, bool) {
	if len(s) != 8 || !Digits(s) || (s[0] != '0' && s[0] != '1') {
		return "", false
	}
	body := expandCore(s[0], s[1:7])
	if CheckDigit(body) != s[7] {
		return "", false
	}
	return body + s[7:], true
}

// expandCore turns number system ns and the six UPC-E digits d into the
// first eleven digits of the UPC-A.
func expandCore(ns byte, d string) string {
	var b strings.Builder
	b.Grow(11)
	b.WriteByte(ns)
	switch d[5] {
	case '0', '1', '2':
		b.WriteString(d[0:2])
		b.WriteByte(d[5])
		b.WriteString("0000")
		b.WriteString(d[2:5])
	case '3':
		b.WriteString(d[0:3])
		b.WriteString("00000")
		b.WriteString(d[3:5])
	case '4':
		b.WriteString(d[0:4])
		b.WriteString("00000")
		b.WriteByte(d[4])
	default:
		b.WriteString(d[0:5])
		b.WriteString("0000")
		b.WriteByte(d[5])
	}
	return b.String()
}

// CompressUPCE returns the 8-digit UPC-E of a 12-digit UPC-A, if the UPC-A
// has one (number system 0 or 1 and enough zeros in the right places).
func CompressUPCE(upca string) (string, bool) {
	if len(upca) != 12 || !Valid(upca) || (upca[0] != '0' && upca[0] != '1') {
		return "", false
	}
	m, p, chk := upca[1:6], upca[6:11], upca[11:]
	var d string
	switch {
	case m[2:] == "000" && p[:2] == "00", m[2:] == "100" && p[:2] == "00", m[2:] == "200" && p[:2] == "00":
		d = m[:2] + p[2:5] + m[2:3]
	case m[3:] == "00" && p[:3] == "000":
		d = m[:3] + p[3:5] + "3"
	case m[4] == '0' && p[:4] == "0000":
		d = m[:4] + p[4:5] + "4"
	case p[:4] == "0000" && p[4] >= '5':
		d = m + p[4:5]
	default:
		return "", false
	}
	e := upca[:1] + d + chk
	if back, ok := ExpandUPCE(e); !ok || back != upca {
		return "", false
	}
	return e, true
}
