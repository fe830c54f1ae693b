package store

import (
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

func TestPositionCacheTrustsOnlyAnUnbrokenLog(t *testing.T) {
	t.Parallel()
	a, b := inventory.Key{SKU: "A", Location: "s1"}, inventory.Key{SKU: "B", Location: "s1"}
	pos := func(n int64) inventory.Position { return inventory.Position{Delta: event.Units(n)} }
	c := newPositionCache(10)

	// Empty: nothing is trusted, the append fills it.
	base, got := c.use(0, []inventory.Key{a})
	if base != noHead || len(got) != 0 {
		t.Fatalf("empty cache: base %d, %d positions", base, len(got))
	}
	c.committed(base, 3, map[inventory.Key]inventory.Position{a: pos(5)})

	// The next append finds the log where the last one left it: the
	// cache holds.
	base, got = c.use(3, []inventory.Key{a, b})
	if base != 3 || len(got) != 1 || got[a] != pos(5) {
		t.Fatalf("next append: base %d, got %v; want base 3 and A's position", base, got)
	}
	c.committed(base, 6, map[inventory.Key]inventory.Position{a: pos(4), b: pos(1)})

	// Another appender took seqs 7 and 8: the cache is dropped, not used.
	base, got = c.use(8, []inventory.Key{a, b})
	if base != noHead || len(got) != 0 {
		t.Fatalf("after a gap: base %d, got %v; want nothing trusted", base, got)
	}
	c.committed(base, 9, map[inventory.Key]inventory.Position{b: pos(7)})
	if _, got = c.use(9, []inventory.Key{a, b}); len(got) != 1 || got[b] != pos(7) {
		t.Fatalf("refilled: got %v, want only B (A was dropped with the gap)", got)
	}

	// Two appends overlap in the cache (the second checked before the first
	// recorded): the later record cannot tell which is newer and empties it.
	c = newPositionCache(10)
	c.committed(noHead, 3, map[inventory.Key]inventory.Position{a: pos(1)})
	baseFirst, _ := c.use(3, []inventory.Key{a})
	baseSecond, _ := c.use(5, []inventory.Key{a}) // 4..5 not recorded yet: dropped
	c.committed(baseSecond, 6, map[inventory.Key]inventory.Position{a: pos(3)})
	c.committed(baseFirst, 5, map[inventory.Key]inventory.Position{a: pos(2)}) // stale: must not win
	if base, got = c.use(6, []inventory.Key{a}); base != noHead || len(got) != 0 {
		t.Fatalf("after overlapping appends: base %d, got %v; want the cache emptied", base, got)
	}

	// A commit that may or may not have happened empties it.
	c.committed(noHead, 7, map[inventory.Key]inventory.Position{a: pos(1)})
	c.forget()
	if base, _ = c.use(7, []inventory.Key{a}); base != noHead {
		t.Fatalf("after forget: base %d, want noHead", base)
	}

	// Past its bound it starts again rather than grow.
	c = newPositionCache(2)
	c.committed(noHead, 1, map[inventory.Key]inventory.Position{a: pos(1), b: pos(1)})
	cKey := inventory.Key{SKU: "C", Location: "s1"}
	c.committed(1, 2, map[inventory.Key]inventory.Position{cKey: pos(1)})
	if len(c.pos) != 1 {
		t.Fatalf("cache of bound 2 holds %d positions after a third", len(c.pos))
	}
}
