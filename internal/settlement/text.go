package settlement

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SkipBOM returns a reader that drops a leading UTF-8 byte-order mark.
func SkipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	return br
}

// Header finds the columns of a CSV header by name, case-insensitively and
// ignoring surrounding spaces.
type Header map[string]int

// NewHeader indexes a header record; the first of duplicate names wins.
func NewHeader(rec []string) Header {
	h := Header{}
	for i, name := range rec {
		k := strings.ToLower(strings.TrimSpace(name))
		if _, dup := h[k]; !dup && k != "" {
			h[k] = i
		}
	}
	return h
}

// Has reports whether the header has the column.
func (h Header) Has(name string) bool {
	_, ok := h[strings.ToLower(name)]
	return ok
}

// Get returns the trimmed value of the named column in rec, or "" when the
// header or the row has no such column. It looks the name up on every call:
// a parser reading many rows resolves its columns once (Columns) instead.
func (h Header) Get(rec []string, name string) string {
	return Field(rec, h.Index(name))
}

// Index returns the position of the named column, or -1 when the header
// has none.
func (h Header) Index(name string) int {
	if i, ok := h[strings.ToLower(strings.TrimSpace(name))]; ok {
		return i
	}
	return -1
}

// Columns are the positions in one file's header of the columns a parser
// reads, resolved once per file: reading a field of a row is then an index,
// not a name lookup. Columns[i] is the position of the i-th name given to
// Header.Columns, or -1 when the header lacks it.
type Columns []int

// Columns resolves names against the header.
func (h Header) Columns(names ...string) Columns {
	c := make(Columns, len(names))
	for i, n := range names {
		c[i] = h.Index(n)
	}
	return c
}

// Has reports whether the header has the i-th column.
func (c Columns) Has(i int) bool { return c[i] >= 0 }

// Get returns the trimmed value of the i-th column in rec ("" when the
// header or the row lacks it).
func (c Columns) Get(rec []string, i int) string { return Field(rec, c[i]) }

// Field returns the trimmed value at position i of rec, or "" when i is
// negative (no such column) or the row is shorter.
func Field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// CSVError turns an encoding/csv error into an *Error at its line.
func CSVError(f Format, file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{Format: f, File: file, Place: Place{Line: pe.Line}, Err: pe.Err}
	}
	return fmt.Errorf("%s: read: %w", f, err)
}

// BlankRecord reports whether every field of a CSV record is empty.
func BlankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}
