package recbench

import (
	"context"
	"testing"
)

// TestSmallRun runs the benchmark at a small size and checks the engine
// found what the generator put in: unsettled tenders, orphan lines, every
// payout, the lines without reference by card.
func TestSmallRun(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.Data = Data{Tenders: 20_000, Lines: 20_000, Stores: 5, Days: 10, MissingRefPct: 2, Seed: 1}
	o.Dir = t.TempDir()
	o.Rounds = 1
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("problems: %v\nsummary %+v\nexpected %+v", rep.Problems, rep.Summary, rep.Expected)
	}
	if rep.Tenders != 20_000 || rep.Lines != rep.Expected.Lines || rep.HashJoinMatched == 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Exceptions != rep.Expected.Unsettled+rep.Expected.Orphans {
		t.Fatalf("exceptions %d, want %d unsettled + %d orphans", rep.Exceptions, rep.Expected.Unsettled, rep.Expected.Orphans)
	}
}
