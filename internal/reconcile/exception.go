package reconcile

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Kinds of reconciliation exceptions.
const (
	// KindUnsettledTender: a card tender no settlement line or deposit
	// accounts for after the date window.
	KindUnsettledTender = "unsettled_tender"
	// KindUnmatchedLine: a settlement payment or refund no tender accounts
	// for.
	KindUnmatchedLine = "unmatched_settlement_line"
	// KindUnmatchedDeposit: a bank deposit or PSP payout no batch or day of
	// tenders adds up to.
	KindUnmatchedDeposit = "unmatched_deposit"
	// KindChargeback: a chargeback, with the sale it disputes when found.
	KindChargeback = "chargeback"
)

// Severities.
const (
	SeverityLow    = "low"
	SeverityMedium = "medium"
	SeverityHigh   = "high"
)

// Exception is an open item a person should look at.
type Exception struct {
	// Key is stable for the open item ("reconcile:tender:EVENT#0",
	// "reconcile:line:stripe:txn_…"): raising it again updates, never
	// duplicates, and Resolve names it.
	Key      string      `json:"key"`
	Kind     string      `json:"kind"`
	Severity string      `json:"severity"`
	Summary  string      `json:"summary"`
	Amount   event.Money `json:"amount"`
	// At is when the item happened (sale or booking), in UTC; Zone is the
	// store's, when known.
	At   time.Time `json:"at"`
	Zone string    `json:"zone,omitempty"`
	// Evidence are the facts behind it by name (reference, card, file, line).
	Evidence map[string]string `json:"evidence,omitempty"`
}

// Exceptions receives what the engine cannot match. The exceptions inbox
// implements it; Raise must be idempotent on Key.
type Exceptions interface {
	Raise(ctx context.Context, e Exception) error
	// Resolve closes the open exception Key because the engine matched it
	// (the inbox records it as auto-resolved, with reason).
	Resolve(ctx context.Context, key, reason string) error
}

// MemoryExceptions is an in-memory Exceptions for tests, the CLI and the
// benchmark. It is safe for concurrent use.
type MemoryExceptions struct {
	mu       sync.Mutex
	open     map[string]Exception
	resolved map[string]string
	raises   int
}

// NewMemoryExceptions returns an empty set.
func NewMemoryExceptions() *MemoryExceptions {
	return &MemoryExceptions{open: map[string]Exception{}, resolved: map[string]string{}}
}

// Raise implements Exceptions.
func (m *MemoryExceptions) Raise(_ context.Context, e Exception) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open[e.Key] = e
	delete(m.resolved, e.Key)
	m.raises++
	return nil
}

// Resolve implements Exceptions.
func (m *MemoryExceptions) Resolve(_ context.Context, key, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.open[key]; ok {
		delete(m.open, key)
		m.resolved[key] = reason
	}
	return nil
}

// Open returns the open exceptions ordered by key.
func (m *MemoryExceptions) Open() []Exception {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Exception, 0, len(m.open))
	for _, e := range m.open {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Resolved returns the reason an exception was auto-resolved, if it was.
func (m *MemoryExceptions) Resolved(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.resolved[key]
	return r, ok
}

// Raises counts Raise calls (repeats included).
func (m *MemoryExceptions) Raises() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.raises
}
