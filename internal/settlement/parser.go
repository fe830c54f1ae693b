package settlement

import (
	"io"
)

// Parser reads one settlement file format. Parse streams: it calls emit for
// each transaction as soon as it is read, and stops with emit's error if emit
// fails. It returns the file's Summary, and:
//   - an *Error naming the line, record or element when the file cannot be
//     read (transactions emitted before that stand as read; the file does not);
//   - a *ControlTotalError (errors.Is ErrControlTotals) when the file was read
//     to its end but a control total, record count or balance does not check
//     out; the Summary is complete and lists the problems.
type Parser interface {
	Parse(r io.Reader, emit func(Transaction) error) (Summary, error)
}

// ParserFunc adapts a function to Parser.
type ParserFunc func(r io.Reader, emit func(Transaction) error) (Summary, error)

// Parse calls f.
func (f ParserFunc) Parse(r io.Reader, emit func(Transaction) error) (Summary, error) {
	return f(r, emit)
}

// Collect parses r into memory: for tests, examples and small files.
func Collect(p Parser, r io.Reader) ([]Transaction, Summary, error) {
	var txs []Transaction
	sum, err := p.Parse(r, func(tx Transaction) error {
		txs = append(txs, tx)
		return nil
	})
	return txs, sum, err
}
