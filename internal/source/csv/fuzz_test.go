package csv

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary files to the parser under the test mappings:
// it never panics, every problem says where it is, a clean file yields
// only valid events, and parsing is deterministic (same bytes, same IDs).
// Corpus: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.csv")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var ms []*compiled
	ansi := germanMapping()
	ansi.Encoding = "windows-1252"
	for _, m := range []Mapping{englishMapping(), germanMapping(), ansi} {
		c, err := m.compile()
		if err != nil {
			f.Fatal(err)
		}
		ms = append(ms, c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range ms {
			p := parse("f.csv", data, m, received, nil)
			if len(p.Problems) > 0 {
				if len(p.Events) > 0 {
					t.Fatalf("events and problems: %v", p.Problems)
				}
				for _, pr := range p.Problems {
					if pr.File != "f.csv" || pr.Line < 0 || pr.Column < 0 || pr.Message == "" {
						t.Fatalf("problem without a place: %+v", pr)
					}
				}
				continue
			}
			if len(p.Events) == 0 {
				t.Fatal("no events and no problems")
			}
			again := parse("f.csv", data, m, received, nil)
			for i, e := range p.Events {
				if err := e.Validate(); err != nil {
					t.Fatalf("invalid event: %v", err)
				}
				if again.Events[i].ID != e.ID || again.Events[i].Fingerprint() != e.Fingerprint() {
					t.Fatalf("parse is not deterministic: %s vs %s", e.ID, again.Events[i].ID)
				}
			}
		}
	})
}
