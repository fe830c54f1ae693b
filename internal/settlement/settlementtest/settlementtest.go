// Package settlementtest holds what every settlement parser's tests share:
// golden files of the parsed output, and the properties a fuzzed parser
// must keep.
package settlementtest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Render parses the file at path as `tillsync settlement parse --json`
// prints it, with a last "error:" line when parsing failed.
func Render(t testing.TB, p settlement.Parser, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := settlement.NewJSONWriter(&out)
	sum, err := p.Parse(bytes.NewReader(data), w.Transaction)
	if err == nil || errors.Is(err, settlement.ErrControlTotals) {
		if werr := w.Summary(sum); werr != nil {
			t.Fatal(werr)
		}
	}
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	return out.Bytes()
}

// Golden checks that every file matching pattern (e.g. "testdata/*.bai")
// renders to testdata/golden/<name>.golden; with -update it rewrites them.
// parser returns the parser for one file.
func Golden(t *testing.T, pattern string, parser func(t *testing.T, path string) settlement.Parser) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Render(t, parser(t, path), path)
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s changed; got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// Seed adds every file matching pattern to the fuzz corpus.
func Seed(f *testing.F, pattern string) {
	f.Helper()
	files, _ := filepath.Glob(pattern)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Check holds a parser of format, reading a file named "f", to what any
// input must give: no panic; every error a *settlement.Error naming its
// format, file and cause, or a control total error with problems; what it
// emitted agrees with its summary (settlement.Verify); and the same bytes
// parse the same way twice.
func Check(t *testing.T, p settlement.Parser, format settlement.Format, data []byte) {
	t.Helper()
	txs, sum, out, err := parseAll(p, data)
	if err != nil {
		var pe *settlement.Error
		switch {
		case errors.Is(err, settlement.ErrControlTotals):
			if len(sum.Problems) == 0 || sum.ControlTotalsOK {
				t.Fatalf("control total error without problems: %v", err)
			}
		case errors.As(err, &pe):
			if pe.Format != format || pe.File != "f" || pe.Err == nil {
				t.Fatalf("error without format, file or cause: %#v", pe)
			}
		default:
			t.Fatalf("error is not a *settlement.Error: %v", err)
		}
	}
	if verr := settlement.Verify(txs, sum); verr != nil {
		t.Fatalf("%v\n(parse error: %v)", verr, err)
	}
	_, _, again, err2 := parseAll(p, data)
	if !bytes.Equal(out, again) || (err == nil) != (err2 == nil) {
		t.Fatal("parsing the same bytes twice gave different results")
	}
}

// parseAll parses data and renders what came out, for comparing two runs.
func parseAll(p settlement.Parser, data []byte) ([]settlement.Transaction, settlement.Summary, []byte, error) {
	var out bytes.Buffer
	w := settlement.NewJSONWriter(&out)
	var txs []settlement.Transaction
	sum, err := p.Parse(bytes.NewReader(data), func(tx settlement.Transaction) error {
		txs = append(txs, tx)
		return w.Transaction(tx)
	})
	_ = w.Summary(sum)
	return txs, sum, out.Bytes(), err
}
