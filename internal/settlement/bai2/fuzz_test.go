package bai2_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/bai2"
)

// parseAll parses data and renders what came out, for comparing two runs.
func parseAll(data []byte) ([]settlement.Transaction, settlement.Summary, []byte, error) {
	var out bytes.Buffer
	w := settlement.NewJSONWriter(&out)
	var txs []settlement.Transaction
	sum, err := (&bai2.Parser{File: "f"}).Parse(bytes.NewReader(data), func(tx settlement.Transaction) error {
		txs = append(txs, tx)
		return w.Transaction(tx)
	})
	_ = w.Summary(sum)
	return txs, sum, out.Bytes(), err
}

// FuzzParse feeds arbitrary bytes to the parser: it never panics, every
// error is a *settlement.Error naming its place or a control total error with
// problems, what it emitted agrees with its summary (settlement.Verify), and
// it is deterministic. Corpus: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bai"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		txs, sum, out, err := parseAll(data)
		if err != nil {
			var pe *settlement.Error
			switch {
			case errors.Is(err, settlement.ErrControlTotals):
				if len(sum.Problems) == 0 || sum.ControlTotalsOK {
					t.Fatalf("control total error without problems: %v", err)
				}
			case errors.As(err, &pe):
				if pe.Format != settlement.FormatBAI2 || pe.File != "f" || pe.Err == nil {
					t.Fatalf("error without format, file or cause: %#v", pe)
				}
			default:
				t.Fatalf("error is not a *settlement.Error: %v", err)
			}
		}
		if verr := settlement.Verify(txs, sum); verr != nil {
			t.Fatalf("%v\n(parse error: %v)", verr, err)
		}
		_, _, again, err2 := parseAll(data)
		if !bytes.Equal(out, again) || (err == nil) != (err2 == nil) {
			t.Fatal("parsing the same bytes twice gave different results")
		}
	})
}
