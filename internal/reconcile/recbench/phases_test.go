package recbench

import (
	"context"
	"os"
	"testing"

	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

func BenchmarkParse(b *testing.B) {
	dir := os.Getenv("RECBENCH_DIR")
	if dir == "" {
		b.Skip("RECBENCH_DIR")
	}
	d := Data{Tenders: 200_000, Lines: 200_000, Stores: 10, Days: 30, MissingRefPct: 2, Seed: 6}
	f, err := Generate(dir, d)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := parse(f, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	dir := os.Getenv("RECBENCH_DIR")
	if dir == "" {
		b.Skip("RECBENCH_DIR")
	}
	d := Data{Tenders: 200_000, Lines: 200_000, Stores: 10, Days: 30, MissingRefPct: 2, Seed: 6}
	if os.Getenv("RECBENCH_FULL") != "" {
		d = DefaultOptions().Data
	}
	f, err := Generate(dir, d)
	if err != nil {
		b.Fatal(err)
	}
	ts, ls, err := parse(f, d)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("engine", func(b *testing.B) {
		for range b.N {
			e, _ := reconcile.NewEngine(reconcile.DefaultConfig(), exception.NewMemory())
			e.AddTenders(ts...)
			e.AddLines(ls...)
			if err := e.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hashjoin", func(b *testing.B) {
		for range b.N {
			HashJoin(ts, ls)
		}
	})
}
