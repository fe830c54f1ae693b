package bai2

import "strings"

// fields reads the comma-separated fields (BAI2 specification, section 2:
// "," delimits fields, adjacent delimiters default a field, "/" ends a
// record) of a logical record across its
// physical records. A "/" at the end of a physical record ends that
// record's fields; the next field, if any, comes from the following 88. The
// end of a physical record is also a field boundary: a field never spans
// records — except the 16 record's text, which runs on through every 88.
type fields struct {
	parts [][]string
	pi    int // current part
	fi    int // next field in the current part
}

func newFields(rec *record) *fields {
	f := &fields{parts: make([][]string, len(rec.parts))}
	for i, p := range rec.parts {
		p = strings.TrimSuffix(strings.TrimRight(p, " "), "/")
		if p != "" {
			f.parts[i] = strings.Split(p, ",")
		}
	}
	return f
}

// next returns the next field and whether there was one.
func (f *fields) next() (string, bool) {
	for f.pi < len(f.parts) {
		if f.fi < len(f.parts[f.pi]) {
			v := f.parts[f.pi][f.fi]
			f.fi++
			return strings.TrimSpace(v), true
		}
		f.pi++
		f.fi = 0
	}
	return "", false
}

// get returns the next field, "" when defaulted or absent.
func (f *fields) get() string {
	v, _ := f.next()
	return v
}

// skip passes n fields.
func (f *fields) skip(n int) {
	for range n {
		f.next()
	}
}

// more reports whether fields are left.
func (f *fields) more() bool {
	for pi, fi := f.pi, f.fi; pi < len(f.parts); pi, fi = pi+1, 0 {
		if fi < len(f.parts[pi]) {
			return true
		}
	}
	return false
}

// text returns the rest of the record as the 16 record's text field: the
// rest of the current physical record (commas included), then each
// continuation's, joined by single spaces.
func (f *fields) text() string {
	var pieces []string
	for f.pi < len(f.parts) {
		if f.fi < len(f.parts[f.pi]) {
			if p := strings.TrimSpace(strings.Join(f.parts[f.pi][f.fi:], ",")); p != "" {
				pieces = append(pieces, p)
			}
		}
		f.pi++
		f.fi = 0
	}
	return strings.Join(pieces, " ")
}
