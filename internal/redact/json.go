package redact

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is how deeply JSON may nest, as in encoding/json.
const maxDepth = 10000

// JSON redacts a JSON document, any shape: every string (object keys too)
// and every number is inspected with the name of the field that holds it as
// context, and only what is redacted changes. Everything else, numbers
// included, is copied byte for byte, so an 18-digit ID never passes through
// a float64. A PAN sent as a JSON number becomes a JSON string ("[PAN]" or
// its masked form). It returns b itself when nothing is found, and an
// error, with no output, when b is not valid JSON (RFC 8259).
func (r *Redactor) JSON(b []byte) ([]byte, Findings, error) {
	w := walker{r: r, in: b, pii: r.tok != nil}
	defer w.release()
	if err := w.document(); err != nil {
		return nil, Findings{}, err
	}
	if w.out == nil {
		return b, w.f, nil
	}
	return append(w.out, b[w.copied:]...), w.f, nil
}

// SyntaxError is a JSON document the redactor cannot walk.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("redact: invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// walker walks one JSON document.
type walker struct {
	r      *Redactor
	in     []byte
	out    []byte // nil until the first change
	copied int    // in[:copied] is accounted for in out
	f      Findings
	pii    bool
	// collect, when set, receives findings instead of the document being
	// rewritten (Scan).
	collect func(off int, sp span, text []byte)
	spans   *[]span // scratch: the findings in one value
	dec     []byte  // scratch: an unescaped string
	kdec    []byte  // scratch: an unescaped key
	// names holds the snake-case names of the enclosing fields: a child's
	// name is appended after its parent's, and dropped when it is done.
	names []byte
	num   [40]byte // scratch: the digits of a number
}

func (w *walker) fail(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (w *walker) document() error {
	i := w.ws(0)
	i, err := w.value(i, 0, nil, 0)
	if err != nil {
		return err
	}
	if i = w.ws(i); i != len(w.in) {
		return w.fail(i, "data after the JSON value")
	}
	return nil
}

func (w *walker) ws(i int) int {
	for i < len(w.in) {
		switch w.in[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value walks the value at i, the value of a field called name (snake
// case) of class cls, and returns the offset after it.
func (w *walker) value(i int, cls fieldClass, name []byte, depth int) (int, error) {
	if i >= len(w.in) {
		return i, w.fail(i, "unexpected end of input")
	}
	if depth > maxDepth {
		return i, w.fail(i, "nested more than %d levels deep", maxDepth)
	}
	switch c := w.in[i]; c {
	case '{':
		return w.object(i, cls, name, depth)
	case '[':
		return w.array(i, cls, name, depth)
	case '"':
		end, esc, hot, err := w.stringEnd(i)
		if err != nil {
			return end, err
		}
		w.str(i, end, esc, hot, cls)
		return end, nil
	case 't':
		return w.literal(i, "true")
	case 'f':
		return w.literal(i, "false")
	case 'n':
		return w.literal(i, "null")
	default:
		if c == '-' || isDigit(c) {
			return w.number(i, cls)
		}
		return i, w.fail(i, "unexpected character %q", c)
	}
}

func (w *walker) literal(i int, lit string) (int, error) {
	if !bytes.HasPrefix(w.in[i:], []byte(lit)) {
		return i, w.fail(i, "invalid literal (want %s)", lit)
	}
	return i + len(lit), nil
}

func (w *walker) object(i int, cls fieldClass, name []byte, depth int) (int, error) {
	in := w.in
	i = w.ws(i + 1)
	if i < len(in) && in[i] == '}' {
		return i + 1, nil
	}
	// Only card classes carry into nested objects: {"track2": {"data": …}}.
	inherit := cls & (fieldSAD | fieldCard)
	for {
		if i >= len(in) || in[i] != '"' {
			return i, w.fail(i, "want a string key")
		}
		end, esc, hot, err := w.stringEnd(i)
		if err != nil {
			return end, err
		}
		key := in[i+1 : end-1]
		if esc {
			w.kdec = unescape(w.kdec[:0], key)
			key = w.kdec
		}
		var sk []byte
		mark := len(w.names)
		switch {
		case len(key) > maxFieldName:
		case !esc && isSnake(key):
			sk = key // most keys: no copy
		default:
			w.names = snake(w.names, key)
			sk = w.names[mark:]
		}
		c := w.r.fields.classify(sk, name) | inherit
		if hot {
			w.str(i, end, esc, hot, 0) // keys can hold card numbers too
		}
		i = w.ws(end)
		if i >= len(in) || in[i] != ':' {
			return i, w.fail(i, "want ':' after an object key")
		}
		if i, err = w.value(w.ws(i+1), c, sk, depth+1); err != nil {
			return i, err
		}
		w.names = w.names[:mark]
		i = w.ws(i)
		if i >= len(in) {
			return i, w.fail(i, "unexpected end of input in an object")
		}
		switch in[i] {
		case ',':
			i = w.ws(i + 1)
		case '}':
			return i + 1, nil
		default:
			return i, w.fail(i, "want ',' or '}' in an object")
		}
	}
}

func (w *walker) array(i int, cls fieldClass, name []byte, depth int) (int, error) {
	in := w.in
	i = w.ws(i + 1)
	if i < len(in) && in[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		// Elements are values of the array's field: {"tags": ["…"]}.
		if i, err = w.value(i, cls, name, depth+1); err != nil {
			return i, err
		}
		i = w.ws(i)
		if i >= len(in) {
			return i, w.fail(i, "unexpected end of input in an array")
		}
		switch in[i] {
		case ',':
			i = w.ws(i + 1)
		case ']':
			return i + 1, nil
		default:
			return i, w.fail(i, "want ',' or ']' in an array")
		}
	}
}

// String bytes: strPlain needs nothing, strHot may start a finding.
const (
	strPlain = iota
	strHot
	strQuote
	strEscape
	strControl
)

var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = strControl
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = strHot
	}
	t['@'] = strHot
	t['+'] = strHot
	t['"'] = strQuote
	t['\\'] = strEscape
	return t
}()

// stringEnd finds the end of the string starting with the quote at i. It
// reports whether the string has escapes and whether it has a byte that may
// start a finding (a digit, '@' or '+').
func (w *walker) stringEnd(i int) (end int, esc, hot bool, err error) {
	in := w.in
	j := i + 1
	for j < len(in) {
		switch strClass[in[j]] {
		case strPlain:
			j++
		case strHot:
			hot = true
			j++
		case strQuote:
			return j + 1, esc, hot || esc, nil
		case strEscape:
			esc = true
			if j+1 >= len(in) {
				return j, esc, hot, w.fail(j, "unexpected end of input in a string")
			}
			switch in[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(in) || !allHex(in[j+2:j+6]) {
					return j, esc, hot, w.fail(j, "invalid \\u escape in a string")
				}
				j += 6
			default:
				return j, esc, hot, w.fail(j, "invalid escape %q in a string", in[j+1])
			}
		default:
			return j, esc, hot, w.fail(j, "control character %#x in a string", in[j])
		}
	}
	return j, esc, hot, w.fail(j, "unexpected end of input in a string")
}

// str redacts the string in[start:end] (quotes included), the value of a
// field of class cls.
func (w *walker) str(start, end int, esc, hot bool, cls fieldClass) {
	if !hot && cls&fieldSAD == 0 && (!w.pii || cls&fieldPII == 0) {
		return
	}
	raw := w.in[start+1 : end-1]
	if !esc {
		spans := w.inspect(raw, cls, w.pii)
		for _, sp := range spans {
			w.replace(start+1+sp.start, start+1+sp.end, sp, raw[sp.start:sp.end], false)
		}
		return
	}
	w.dec = unescape(w.dec[:0], raw)
	spans := w.inspect(w.dec, cls, w.pii)
	if len(spans) > 0 {
		if w.collect != nil {
			for _, sp := range spans {
				w.collect(start, sp, w.dec[sp.start:sp.end])
				w.f.inc(sp.kind)
			}
		} else {
			var buf []byte
			buf = append(buf, '"')
			prev := 0
			for _, sp := range spans {
				buf = appendEscaped(buf, w.dec[prev:sp.start])
				buf = append(buf, sp.repl...)
				prev = sp.end
				w.f.inc(sp.kind)
			}
			buf = appendEscaped(buf, w.dec[prev:])
			buf = append(buf, '"')
			w.splice(start, end, buf)
		}
	}
}

// inspect returns the findings in one value; they are valid until the next
// call.
func (w *walker) inspect(s []byte, cls fieldClass, pii bool) []span {
	if w.spans == nil {
		w.spans = getSpans()
	}
	clear(*w.spans)
	*w.spans = (*w.spans)[:0]
	inspect(w.r, s, cls, pii, w.spans)
	return *w.spans
}

// release returns the walker's scratch to its pool.
func (w *walker) release() {
	if w.spans != nil {
		putSpans(w.spans)
		w.spans = nil
	}
}

// replace records one finding over in[a:b]; quote wraps the replacement in
// quotes (a number becoming a string).
func (w *walker) replace(a, b int, sp span, found []byte, quote bool) {
	w.f.inc(sp.kind)
	if w.collect != nil {
		w.collect(a, sp, found)
		return
	}
	w.grow()
	w.out = append(w.out, w.in[w.copied:a]...)
	if quote {
		w.out = append(w.out, '"')
	}
	w.out = append(w.out, sp.repl...)
	if quote {
		w.out = append(w.out, '"')
	}
	w.copied = b
}

func (w *walker) splice(a, b int, repl []byte) {
	w.grow()
	w.out = append(w.out, w.in[w.copied:a]...)
	w.out = append(w.out, repl...)
	w.copied = b
}

func (w *walker) grow() {
	if w.out == nil {
		w.out = make([]byte, 0, len(w.in)+64)
	}
}

// number walks the number at i. A number with 12 to 19 integer digits may
// be a PAN; in fields named for card data or personal data every number is
// a candidate.
func (w *walker) number(i int, cls fieldClass) (int, error) {
	in := w.in
	start := i
	if in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && isDigit(in[i]):
		for i < len(in) && isDigit(in[i]) {
			i++
		}
	default:
		return i, w.fail(i, "invalid number")
	}
	if i < len(in) && in[i] == '.' {
		i++
		d := i
		for i < len(in) && isDigit(in[i]) {
			i++
		}
		if i == d {
			return i, w.fail(i, "invalid number: no digits after '.'")
		}
	}
	exp := false
	if i < len(in) && in[i]|0x20 == 'e' {
		exp = true
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		d := i
		for i < len(in) && isDigit(in[i]) {
			i++
		}
		if i == d {
			return i, w.fail(i, "invalid number: no digits in the exponent")
		}
	}
	lit := in[start:i]
	pii := w.pii && cls&fieldPII != 0
	if len(lit) < 12 && !exp && !pii && cls&(fieldSAD|fieldCard|fieldLast4) == 0 {
		return i, nil // the fast path: too short to be a PAN
	}
	var sp span
	found := false
	switch {
	case cls&fieldSAD != 0:
		var k Kind
		if k, found = sadValue(lit, cls); found {
			sp = span{kind: k, repl: marker(k)}
			break
		}
		fallthrough
	case pii:
		if pii {
			spans := w.inspect(lit, cls, true)
			if found = len(spans) > 0; found {
				sp = spans[0]
			}
			break
		}
		fallthrough
	default:
		cls &^= fieldPII | fieldSAD
		if digits := intDigits(w.num[:0], lit); len(digits) >= 12 && len(digits) <= 19 {
			spans := w.inspect(digits, cls, false)
			if found = len(spans) > 0; found {
				sp = spans[0]
			}
		}
		if !found && len(lit) >= 13 {
			// Not an integer PAN, but the digits are there to read:
			// 4111111111111111.5, 1e4111111111111111.
			spans := w.inspect(lit, cls, false)
			if found = len(spans) > 0; found {
				sp = spans[0]
			}
		}
	}
	if found {
		w.replace(start, i, sp, lit, true)
	}
	return i, nil
}

// intDigits appends the digits of a JSON number's value to dst if it is an
// integer of at most 19 digits ("4111111111111111", "4.111111111111111e15",
// "4111111111111111.0"), and returns dst unchanged otherwise.
func intDigits(dst, lit []byte) []byte {
	if lit[0] == '-' {
		lit = lit[1:]
	}
	mant, exp := lit, 0
	if e := bytes.IndexAny(lit, "eE"); e >= 0 {
		mant = lit[:e]
		x := lit[e+1:]
		neg := false
		if x[0] == '+' || x[0] == '-' {
			neg = x[0] == '-'
			x = x[1:]
		}
		for _, c := range x {
			exp = exp*10 + int(c-'0')
			if exp > 40 {
				return dst // far outside the range of a PAN
			}
		}
		if neg {
			exp = -exp
		}
	}
	intPart, frac := mant, []byte(nil)
	if d := bytes.IndexByte(mant, '.'); d >= 0 {
		intPart, frac = mant[:d], mant[d+1:]
	}
	// value = intPart.frac × 10^exp: move the point exp places right.
	all := len(intPart) + exp // digits of intPart||frac before the point
	if all < 0 {
		return dst
	}
	n0 := len(dst)
	for k := 0; k < len(intPart)+len(frac) || k < all; k++ {
		var c byte = '0'
		switch {
		case k < len(intPart):
			c = intPart[k]
		case k-len(intPart) < len(frac):
			c = frac[k-len(intPart)]
		}
		if k >= all {
			if c != '0' {
				return dst[:n0] // a fraction: not an integer
			}
			continue
		}
		if c == '0' && len(dst) == n0 {
			continue // leading zero
		}
		if len(dst)-n0 == 19 {
			return dst[:n0]
		}
		dst = append(dst, c)
	}
	return dst
}

// unescape appends the decoded content of a JSON string (without quotes)
// to dst, as encoding/json decodes it: invalid surrogates become U+FFFD.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2 : i+6])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					i += 6
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			c = c | 0x20 - 'a' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendEscaped appends s as the content of a JSON string.
func appendEscaped(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
