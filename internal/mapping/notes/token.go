package notes

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word, number or symbol of a note.
type token struct {
	raw   string // as typed: case kept, hyphens kept, apostrophes kept
	low   string // lower case, apostrophes and hyphens dropped
	word  string // canonical vocabulary word (abbreviations and typos resolved), else low
	fuzzy bool   // word was reached by edit distance
	sym   byte   // symbol tokens: '%', '#', '-', '+', '@', '(', ')', ',', ':', '/', '.', ';', '&'
	cur   string // currency symbol tokens: "$", "EUR", "GBP", "JPY"
	num   bool   // a number
	val   string // a number's value, as a plain decimal: "79.99", "1299"
	frac  int    // digits after the decimal point as typed
	when  bool   // a time ("10:30") or a date ("12/14"): never money
	gap   bool   // white space (or the start) before the token
}

func (t token) isWord() bool { return t.word != "" && !t.num }

// slashForms are abbreviations written with a slash, rewritten before
// tokenizing so that "p/m" is one word.
var slashForms = []struct {
	re          *regexp.Regexp
	with, needs string // needs: what the note must contain for re to match
}{
	{regexp.MustCompile(`(?i)\bp/m\b`), "pm", "/"},
	{regexp.MustCompile(`(?i)\bo/r\b`), "override", "/"},
	{regexp.MustCompile(`(?i)\bw/o\b`), "without", "/"},
	{regexp.MustCompile(`(?i)\bw/`), "with ", "/"},
	{regexp.MustCompile(`(?i)\bn/a\b`), "na", "/"},
	{regexp.MustCompile(`(?i)\bp/c\b`), "percent", "/"},
	{regexp.MustCompile(`(?i)\bper\s+cent\b`), "percent", "cent"},
}

// tokenize splits a note into tokens. Redaction markers ("[PAN]") are
// dropped; they are not words of the note.
func tokenize(s string) []token {
	low := strings.ToLower(s)
	for _, f := range slashForms {
		if strings.Contains(low, f.needs) {
			s = f.re.ReplaceAllString(s, f.with)
		}
	}
	var out []token
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		first := len(out)
		gap := i == 0 || strings.ContainsRune(" \t\r\n", rune(s[i-1]))
		switch {
		case r == '[':
			if j := strings.IndexByte(s[i:], ']'); j > 0 && j < 24 {
				i += j + 1
				continue
			}
			i += n
		case isDigitByte(s[i]) || (s[i] == '.' && i+1 < len(s) && isDigitByte(s[i+1]) && (i == 0 || !isDigitByte(s[i-1]))):
			t, end := readNumber(s, i)
			out = append(out, t)
			i = end
		case unicode.IsLetter(r):
			end := wordEnd(s, i)
			out = append(out, wordTokens(s[i:end])...)
			i = end
		case r == '$':
			out = append(out, token{raw: "$", cur: "$"})
			i += n
		case r == '€':
			out = append(out, token{raw: "€", cur: "EUR"})
			i += n
		case r == '£':
			out = append(out, token{raw: "£", cur: "GBP"})
			i += n
		case r == '¥':
			out = append(out, token{raw: "¥", cur: "JPY"})
			i += n
		case strings.ContainsRune("%#-+@(),:/.;&", r):
			out = append(out, token{raw: string(r), sym: s[i]}) // one of the ASCII symbols above: its byte
			i += n
		default:
			i += n
		}
		if len(out) > first {
			out[first].gap = gap
		}
	}
	// "5pm", "10 am": a time, not a price match.
	for i := 1; i < len(out); i++ {
		if out[i-1].num && (out[i].low == "pm" || out[i].low == "am") {
			out[i-1].when = true
			out[i].word = out[i].low
		}
	}
	return out
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// readNumber reads a number at s[i:]: "5", "5.00", "79,99", "1,299.00",
// ".5"; or a time "10:30" or date "12/14" (marked when).
func readNumber(s string, i int) (token, int) {
	j := i
	for j < len(s) && (isDigitByte(s[j]) || (s[j] == '.' || s[j] == ',') && j+1 < len(s) && isDigitByte(s[j+1])) {
		j++
	}
	raw := s[i:j]
	if j+1 < len(s) && (s[j] == ':' || s[j] == '/') && isDigitByte(s[j+1]) {
		k := j + 1
		for k < len(s) && (isDigitByte(s[k]) || (s[k] == ':' || s[k] == '/') && k+1 < len(s) && isDigitByte(s[k+1])) {
			k++
		}
		return token{raw: s[i:k], num: true, when: true}, k
	}
	val, frac := decimal(raw)
	return token{raw: raw, num: true, val: val, frac: frac}, j
}

// decimal reads a number typed with '.' or ',' as decimal or thousands
// separators: the last separator is the decimal one if one to two digits
// follow it ("79,99", "5.5"), or if it is a '.' ("1.299" is 1.299);
// the others group thousands.
func decimal(raw string) (string, int) {
	last := strings.LastIndexAny(raw, ".,")
	if last < 0 {
		return trimZeros(raw), 0
	}
	after := len(raw) - last - 1
	decimalSep := after <= 2 || raw[last] == '.' && strings.Count(raw, ".") == 1 && !strings.Contains(raw[:last], ",")
	if raw[last] == ',' && after == 3 {
		decimalSep = false
	}
	intPart, fracPart := raw, ""
	if decimalSep {
		intPart, fracPart = raw[:last], raw[last+1:]
	}
	intPart = strings.NewReplacer(".", "", ",", "").Replace(intPart)
	if intPart == "" {
		intPart = "0"
	}
	v := trimZeros(intPart)
	if fracPart != "" {
		v += "." + fracPart
	}
	return v, len(fracPart)
}

func trimZeros(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" || s[0] == '.' {
		s = "0" + s
	}
	return s
}

// wordEnd finds the end of a word starting at s[i]: letters, digits,
// apostrophes, and hyphens between letters or digits.
func wordEnd(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case r == '\'' || r == '’':
			if i+n >= len(s) {
				return i
			}
			if r2, _ := utf8.DecodeRuneInString(s[i+n:]); !unicode.IsLetter(r2) {
				return i
			}
		case r == '-' || r == '.':
			if i+1 >= len(s) {
				return i
			}
			r2, _ := utf8.DecodeRuneInString(s[i+1:])
			if !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
				return i
			}
			if r == '.' {
				return i // "emp.disc" splits; a dot is never inside a word
			}
		default:
			return i
		}
		i += n
	}
	return i
}

// wordTokens makes the tokens of one word as typed. A hyphenated word of
// letters is one token if its joined form is known ("wal-mart"), else one
// token per part ("in-store"); with digits it stays whole ("BF2026-XYZ").
func wordTokens(raw string) []token {
	if !strings.Contains(raw, "-") || strings.ContainsAny(raw, "0123456789") {
		return []token{wordToken(raw)}
	}
	joined := strings.ReplaceAll(raw, "-", "")
	if _, ok := knownWord(lower(joined)); ok {
		t := wordToken(joined)
		t.raw = raw
		return []token{t}
	}
	var out []token
	for p := range strings.SplitSeq(raw, "-") {
		if p != "" {
			out = append(out, wordToken(p))
		}
	}
	return out
}

func lower(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("'", "", "’", "").Replace(s)
}

func wordToken(raw string) token {
	low := lower(raw)
	t := token{raw: raw, low: strings.ReplaceAll(low, "-", "")}
	t.word, t.fuzzy = normalize(t.low)
	return t
}

// normalize maps a lower-case word to its canonical vocabulary form:
// abbreviations by table, typos by edit distance.
func normalize(low string) (string, bool) {
	if w, ok := knownWord(low); ok {
		return w, false
	}
	if w, ok := closest(low); ok {
		return w, true
	}
	return low, false
}

func knownWord(low string) (string, bool) {
	if w, ok := abbreviations[low]; ok {
		return w, true
	}
	if _, ok := vocabulary[low]; ok {
		return low, true
	}
	if _, ok := exactWords[low]; ok {
		return low, true
	}
	if _, ok := competitorAlias[low]; ok {
		return low, true
	}
	return "", false
}

// closest finds the vocabulary word within edit distance of a typo: one
// edit for words of up to seven letters, two for longer ones. Short words
// (under four letters) and words with digits are never corrected. A tie
// between two candidates is no answer.
func closest(low string) (string, bool) {
	if len(low) < 4 || strings.ContainsAny(low, "0123456789") {
		return "", false
	}
	best, bestD, tie := "", 99, false
	for w := range vocabulary {
		limit := 1
		if len(w) >= 8 && len(low) >= 7 {
			limit = 2
		}
		if d := len(w) - len(low); d > limit || d < -limit {
			continue
		}
		d := editDistance(low, w, limit)
		if d > limit {
			continue
		}
		switch {
		case d < bestD:
			best, bestD, tie = w, d, false
		case d == bestD && w != best:
			tie = true
		}
	}
	if best == "" || tie {
		return "", false
	}
	return best, true
}

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions),
// stopping early once every path exceeds limit.
func editDistance(a, b string, limit int) int {
	var buf [3 * 33]int
	rows := buf[:]
	if len(b) >= 32 {
		rows = make([]int, 3*(len(b)+1))
	}
	prev2, prev, cur := rows[:len(b)+1], rows[len(b)+1:2*(len(b)+1)], rows[2*(len(b)+1):3*(len(b)+1)]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
