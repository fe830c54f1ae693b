package settlement

import (
	"errors"
	"fmt"

	"github.com/tillsync/tillsync/internal/event"
)

// Verify checks what every Parser guarantees of the transactions it emitted
// and the summary it returned: each transaction has a format, a known
// currency, a valid type and a direction that agrees with its amount's sign,
// batch children included; no card number is left unmasked in free text;
// and the summary counts and totals exactly the top-level transactions. The
// format packages' tests and fuzzers hold every parser to it.
func Verify(txs []Transaction, sum Summary) error {
	var errs []error
	totals := map[string]Totals{}
	for i, tx := range txs {
		if err := verifyTx(tx); err != nil {
			errs = append(errs, fmt.Errorf("transaction %d (line %d %s): %w", i+1, tx.Line, tx.Element, err))
		}
		t := totals[tx.Currency]
		if tx.Amount < 0 {
			t.Debits -= int64(tx.Amount)
		} else {
			t.Credits += int64(tx.Amount)
		}
		t.Net += int64(tx.Amount)
		totals[tx.Currency] = t
	}
	if sum.Transactions != len(txs) {
		errs = append(errs, fmt.Errorf("summary counts %d transactions, %d were emitted", sum.Transactions, len(txs)))
	}
	if len(sum.Totals) != len(totals) {
		errs = append(errs, fmt.Errorf("summary has totals for %d currencies, the transactions are in %d", len(sum.Totals), len(totals)))
	}
	for cur, t := range totals {
		if sum.Totals[cur] != t {
			errs = append(errs, fmt.Errorf("summary %s totals %+v, the transactions add up to %+v", cur, sum.Totals[cur], t))
		}
	}
	if sum.ControlTotalsOK != (len(sum.Problems) == 0) {
		errs = append(errs, fmt.Errorf("control_totals_ok is %v with %d problems", sum.ControlTotalsOK, len(sum.Problems)))
	}
	if len(sum.Problems) > sum.ControlTotalsChecked {
		errs = append(errs, fmt.Errorf("%d problems but only %d checks", len(sum.Problems), sum.ControlTotalsChecked))
	}
	return errors.Join(errs...)
}

func verifyTx(tx Transaction) error {
	var errs []error
	if tx.Format == "" {
		errs = append(errs, errors.New("no format"))
	}
	if _, ok := event.MinorUnits(tx.Currency); !ok {
		errs = append(errs, fmt.Errorf("currency %q is not ISO 4217", tx.Currency))
	}
	if !tx.Type.Valid() {
		errs = append(errs, fmt.Errorf("type %q is not a Type", tx.Type))
	}
	switch {
	case tx.Direction == Credit && tx.Amount < 0, tx.Direction == Debit && tx.Amount > 0:
		errs = append(errs, fmt.Errorf("a %s of %d", tx.Direction, tx.Amount))
	case tx.Direction != Credit && tx.Direction != Debit:
		errs = append(errs, fmt.Errorf("direction %q", tx.Direction))
	}
	if MaskPANs(tx.Description) != tx.Description {
		errs = append(errs, errors.New("a card number in the description"))
	}
	for k, v := range tx.Attributes {
		if MaskPANs(v) != v {
			errs = append(errs, fmt.Errorf("a card number in attribute %s", k))
		}
	}
	if l := tx.References.CardLastFour; l != "" && (len(l) != 4 || !digits(l)) {
		errs = append(errs, fmt.Errorf("card_last4 %q is not four digits", l))
	}
	for i, c := range tx.Children {
		if err := verifyTx(c); err != nil {
			errs = append(errs, fmt.Errorf("child %d: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}
