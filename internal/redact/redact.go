package redact

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
)

// Config configures a Redactor. The zero value removes card data and
// leaves personal data alone.
type Config struct {
	// Mask keeps the display form of a PAN, its BIN and last four digits
	// ("411111******1111", PCI DSS Req. 3.4.1), instead of removing it.
	// Sensitive authentication data is removed either way.
	Mask bool
	// MaskBIN8 keeps eight BIN digits instead of six on PANs of 16 or more
	// digits. Only some brands accept "first 8, last 4" as truncation for
	// storage (PCI SSC FAQ 1091); confirm with yours before turning it on.
	MaskBIN8 bool
	// IDFields names the fields that hold platform IDs ("id", "*_id",
	// "order.number"): Luhn-valid numbers in them stay unless a card
	// keyword is near. Nil means DefaultIDFields; an empty slice, none.
	IDFields []string
	// PIIFields names the fields holding personal data, tokenized whole
	// when Tokenizer is set. Nil means DefaultPIIFields; an empty slice,
	// none.
	PIIFields []string
	// Tokenizer, if set, replaces personal data with keyed tokens: the
	// PIIFields, and e-mail addresses and phone numbers in any text. Nil
	// leaves personal data as it is.
	Tokenizer *Tokenizer
}

// Redactor removes card data and tokenizes personal data. It is safe for
// concurrent use.
type Redactor struct {
	mask, bin8 bool
	fields     fieldSet
	tok        *Tokenizer
}

// New returns a Redactor. Field patterns are names ("email"), names with one
// '*' at the start or end ("*_id"), or a parent and a name ("customer.name",
// "*_address.name"); names compare in snake case, so "orderId" matches
// "order_id".
func New(c Config) (*Redactor, error) {
	r := &Redactor{mask: c.Mask, bin8: c.MaskBIN8, tok: c.Tokenizer}
	add := func(names []string, cl fieldClass) error {
		for _, n := range names {
			if err := r.fields.add(n, cl); err != nil {
				return err
			}
		}
		return nil
	}
	ids := c.IDFields
	if ids == nil {
		ids = DefaultIDFields()
	}
	piis := c.PIIFields
	if piis == nil {
		piis = DefaultPIIFields()
	}
	if err := add(ids, fieldID); err != nil {
		return nil, fmt.Errorf("redact: ID fields: %w", err)
	}
	for _, p := range piis {
		if err := r.fields.add(p, piiClass(strings.ToLower(p))); err != nil {
			return nil, fmt.Errorf("redact: PII fields: %w", err)
		}
	}
	for _, set := range []struct {
		names []string
		class fieldClass
	}{{cardFields, fieldCard}, {last4Fields, fieldLast4}, {cvvFields, fieldCVV}, {pinFields, fieldPIN}, {trackFields, fieldTrack}} {
		if err := add(set.names, set.class); err != nil {
			panic(err) // the fixed lists are valid: a test covers them
		}
	}
	return r, nil
}

// backstop is the Redactor of the log handler and of package-level helpers:
// default fields, card data only.
var backstop = func() *Redactor {
	r, err := New(Config{})
	if err != nil {
		panic(err)
	}
	return r
}()

// Text redacts a free-text string: PANs, track data, CVVs and PINs named by
// a keyword, and (with a Tokenizer) e-mail addresses and phone numbers. It
// returns s itself when nothing is found.
func (r *Redactor) Text(s string) (string, Findings) {
	return r.field(s, 0, r.tok != nil)
}

// spanBufs recycles the slices findings are collected in.
var spanBufs = sync.Pool{New: func() any { b := make([]span, 0, 16); return &b }}

func getSpans() *[]span { return spanBufs.Get().(*[]span) }

func putSpans(bp *[]span) {
	clear(*bp) // drop the replacement strings
	*bp = (*bp)[:0]
	spanBufs.Put(bp)
}

// field redacts one string value of a field of a class.
func (r *Redactor) field(s string, cls fieldClass, pii bool) (string, Findings) {
	bp := getSpans()
	inspect(r, s, cls, pii, bp)
	out, f := apply(s, *bp)
	putSpans(bp)
	return out, f
}

func apply(s string, spans []span) (string, Findings) {
	var f Findings
	if len(spans) == 0 {
		return s, f
	}
	var b strings.Builder
	b.Grow(len(s))
	prev := 0
	for _, sp := range spans {
		b.WriteString(s[prev:sp.start])
		b.WriteString(sp.repl)
		prev = sp.end
		f.inc(sp.kind)
	}
	b.WriteString(s[prev:])
	return b.String(), f
}

// inspect finds what to replace in one value of a field of class cls and
// appends it to *out, in order and without overlaps; a rule about the whole
// value gives one span over all of it. pii enables tokenizing.
func inspect[T text](r *Redactor, s T, cls fieldClass, pii bool, out *[]span) {
	if cls&fieldSAD != 0 {
		if k, ok := sadValue(s, cls); ok {
			*out = append(*out, span{end: len(s), kind: k, repl: marker(k)})
			return
		}
	}
	if pii && r.tok != nil && cls&fieldPII != 0 {
		if isToken(s) || isBlank(s) {
			return
		}
		k := Personal
		switch {
		case cls&fieldEmail != 0:
			k = Email
		case cls&fieldPhone != 0:
			k = Phone
		}
		*out = append(*out, span{end: len(s), kind: k, repl: r.tok.Token(k, string(s))})
		return
	}
	base := len(*out)
	sc := scanner[T]{r: r, s: s, cls: cls, pii: pii && r.tok != nil, out: out}
	sc.run()
	if cls&fieldLast4 != 0 {
		// The last four digits of a card, given the whole card: keep the
		// four.
		for _, sp := range (*out)[base:] {
			if sp.kind == PAN {
				d := appendDigits(nil, s[sp.start:sp.end])
				*out = append((*out)[:base], span{end: len(s), kind: PAN, repl: string(d[len(d)-4:])})
				return
			}
		}
	}
}

// sadValue applies the rules of fields named for sensitive authentication
// data to their whole value.
func sadValue[T text](s T, cls fieldClass) (Kind, bool) {
	t := trim(s)
	switch {
	case cls&fieldTrack != 0 && hasDigit(t):
		return Track, true
	case cls&fieldPIN != 0 && (allDigits(t) && len(t) >= 4 && len(t) <= 12 || (len(t) == 16 || len(t) == 32) && allHex(t)):
		return PIN, true
	case cls&fieldCVV != 0 && allDigits(t) && (len(t) == 3 || len(t) == 4):
		return CVV, true
	}
	return 0, false
}

func marker(k Kind) string {
	switch k {
	case PAN:
		return markPAN
	case Track:
		return markTrack
	case CVV:
		return markCVV
	}
	return markPIN
}

// panRepl is what replaces a PAN written as s (digits, maybe grouped).
func panRepl[T text](r *Redactor, s T) string {
	if !r.mask {
		return markPAN
	}
	var buf [19]byte
	var out [19]byte
	return string(maskPAN(out[:0], appendDigits(buf[:0], s), r.bin8))
}

func appendDigits[T text](dst []byte, s T) []byte {
	for i := range len(s) {
		if isDigit(s[i]) {
			dst = append(dst, s[i])
		}
	}
	return dst
}

func trim[T text](s T) T {
	a, b := 0, len(s)
	for a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r') {
		a++
	}
	for b > a && (s[b-1] == ' ' || s[b-1] == '\t' || s[b-1] == '\n' || s[b-1] == '\r') {
		b--
	}
	return s[a:b]
}

func isBlank[T text](s T) bool { return len(trim(s)) == 0 }

func hasDigit[T text](s T) bool {
	for i := range len(s) {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

func allDigits[T text](s T) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func allHex[T text](s T) bool {
	for i := range len(s) {
		if !isHex(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// Bytes redacts input of unknown form, as a command line tool or a log
// shipper gets it: a JSON document is walked as JSON; otherwise each line
// that is a JSON object or array is walked as JSON and every other line is
// redacted as text.
func (r *Redactor) Bytes(b []byte) ([]byte, Findings) {
	if looksJSON(b) {
		if out, f, err := r.JSON(b); err == nil {
			return out, f
		}
	}
	var out []byte
	var total Findings
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		b = b[len(line):]
		if looksJSON(line) {
			if red, f, err := r.JSON(line); err == nil {
				out = append(out, red...)
				total.Add(f)
				continue
			}
		}
		red, f := r.Text(string(line))
		out = append(out, red...)
		total.Add(f)
	}
	return out, total
}

func looksJSON(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 1 && (t[0] == '{' && t[len(t)-1] == '}' || t[0] == '[' && t[len(t)-1] == ']')
}
