package notes_test

import (
	"os"
	"testing"

	"github.com/tillsync/tillsync/internal/mapping/notes"
)

// BenchmarkParse reads every note of the development set per iteration.
func BenchmarkParse(b *testing.B) {
	f, err := os.Open("testdata/notes_dev.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	labels, err := notes.ReadLabels(f)
	_ = f.Close()
	if err != nil {
		b.Fatal(err)
	}
	p, err := notes.New(notes.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range labels {
			p.Parse(l.Note)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(labels)), "ns/note")
}
