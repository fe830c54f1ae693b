package mapping

import (
	"sync"
	"testing"
)

var bigOnce struct {
	sync.Once
	r  *Resolver
	qs []Labelled
}

func bigResolver(b *testing.B) (*Resolver, []Labelled) {
	b.Helper()
	bigOnce.Do(func() {
		cat := GenerateCatalog(42, 100_000)
		bigOnce.qs = GenerateLabelled(cat, 43, 20_000, unknownShareBench)
		bigOnce.r = NewResolver(cat, Options{})
	})
	return bigOnce.r, bigOnce.qs
}

// BenchmarkSuggest looks up erroneous codes against a 100,000-item catalog
// through the indexes; BenchmarkSuggestLinear does the same checks by
// scanning the catalog (the baseline). Compare ns/op.
func BenchmarkSuggest(b *testing.B) {
	r, qs := bigResolver(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i%len(qs)]
		r.Suggest(q.Code, q.Description, q.Source)
	}
}

func BenchmarkSuggestLinear(b *testing.B) {
	r, qs := bigResolver(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i%len(qs)]
		r.suggest(q.Code, q.Description, q.Source, linear{r})
	}
}
