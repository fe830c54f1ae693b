package quarantine_test

import (
	"context"
	"testing"

	"github.com/tillsync/tillsync/internal/mapping/quarantine"
)

// The benchmark runs end to end on a small workload: every variant
// commits, the mixed one holds and repairs lines, the plain ones none.
func TestBenchSmall(t *testing.T) {
	t.Parallel()
	rep, err := quarantine.Bench(context.Background(), quarantine.BenchOptions{Items: 2000, Events: 400, Batch: 100, Rounds: 1,
		RepairShare: 0.2, UnknownShare: 0.05, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, runs := range [][]quarantine.BenchRun{rep.Stored, rep.NoLog} {
		if len(runs) != 3 {
			t.Fatalf("runs %+v", runs)
		}
		for i, r := range runs {
			if r.BestPerS <= 0 {
				t.Errorf("%s: %v events/s", r.Name, r.BestPerS)
			}
			if mixed := i == 2; (r.Held > 0) != mixed || (r.Repaired > 0) != mixed {
				t.Errorf("%s: held %d, repaired %d", r.Name, r.Held, r.Repaired)
			}
		}
	}
	if rep.StoredRatio <= 0 {
		t.Errorf("ratio %v", rep.StoredRatio)
	}
}
