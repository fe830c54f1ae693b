package csv_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/csv"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
)

// FuzzParse feeds arbitrary files to the parser under every test mapping:
// it never panics, every error is a *settlement.Error naming its place or a
// control total error with problems, what it emitted agrees with its summary
// (settlement.Verify), and it is deterministic. Corpus:
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	var parsers []*csv.Parser
	for _, p := range files {
		parser, err := csv.New("f", mapping(f, strings.TrimSuffix(p, ".csv")+".yaml"))
		if err != nil {
			f.Fatal(err)
		}
		parsers = append(parsers, parser)
	}
	settlementtest.Seed(f, filepath.Join("testdata", "*.csv"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parsers {
			settlementtest.Check(t, p, settlement.FormatCSV, data)
		}
	})
}
