package settlement

import (
	"errors"
	"fmt"
	"sort"
)

// Totals are the sums of one currency's transactions in minor units:
// credits and debits as positive amounts, net = credits − debits.
type Totals struct {
	Credits int64 `json:"credits"`
	Debits  int64 `json:"debits"`
	Net     int64 `json:"net"`
}

// Summary describes a parsed file.
type Summary struct {
	Format Format `json:"format"`
	// Transactions counts the top-level transactions emitted (batch children
	// are inside their parent and not counted again).
	Transactions int `json:"transactions"`
	// Totals are per ISO 4217 currency code.
	Totals map[string]Totals `json:"totals"`
	// ControlTotalsChecked counts the control totals, record counts and
	// balances that were verified.
	ControlTotalsChecked int `json:"control_totals_checked"`
	// ControlTotalsOK is true when every check passed (also when there was
	// nothing to check: see ControlTotalsChecked).
	ControlTotalsOK bool      `json:"control_totals_ok"`
	Problems        []Problem `json:"problems"`
}

// Currencies returns the currency codes of Totals, sorted.
func (s Summary) Currencies() []string {
	out := make([]string, 0, len(s.Totals))
	for c := range s.Totals {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Tally builds a Summary while a parser emits transactions.
type Tally struct {
	format Format
	file   string
	sum    Summary
}

// NewTally starts the summary of a file.
func NewTally(f Format, file string) *Tally {
	return &Tally{format: f, file: file, sum: Summary{Format: f, Totals: map[string]Totals{}, Problems: []Problem{}}}
}

// errOverflow is the cause when totals no longer fit in int64.
var errOverflow = errors.New("the file's totals overflow 64-bit minor units")

// Add counts a transaction into the totals of its currency.
func (t *Tally) Add(tx Transaction) error {
	tot := t.sum.Totals[tx.Currency]
	a := int64(tx.Amount)
	var ok bool
	if a < 0 {
		if tot.Debits, ok = Sub(tot.Debits, a); !ok {
			return errOverflow
		}
	} else if tot.Credits, ok = Add(tot.Credits, a); !ok {
		return errOverflow
	}
	if tot.Net, ok = Add(tot.Net, a); !ok {
		return errOverflow
	}
	t.sum.Totals[tx.Currency] = tot
	t.sum.Transactions++
	return nil
}

// Emit counts tx and hands it on; a counting error is reported at tx's place.
func (t *Tally) Emit(emit func(Transaction) error, tx Transaction) error {
	if err := t.Add(tx); err != nil {
		return &Error{Format: t.format, File: t.file, Place: Place{Line: tx.Line, Element: tx.Element}, Err: err}
	}
	return emit(tx)
}

// Checked records that a control total was verified and held.
func (t *Tally) Checked() { t.sum.ControlTotalsChecked++ }

// Mismatch records a control total that was verified and did not hold.
func (t *Tally) Mismatch(at Place, format string, args ...any) {
	t.sum.ControlTotalsChecked++
	t.sum.Problems = append(t.sum.Problems, Problem{Place: at, Message: fmt.Sprintf(format, args...)})
}

// Summary returns the summary so far.
func (t *Tally) Summary() Summary {
	s := t.sum
	s.ControlTotalsOK = len(s.Problems) == 0
	totals := make(map[string]Totals, len(s.Totals))
	for k, v := range s.Totals {
		totals[k] = v
	}
	s.Totals = totals
	s.Problems = append([]Problem{}, s.Problems...)
	return s
}

// Result is what a parser returns at the end of a file it read: the
// summary, and a *ControlTotalError when there were problems.
func (t *Tally) Result() (Summary, error) {
	s := t.Summary()
	if len(s.Problems) > 0 {
		return s, &ControlTotalError{Format: t.format, File: t.file, Problems: s.Problems}
	}
	return s, nil
}
