package store

import "testing"

func TestChunkEndCoversEveryRowInFewSizes(t *testing.T) {
	t.Parallel()
	sizes := map[int]bool{}
	for n := 0; n <= 2*chunkRows+3; n++ {
		covered := 0
		for start, end := 0, 0; start < n; start = end {
			end = chunkEnd(start, n)
			if end <= start || end > n || end-start > chunkRows {
				t.Fatalf("n=%d: chunk [%d, %d)", n, start, end)
			}
			sizes[end-start] = true
			covered += end - start
		}
		if covered != n {
			t.Fatalf("n=%d: chunks cover %d rows", n, covered)
		}
	}
	// 400 and the powers of two up to 256.
	if len(sizes) != 10 {
		t.Errorf("%d chunk sizes, want 10: %v", len(sizes), sizes)
	}
}
