package store

import (
	"sync"

	"github.com/tillsync/tillsync/internal/inventory"
)

// positionCache keeps the ledger positions that recent appends read or
// wrote, so that an append reads from the database only the keys it has not
// seen lately: for a busy hub most of the rows it would otherwise read back
// on every commit.
//
// The cache is exact only while no other appender writes the same log (a
// second hub on the same PostgreSQL database). Each append checks that: the
// log head it reads before inserting, under the append lock, must be the
// head the cache was filled at; anything else (another appender's events)
// empties the cache and the append reads everything from the database. A
// cache filled by an append is taken only if no other append changed the
// cache in the meantime.
type positionCache struct {
	mu sync.Mutex
	// head is the log sequence the cached positions are as of; noHead when
	// the cache is empty.
	head int64
	pos  map[inventory.Key]inventory.Position
	max  int
}

// noHead marks an empty cache.
const noHead = -1

// maxCachedPositions bounds the cache (about 150 bytes each): past it, the
// cache starts again empty.
const maxCachedPositions = 1 << 18

func newPositionCache(maxEntries int) *positionCache {
	return &positionCache{head: noHead, pos: map[inventory.Key]inventory.Position{}, max: maxEntries}
}

// use is called by an append that found the log at head before: it returns
// the head the append builds on (noHead: the cache was not current and is
// now empty) and the cached positions of keys, leaving out keys it does not
// hold.
func (c *positionCache) use(before int64, keys []inventory.Key) (base int64, got map[inventory.Key]inventory.Position) {
	if c == nil {
		return noHead, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head == noHead || before != c.head {
		c.reset()
		return noHead, nil
	}
	got = make(map[inventory.Key]inventory.Position, len(keys))
	for _, k := range keys {
		if p, ok := c.pos[k]; ok {
			got[k] = p
		}
	}
	return c.head, got
}

// committed records the positions an append built on base holds after its
// commit, with the log head it committed. If another append changed the
// cache since base was taken, the cache is emptied instead: which of the
// two is newer cannot be told.
func (c *positionCache) committed(base, head int64, positions map[inventory.Key]inventory.Position) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head != base {
		c.reset()
		return
	}
	if len(c.pos)+len(positions) > c.max {
		c.reset()
	}
	for k, p := range positions {
		c.pos[k] = p
	}
	c.head = head
}

// forget empties the cache: an append failed after changing what the
// database may hold.
func (c *positionCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

func (c *positionCache) reset() {
	c.head = noHead
	clear(c.pos)
}
