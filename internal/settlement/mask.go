package settlement

import "strings"

// MaskPANs replaces what looks like a payment card number in free text — 13
// to 19 digits, optionally grouped by single spaces or hyphens, passing the
// Luhn check — by asterisks and its last four digits, so that a card number a
// bank or payer typed into a remittance text cannot travel further. Other
// text is unchanged.
func MaskPANs(s string) string {
	if len(s) < 13 {
		return s
	}
	b := []byte(s)
	changed := false
	for i := 0; i < len(b); {
		if !isDigit(b[i]) || (i > 0 && isAlnum(b[i-1])) {
			i++
			continue
		}
		// Longest run of digits with single separators starting at i.
		var pos []int
		j := i
		for j < len(b) {
			if isDigit(b[j]) {
				pos = append(pos, j)
				j++
				continue
			}
			if (b[j] == ' ' || b[j] == '-') && j+1 < len(b) && isDigit(b[j+1]) && len(pos) > 0 {
				j++
				continue
			}
			break
		}
		end := j
		if end < len(b) && isAlnum(b[end]) {
			// Part of a longer token ("ABC1234…X"): not a card number on its own.
			i = end
			continue
		}
		if maskRun(b, pos) {
			changed = true
		}
		i = end
	}
	if !changed {
		return s
	}
	return string(b)
}

// maskRun masks a run of 13 to 19 digits (at positions pos) that passes
// the Luhn check, keeping the last four. A longer run is some other number
// (an IBAN's digits, a reference) and stays.
func maskRun(b []byte, pos []int) bool {
	if len(pos) < 13 || len(pos) > 19 || !luhn(b, pos) {
		return false
	}
	for _, p := range pos[:len(pos)-4] {
		b[p] = '*'
	}
	return true
}

func luhn(b []byte, pos []int) bool {
	sum := 0
	for k := range pos {
		d := int(b[pos[len(pos)-1-k]] - '0')
		if k%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// LastFour returns the last four digits of a card number as the source
// writes it ("4111111111111111", "************1111", "xxxx 1111"), or "" when
// it has fewer than four digits. Nothing else of the number is kept.
func LastFour(s string) string {
	var d []byte
	for i := len(s) - 1; i >= 0 && len(d) < 4; i-- {
		c := s[i]
		if isDigit(c) {
			d = append(d, c)
			continue
		}
		if c != ' ' && c != '-' && len(d) > 0 {
			break // a masked or lettered position ends the trailing digits
		}
	}
	if len(d) < 4 {
		return ""
	}
	return string([]byte{d[3], d[2], d[1], d[0]})
}

// CleanText trims a free-text field, collapses runs of whitespace and masks
// card numbers.
func CleanText(s string) string {
	return MaskPANs(strings.Join(strings.Fields(s), " "))
}
