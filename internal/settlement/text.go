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
// header or the row has no such column.
func (h Header) Get(rec []string, name string) string {
	i, ok := h[strings.ToLower(name)]
	if !ok || i >= len(rec) {
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
