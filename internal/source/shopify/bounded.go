package shopify

import "sync"

// bounded is a map that forgets its oldest keys past a size: the handler's
// recent memories (event IDs answered, orders seen, SKUs learned, newest
// inventory level times) must not grow without bound.
type bounded[V any] struct {
	mu   sync.Mutex
	max  int
	m    map[string]V
	ring []string
	next int
}

func newBounded[V any](maxKeys int) *bounded[V] {
	return &bounded[V]{max: maxKeys, m: make(map[string]V)}
}

func (b *bounded[V]) get(k string) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *bounded[V]) put(k string, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.putLocked(k, v)
}

func (b *bounded[V]) putLocked(k string, v V) {
	if _, ok := b.m[k]; ok {
		b.m[k] = v
		return
	}
	if len(b.ring) < b.max {
		b.ring = append(b.ring, k)
	} else {
		delete(b.m, b.ring[b.next])
		b.ring[b.next] = k
		b.next = (b.next + 1) % b.max
	}
	b.m[k] = v
}

// update sets k to f(old, present) under the lock and returns the new value.
func (b *bounded[V]) update(k string, f func(old V, ok bool) V) V {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.m[k]
	v := f(old, ok)
	b.putLocked(k, v)
	return v
}
