package settlement

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Place is where in a file something is: a line, with the BAI2 record code,
// the CSV column or the XML element when known.
type Place struct {
	Line int `json:"line,omitempty"`
	// Record is a BAI2 record code ("16", "49").
	Record string `json:"record,omitempty"`
	// Column is a CSV column's header name.
	Column string `json:"column,omitempty"`
	// Element is an XML element path from the statement ("Stmt[2]/Ntry[7]/Amt").
	Element string `json:"element,omitempty"`
}

// String names the place: "record 49 at line 37", "line 12, column
// \"gross\"", "element Stmt[1]/Ntry[3]/Amt at line 45".
func (p Place) String() string {
	var b strings.Builder
	switch {
	case p.Record != "":
		b.WriteString("record " + p.Record)
		if p.Line > 0 {
			b.WriteString(" at line " + strconv.Itoa(p.Line))
		}
	case p.Element != "":
		b.WriteString("element " + p.Element)
		if p.Line > 0 {
			b.WriteString(" at line " + strconv.Itoa(p.Line))
		}
	case p.Line > 0:
		b.WriteString("line " + strconv.Itoa(p.Line))
	}
	if p.Column != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("column " + strconv.Quote(p.Column))
	}
	return b.String()
}

// Problem is a control total or balance that does not check out, at a
// place. The file was read to its end; the transactions stand, but the file
// does not add up.
type Problem struct {
	Place
	Message string `json:"message"`
}

// String is "place: message".
func (p Problem) String() string {
	if s := p.Place.String(); s != "" {
		return s + ": " + p.Message
	}
	return p.Message
}

// Error is a file that cannot be read: the format, where, and why.
type Error struct {
	Format Format
	File   string
	Place  Place
	Err    error
}

// Error reads "bai2: settle.bai: record 16 at line 12: amount "1x" is not a number".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Format))
	if e.File != "" {
		b.WriteString(": " + e.File)
	}
	if s := e.Place.String(); s != "" {
		b.WriteString(": " + s)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error at a place.
func Errorf(f Format, file string, at Place, format string, args ...any) *Error {
	return &Error{Format: f, File: file, Place: at, Err: fmt.Errorf(format, args...)}
}

// ErrControlTotals is matched (errors.Is) by the error a parser returns when
// the file was read to its end but its control totals or balances do not
// check out.
var ErrControlTotals = errors.New("control totals do not check out")

// ControlTotalError lists the problems of a file that does not add up.
type ControlTotalError struct {
	Format   Format
	File     string
	Problems []Problem
}

// Error lists the problems.
func (e *ControlTotalError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Format))
	if e.File != "" {
		b.WriteString(": " + e.File)
	}
	fmt.Fprintf(&b, ": %s:", ErrControlTotals)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + p.String())
	}
	return b.String()
}

// Is matches ErrControlTotals.
func (e *ControlTotalError) Is(target error) bool { return target == ErrControlTotals }
