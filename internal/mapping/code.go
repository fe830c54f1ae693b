package mapping

import (
	"sort"
	"strings"

	"github.com/tillsync/tillsync/internal/mapping/gtin"
)

// codeKey is a code as the resolver compares it: upper case, without
// whitespace, control characters and separators (- _ / . ,), so that
// "jkt 1042-blk_m" and "JKT1042BLKM" are one key.
func codeKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isSep(c):
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isSep(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '-' || c == '_' || c == '/' || c == '.' || c == ','
}

// segments splits a code at separators into upper-case parts.
func segments(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '-' || r == '_' || r == '/' || r == '.' || r == ','
	})
}

// colours maps the spellings and abbreviations of colours seen on retail
// SKUs and till receipts to one token.
var colours = map[string]string{}

// sizes maps size spellings to one token.
var sizes = map[string]string{}

func init() {
	for canon, spellings := range map[string][]string{
		"BLK": {"BLACK", "BLK", "BK", "BLCK", "BLA"},
		"WHT": {"WHITE", "WHT", "WH", "WHI", "WT"},
		"NVY": {"NAVY", "NVY", "NV", "NAV"},
		"RED": {"RED", "RD"},
		"BLU": {"BLUE", "BLU", "BL"},
		"GRN": {"GREEN", "GRN", "GN", "GRE"},
		"GRY": {"GREY", "GRAY", "GRY", "GY"},
		"BRN": {"BROWN", "BRN", "BRW", "BR"},
		"BGE": {"BEIGE", "BGE", "BEI"},
		"PNK": {"PINK", "PNK", "PK"},
		"YLW": {"YELLOW", "YLW", "YEL", "YL"},
		"ORG": {"ORANGE", "ORG", "ORN", "OR"},
		"PRP": {"PURPLE", "PRP", "PUR", "PU"},
		"OLV": {"OLIVE", "OLV", "OL"},
		"KHK": {"KHAKI", "KHK", "KH"},
		"CHR": {"CHARCOAL", "CHR", "CHA", "CHAR"},
		"SLV": {"SILVER", "SLV", "SIL"},
		"GLD": {"GOLD", "GLD"},
		"CRM": {"CREAM", "CRM"},
		"BRG": {"BURGUNDY", "BRG", "BUR"},
		"TEL": {"TEAL", "TEL"},
		"TAN": {"TAN"},
	} {
		for _, s := range spellings {
			colours[s] = canon
		}
	}
	for canon, spellings := range map[string][]string{
		"XXS": {"XXS", "2XS"},
		"XS":  {"XS", "XSMALL", "XSM"},
		"S":   {"S", "SM", "SML", "SMALL"},
		"M":   {"M", "MD", "MED", "MEDIUM"},
		"L":   {"L", "LG", "LRG", "LARGE"},
		"XL":  {"XL", "XLARGE", "XLG"},
		"XXL": {"XXL", "2XL", "XXLARGE"},
		"3XL": {"XXXL", "3XL"},
		"4XL": {"XXXXL", "4XL"},
		"OS":  {"OS", "ONESIZE"},
	} {
		for _, s := range spellings {
			sizes[s] = canon
		}
	}
}

// sizeUnits end a measured size: 500G, 1.5L (as 15L after cleaning is not
// kept: dots separate), 330ML, 20MM.
var sizeUnits = []string{"KG", "G", "ML", "CL", "L", "OZ", "LB", "MM", "CM", "IN", "W", "V", "PK", "CT"}

// attrToken returns the canonical form of seg if it is a variant attribute
// (a colour, a size, a measure) and which kind it is.
func attrToken(seg string) (string, byte) {
	if c, ok := colours[seg]; ok {
		return c, 'c'
	}
	if s, ok := sizes[seg]; ok {
		return s, 's'
	}
	if gtin.Digits(seg) && len(seg) <= 2 {
		return strings.TrimLeft(seg, "0"), 's' // numeric sizes 4..48
	}
	// Numeric size with a half: 9H, 10H; waist-length 32X34; thread M8.
	if n := len(seg); n >= 2 && n <= 4 && seg[n-1] == 'H' && gtin.Digits(seg[:n-1]) {
		return seg, 's'
	}
	if i := strings.IndexByte(seg, 'X'); i > 0 && gtin.Digits(seg[:i]) && gtin.Digits(seg[i+1:]) && len(seg) <= 5 {
		return seg, 's'
	}
	if len(seg) >= 2 && len(seg) <= 3 && seg[0] == 'M' && gtin.Digits(seg[1:]) {
		return seg, 's'
	}
	for _, u := range sizeUnits {
		if len(seg) > len(u) && strings.HasSuffix(seg, u) && gtin.Digits(seg[:len(seg)-len(u)]) {
			return strings.TrimLeft(seg[:len(seg)-len(u)], "0") + u, 's'
		}
	}
	return "", 0
}

// variantKey is a code's base with its variant attributes in canonical
// spelling and order: "JKT1042-BLK-M", "jkt1042 m black" and
// "JKT1042_MEDIUM_BLK" share "JKT1042|BLK.M". The first segment is always
// base. It returns "" for a code without attributes.
func variantKey(code string) string {
	segs := segments(code)
	if len(segs) < 2 {
		return ""
	}
	var base, attrs []string
	base = append(base, segs[0])
	for _, s := range segs[1:] {
		if a, kind := attrToken(s); kind != 0 {
			attrs = append(attrs, a)
		} else {
			base = append(base, s)
		}
	}
	if len(attrs) == 0 {
		return ""
	}
	sort.Strings(attrs)
	return strings.Join(base, "") + "|" + strings.Join(attrs, ".")
}

// attrsOf returns the canonical attribute tokens of a code's segments after
// the first, by kind ('c' colour, 's' size).
func attrsOf(code string) map[byte]string {
	segs := segments(code)
	out := map[byte]string{}
	for _, s := range segs[min(1, len(segs)):] {
		if a, kind := attrToken(s); kind != 0 {
			out[kind] += a + " "
		}
	}
	return out
}

// Edit kinds of a single edit between two code keys.
const (
	editTransposition = "transposition"
	editOCR           = "ocr"
	editKeyboard      = "keyboard"
	editSubstitution  = "substitution"
	editRepeat        = "repeat" // a key pressed twice, or a doubled key pressed once
	editInsertion     = "insertion"
	editDeletion      = "deletion"
)

// ocrPairs are characters OCR and tired eyes confuse.
var ocrPairs = map[[2]byte]bool{}

// keyboardNeighbours are keys next to each other on a QWERTY keyboard, its
// number row and a numeric keypad.
var keyboardNeighbours = map[[2]byte]bool{}

func init() {
	for _, p := range []string{"O0", "Q0", "D0", "I1", "L1", "S5", "B8", "Z2", "G6", "T7", "A4", "U0"} {
		ocrPairs[[2]byte{p[0], p[1]}] = true
		ocrPairs[[2]byte{p[1], p[0]}] = true
	}
	rows := []string{"1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"}
	for r, row := range rows {
		for i := 0; i < len(row); i++ {
			if i+1 < len(row) {
				addPair(keyboardNeighbours, row[i], row[i+1])
			}
			// Diagonals: the key below-left and below.
			if r+1 < len(rows) {
				next := rows[r+1]
				for _, j := range []int{i - 1, i} {
					if j >= 0 && j < len(next) {
						addPair(keyboardNeighbours, row[i], next[j])
					}
				}
			}
		}
	}
	pad := []string{"789", "456", "123", "0"}
	for r, row := range pad {
		for i := 0; i < len(row); i++ {
			if i+1 < len(row) {
				addPair(keyboardNeighbours, row[i], row[i+1])
			}
			if r+1 < len(pad) && i < len(pad[r+1]) {
				addPair(keyboardNeighbours, row[i], pad[r+1][i])
			}
		}
	}
}

func addPair(m map[[2]byte]bool, a, b byte) {
	m[[2]byte{a, b}] = true
	m[[2]byte{b, a}] = true
}

// singleEdit reports the kind of the one edit that turns want into got, and
// false if they are equal or more than one edit apart (restricted
// Damerau-Levenshtein distance 1).
func singleEdit(got, want string) (string, bool) {
	switch len(got) - len(want) {
	case 0:
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		if i == len(got) {
			return "", false
		}
		if got[i+1:] == want[i+1:] {
			a, b := got[i], want[i]
			switch {
			case ocrPairs[[2]byte{a, b}]:
				return editOCR, true
			case keyboardNeighbours[[2]byte{a, b}]:
				return editKeyboard, true
			}
			return editSubstitution, true
		}
		if i+1 < len(got) && got[i] == want[i+1] && got[i+1] == want[i] && got[i+2:] == want[i+2:] {
			return editTransposition, true
		}
		return "", false
	case 1: // got has an extra character
		i := 0
		for i < len(want) && got[i] == want[i] {
			i++
		}
		if got[i+1:] != want[i:] {
			return "", false
		}
		if (i > 0 && got[i] == got[i-1]) || (i+1 < len(got) && got[i] == got[i+1]) {
			return editRepeat, true
		}
		return editInsertion, true
	case -1: // got lacks a character
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		if got[i:] != want[i+1:] {
			return "", false
		}
		if (i > 0 && want[i] == want[i-1]) || (i+1 < len(want) && want[i] == want[i+1]) {
			return editRepeat, true
		}
		return editDeletion, true
	}
	return "", false
}
