package stripe_test

import (
	"path/filepath"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

// FuzzParse feeds arbitrary bytes to the parser: it never panics, every
// error is a *settlement.Error naming its place or a control total error with
// problems, what it emitted agrees with its summary (settlement.Verify), and
// it is deterministic (settlementtest.Check). Corpus: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	settlementtest.Seed(f, filepath.Join("testdata", "*.csv"))
	f.Fuzz(func(t *testing.T, data []byte) {
		settlementtest.Check(t, &stripe.Parser{File: "f"}, settlement.FormatStripe, data)
	})
}
