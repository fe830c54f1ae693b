package availability

import (
	"sync"
)

// Broker fans availability updates out to subscribers. Publish never
// blocks: each subscriber has a pending set keyed by channel, SKU and
// location, so a slow reader skips intermediate values and gets the latest.
// Only changes are published: an update whose available-to-promise equals
// the last one published for its key is dropped.
type Broker struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	last map[Key]Update
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{subs: map[*Subscription]struct{}{}, last: map[Key]Update{}}
}

// Publish offers updates; those that change a key's availability go to
// every subscriber whose filter matches.
func (b *Broker) Publish(us []Update) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range us {
		k := u.Key()
		if prev, ok := b.last[k]; ok && prev.Available == u.Available {
			continue
		}
		b.last[k] = u
		for s := range b.subs {
			s.offer(u)
		}
	}
}

// Current returns the last published update of every key matching f.
func (b *Broker) Current(f Filter) []Update {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Update
	for _, u := range b.last {
		if f.Match(&u) {
			out = append(out, u)
		}
	}
	sortUpdates(out)
	return out
}

// Seen records an update as published without sending it: the hub primes
// the broker with current values at start.
func (b *Broker) Seen(us []Update) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range us {
		b.last[u.Key()] = u
	}
}

// Filter selects updates; empty fields match everything.
type Filter struct {
	Channel, SKU, Location string
}

// Match reports whether the update passes the filter.
func (f Filter) Match(u *Update) bool {
	return (f.Channel == "" || f.Channel == u.Channel) && (f.SKU == "" || f.SKU == u.SKU) &&
		(f.Location == "" || f.Location == u.Location)
}

// Subscription receives coalesced updates.
type Subscription struct {
	b       *Broker
	filter  Filter
	mu      sync.Mutex
	pending map[Key]Update
	ready   chan struct{}
}

// Subscribe registers a subscriber. Call Close when done.
func (b *Broker) Subscribe(f Filter) *Subscription {
	s := &Subscription{b: b, filter: f, pending: map[Key]Update{}, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (s *Subscription) offer(u Update) {
	if !s.filter.Match(&u) {
		return
	}
	s.mu.Lock()
	if prev, ok := s.pending[u.Key()]; ok {
		// Coalesce: keep the newest value, and the causes of both.
		u.Events = append(append([]string(nil), prev.Events...), u.Events...)
		if len(u.Events) > maxCauses*4 {
			u.Events = u.Events[len(u.Events)-maxCauses*4:]
		}
	}
	s.pending[u.Key()] = u
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled when updates are pending.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Take returns and clears the pending updates, oldest seq first.
func (s *Subscription) Take() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	out := make([]Update, 0, len(s.pending))
	for _, u := range s.pending {
		out = append(out, u)
	}
	s.pending = map[Key]Update{}
	sortUpdates(out)
	return out
}

// Close unregisters the subscription.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
}
