package reconcile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tillsync/tillsync/internal/settlement"
)

// part is a run of whole CSV records of a file: [off, off+n), starting at
// 1-based line first.
type part struct {
	off, n int64
	first  int
	lines  int // line breaks outside quotes: the records, less blank lines
}

// splitCSV finds the header line of a CSV file and cuts the rest into up
// to parts runs of whole records of about equal size, never inside a
// quoted field (a field may hold a newline).
func splitCSV(r io.ReaderAt, size int64, parts int) ([]byte, []part, error) {
	const block = 1 << 20
	buf := make([]byte, block)
	var (
		header  []byte
		out     []part
		inQuote bool
		line          = 1
		start   int64 = -1 // where the current part starts
		first   int
		next    int64 // the offset from which the next cut may be made
		records int   // record ends since the current part started
	)
	step := max(size/int64(max(parts, 1)), 1)
	for off := int64(0); off < size; {
		n, err := r.ReadAt(buf, off)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, err
		}
		b := buf[:n]
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				inQuote = !inQuote
			case '\n':
				line++
				if inQuote {
					continue
				}
				at := off + int64(i) + 1
				records++
				switch {
				case header == nil:
					header = make([]byte, at)
					if _, err := r.ReadAt(header, 0); err != nil {
						return nil, nil, err
					}
					start, first, next, records = at, line, at+step, 0
				case at >= next && at < size:
					out = append(out, part{off: start, n: at - start, first: first, lines: records})
					start, first, next, records = at, line, at+step, 0
				}
			default:
				// Skip ahead to the next quote or newline.
				j := bytes.IndexAny(b[i:], "\"\n")
				if j < 0 {
					i = len(b)
				} else {
					i += j - 1
				}
			}
		}
		off += int64(n)
	}
	if header == nil {
		return nil, nil, fmt.Errorf("no complete header line")
	}
	if start < size {
		out = append(out, part{off: start, n: size - start, first: first, lines: records + 1})
	}
	return header, out, nil
}

// ParallelParse parses a CSV settlement report whose rows stand alone
// (Stripe, Adyen) in up to parts pieces at once, one parser each from
// newParser, and returns the lines in file order. Line numbers, problems
// and errors name the whole file's lines. count, if not nil, is told the
// bytes each piece reads as it goes (for a progress bar). The pieces write
// into one slice sized from the records counted while cutting, so the
// lines are held once.
func ParallelParse(r io.ReaderAt, size int64, parts int, newParser func() settlement.Parser, count func(int)) ([]Line, settlement.Summary, error) {
	header, ps, err := splitCSV(r, size, parts)
	if err != nil {
		return nil, settlement.Summary{}, err
	}
	type result struct {
		lines []Line
		sum   settlement.Summary
		err   error
	}
	res := make([]result, len(ps))
	total := 0
	for _, p := range ps {
		total += p.lines
	}
	all := make([]Line, total)
	base := 0
	var wg sync.WaitGroup
	for k, p := range ps {
		mine := all[base : base : base+p.lines]
		base += p.lines
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := io.MultiReader(bytes.NewReader(header), &countReader{r: io.NewSectionReader(r, p.off, p.n), count: count})
			shift := p.first - 2 // the piece's first record is its line 2
			lines := mine
			sum, err := ReadSettlement(newParser(), in, func(l Line) error {
				l.Row += shift
				lines = append(lines, l)
				return nil
			})
			for i := range sum.Problems {
				sum.Problems[i].Line += shift
			}
			var se *settlement.Error
			if errors.As(err, &se) && se.Place.Line > 1 {
				se.Place.Line += shift
			}
			res[k] = result{lines, sum, err}
		}()
	}
	wg.Wait()
	var sum settlement.Summary
	var ctl *settlement.ControlTotalError
	for k := range res {
		if res[k].err != nil && !errors.As(res[k].err, &ctl) {
			return nil, sum, res[k].err // the first piece that cannot be read
		}
	}
	ctl = nil
	// Close the gaps blank lines left; a piece that outgrew its room (it
	// cannot, unless a record gives several lines) is appended.
	out := all[:0]
	for k := range res {
		ls := res[k].lines
		if len(ls) > 0 && len(out) < len(all) && &ls[0] == &all[len(out)] {
			out = out[:len(out)+len(ls)]
		} else {
			out = append(out, ls...)
		}
		res[k].lines = nil
		s := res[k].sum
		if k == 0 {
			sum = s
			sum.Totals = map[string]settlement.Totals{}
			sum.Problems = nil
			sum.Transactions, sum.ControlTotalsChecked = 0, 0
		}
		sum.Transactions += s.Transactions
		sum.ControlTotalsChecked += s.ControlTotalsChecked
		sum.Problems = append(sum.Problems, s.Problems...)
		for cur, t := range s.Totals {
			tt := sum.Totals[cur]
			tt.Credits += t.Credits
			tt.Debits += t.Debits
			tt.Net += t.Net
			sum.Totals[cur] = tt
		}
		var ce *settlement.ControlTotalError
		if errors.As(res[k].err, &ce) && ctl == nil {
			ctl = &settlement.ControlTotalError{Format: ce.Format, File: ce.File}
		}
	}
	if sum.Problems == nil {
		sum.Problems = []settlement.Problem{}
	}
	sum.ControlTotalsOK = len(sum.Problems) == 0
	if ctl != nil {
		ctl.Problems = sum.Problems // the problems share the summary's lines
		return out, sum, ctl
	}
	return out, sum, nil
}

type countReader struct {
	r     io.Reader
	count func(int)
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if c.count != nil && n > 0 {
		c.count(n)
	}
	return n, err
}
