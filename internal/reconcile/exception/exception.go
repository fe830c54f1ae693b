// Package exception is what the reconciliation checks (card matching,
// completeness, cash, shrinkage) need of the exceptions inbox: raise a problem under a stable
// key with its evidence, and resolve it by that key when a later check
// finds it fixed. It owns no storage; the inbox does. Memory is an
// in-memory implementation for tests and for running checks without one.
package exception

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Kinds the reconciliation checks raise.
const (
	KindERPMissing       = "erp_missing"
	KindCashVariance     = "cash_variance"
	KindShrinkageAnomaly = "shrinkage_anomaly"
	// KindSettlementUnmatched: card matching left a tender, a settlement
	// line or a deposit open too long, or found a chargeback; which of
	// these it is, the evidence's "sub_kind" says (see reconcile).
	KindSettlementUnmatched = "settlement_unmatched"
)

// Severity ranks an exception for the inbox.
type Severity string

// Severities.
const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Error    Severity = "error"
	Critical Severity = "critical"
)

// Exception is one problem for a person to look at.
type Exception struct {
	// Key is the deduplication key: raising the same key again updates
	// the open exception instead of adding one ("erp_missing:netsuite:s1:2026-11-27").
	Key      string   `json:"key"`
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	Location string   `json:"location"`
	Zone     string   `json:"zone,omitempty"`
	// Subject names what the problem is about (a destination, a register,
	// a cashier).
	Subject string `json:"subject"`
	Title   string `json:"title"`
	// Evidence is the data behind it, JSON-encodable (an object).
	Evidence any `json:"evidence"`
	// Amount is the money at stake, for checks about money (a tender, a
	// settlement line); nil otherwise.
	Amount *event.Money `json:"amount,omitempty"`
	// At is when the fact behind it happened (the sale, the booking), in
	// UTC, when there is one; Zone is the store's.
	At time.Time `json:"at,omitzero"`
}

// Inbox receives exceptions.
type Inbox interface {
	// Raise opens the exception, or updates the open one with its key.
	Raise(ctx context.Context, e Exception) error
	// Resolve closes the open exception with the key, if there is one:
	// the check found the problem gone.
	Resolve(ctx context.Context, key, note string) error
}

// Memory is an Inbox in memory, safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	open     map[string]Exception
	resolved map[string]string
	raises   int
}

// NewMemory returns an empty in-memory inbox.
func NewMemory() *Memory {
	return &Memory{open: map[string]Exception{}, resolved: map[string]string{}}
}

// Raise implements Inbox.
func (m *Memory) Raise(_ context.Context, e Exception) error {
	if e.Key == "" || e.Kind == "" {
		return fmt.Errorf("exception: raise %q: key and kind are required", e.Title)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open[e.Key] = e
	delete(m.resolved, e.Key)
	m.raises++
	return nil
}

// Raises counts successful Raise calls, repeats included: a check that
// raises only on news raises the same problem once.
func (m *Memory) Raises() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.raises
}

// Resolve implements Inbox.
func (m *Memory) Resolve(_ context.Context, key, note string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.open[key]; ok {
		delete(m.open, key)
		m.resolved[key] = note
	}
	return nil
}

// Open returns the open exceptions by key order.
func (m *Memory) Open() []Exception {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Exception, 0, len(m.open))
	for _, e := range m.open {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Resolved returns the note a key was resolved with, and whether it was.
func (m *Memory) Resolved(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.resolved[key]
	return n, ok
}

// CountOpen counts open exceptions at a location ("" for all).
func (m *Memory) CountOpen(_ context.Context, location string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.open {
		if location == "" || e.Location == location {
			n++
		}
	}
	return n, nil
}
