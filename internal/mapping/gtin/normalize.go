package gtin

import "strings"

// How is how a reading was turned into a GTIN, the evidence a resolver
// weighs: each step is a known, common way scanners and tills garble codes.
type How string

// The normalisation steps, in the order Readings tries them.
const (
	AsIs          How = "as_is"         // a valid GTIN once spaces, dashes and case are cleaned
	ScannerAffix  How = "scanner_affix" // a symbology identifier or terminator removed (]E0, A…, …\r)
	CheckAdded    How = "check_added"   // the check digit was missing and is computed
	UPCE          How = "upc_e"         // a UPC-E expanded to its UPC-A
	OCRDigits     How = "ocr_digits"    // letters read for digits (O→0, I→1, S→5, B→8, Z→2, G→6)
	StrippedZeros How = "leading_zeros" // more than 14 digits with zero padding
)

// Reading is one GTIN a raw scan could stand for.
type Reading struct {
	GTIN string // a valid GTIN, as digits
	Key  string // Key(GTIN)
	How  How
}

// aimPrefixes are AIM symbology identifiers scanners put in front of the
// data (]E0 EAN/UPC, ]E4 EAN-8, ]C1 GS1-128, ]e0 GS1 DataBar, ]d2 GS1
// DataMatrix, ]Q3 GS1 QR) and the one-letter code-ID prefixes of older
// scanners (A UPC-A, E UPC-E, F EAN-13, FF EAN-8).
var aimPrefixes = []string{"]E0", "]E1", "]E2", "]E3", "]E4", "]C1", "]e0", "]d2", "]Q3", "]X0"}

// GS1 application identifier 01 carries a GTIN-14 in GS1-128, DataBar and
// DataMatrix reads: "(01)04006381333931" or "0104006381333931".

// Clean removes what is never part of a code: surrounding whitespace and
// control characters (scanner terminators CR, LF, TAB), inner spaces and
// dashes. It keeps letters, upper-cased.
func Clean(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c <= ' ' || c == 0x7f || c == '-' || c == '.' || c == '_' || c == '/':
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// stripAffixes returns s without a scanner prefix or suffix, and whether
// one was removed.
func stripAffixes(s string) (string, bool) {
	for _, p := range aimPrefixes {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			return s[len(p):], true
		}
	}
	if strings.HasPrefix(s, "(01)") && len(s) == 18 {
		return s[4:], true
	}
	if strings.HasPrefix(s, "01") && len(s) == 16 && Digits(s) {
		return s[2:], true
	}
	if len(s) >= 9 && (s[0] == 'A' || s[0] == 'E' || s[0] == 'F') && Digits(s[1:]) {
		if len(s) >= 10 && s[:2] == "FF" {
			return s[2:], true
		}
		return s[1:], true
	}
	return s, false
}

var ocr = [256]byte{'O': '0', 'Q': '0', 'D': '0', 'I': '1', 'L': '1', 'S': '5', 'B': '8', 'Z': '2', 'G': '6'}

// ocrDigits maps look-alike letters to digits when s is mostly digits; it
// reports false if s has other letters or too few digits to be a GTIN.
func ocrDigits(s string) (string, bool) {
	if len(s) < 6 {
		return "", false
	}
	b := []byte(s)
	letters := 0
	for i, c := range b {
		if c >= '0' && c <= '9' {
			continue
		}
		d := ocr[c]
		if d == 0 {
			return "", false
		}
		b[i] = d
		letters++
	}
	if letters == 0 || letters > 3 {
		return "", false
	}
	return string(b), true
}

// Readings returns every GTIN raw could stand for, most direct first,
// without duplicates. raw is a code as a till sent it.
func Readings(raw string) []Reading {
	var out []Reading
	seen := map[string]bool{}
	add := func(g string, how How) {
		if !Valid(g) {
			return
		}
		k := Key(g)
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, Reading{GTIN: g, Key: k, How: how})
	}
	s := Clean(raw)
	s, affix := stripAffixes(s)
	base := AsIs
	if affix {
		base = ScannerAffix
	}
	digitsOf := func(s string, how How) {
		if !Digits(s) {
			return
		}
		switch n := len(s); {
		case n == 8 || n == 12 || n == 13 || n == 14:
			add(s, how)
		case n > 14 && strings.TrimLeft(s[:n-14], "0") == "":
			add(s[n-14:], StrippedZeros)
		case n == 9 || n == 10 || n == 11:
			// Leading zeros dropped from a UPC-A or EAN-13: padding restores it.
			add(ToGTIN14(s), how)
		}
		// The check digit left off: a 7-, 11-, 12- or 13-digit body.
		if n := len(s); n == 7 || n == 11 || n == 12 || n == 13 {
			add(s+string(CheckDigit(s)), CheckAdded)
		}
		if n := len(s); n == 10 {
			add(s+string(CheckDigit(s)), CheckAdded)
		}
		// UPC-E: 8 digits with number system and check, 7 digits (number
		// system 0 and check, or number system and no check), 6 bare.
		switch len(s) {
		case 8:
			if a, ok := ExpandUPCE(s); ok {
				add(a, UPCE)
			}
		case 7:
			if a, ok := ExpandUPCE("0" + s); ok {
				add(a, UPCE)
			}
			if s[0] == '0' || s[0] == '1' {
				body := expandCore(s[0], s[1:7])
				add(body+string(CheckDigit(body)), UPCE)
			}
		case 6:
			body := expandCore('0', s)
			add(body+string(CheckDigit(body)), UPCE)
		}
	}
	digitsOf(s, base)
	if d, ok := ocrDigits(s); ok {
		n := len(out)
		digitsOf(d, OCRDigits)
		for i := n; i < len(out); i++ {
			out[i].How = OCRDigits
		}
	}
	return out
}
