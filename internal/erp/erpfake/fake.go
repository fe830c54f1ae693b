// Package erpfake is an in-memory ERP connector: it keeps records by
// external ID the way a well-behaved ERP does (a redelivery updates, never
// duplicates), with a concurrency limit and injectable faults. It passes the
// erptest conformance suite, so tests of the destination engine can trust
// it.
package erpfake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
)

// Fake is the in-memory ERP.
type Fake struct {
	// Batch is MaxBatch (default 1).
	Batch int
	// Limit is the concurrency limit; calls beyond it are rate-limited.
	Limit int
	// Latency is added to every call.
	Latency time.Duration

	mu      sync.Mutex
	records map[string]int
	docs    map[string]erp.Document
	order   []string
	forced  []string
	calls   int64
	limited int64
	faults  map[string]*fault
	posts   map[string]int

	inflight atomic.Int64
	peak     atomic.Int64
}

// New returns an empty fake.
func New() *Fake {
	return &Fake{Batch: 1, records: map[string]int{}, docs: map[string]erp.Document{}, faults: map[string]*fault{}, posts: map[string]int{}}
}

// Faults for Force.
const (
	Throttle = "throttle"
	Drop     = "drop"
	Fail     = "fail"
)

// Force queues faults for the next calls.
func (f *Fake) Force(faults ...string) {
	f.mu.Lock()
	f.forced = append(f.forced, faults...)
	f.mu.Unlock()
}

// fault makes posts of one external ID fail.
type fault struct {
	n     int // posts left to fail; < 0: all of them
	class erp.Class
	msg   string
}

// FailNext makes the next n posts of the document with an external ID fail
// with class and the ERP error text msg, while the rest of a batch goes
// through; n < 0 fails every post until FailNext(id, 0, …) clears it.
func (f *Fake) FailNext(id string, n int, class erp.Class, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n == 0 {
		delete(f.faults, id)
		return
	}
	f.faults[id] = &fault{n: n, class: class, msg: msg}
}

// docFault returns the error for a document with a pending fault, or nil.
func (f *Fake) docFault(id string) error {
	ft := f.faults[id]
	if ft == nil {
		return nil
	}
	if ft.n > 0 {
		if ft.n--; ft.n == 0 {
			delete(f.faults, id)
		}
	}
	e := &erp.Error{Class: ft.class, Err: errors.New(ft.msg)}
	switch ft.class {
	case erp.RateLimited:
		e.Status = 429
	case erp.Retry:
		e.Status = 503
	default:
		e.Status, e.Code = 400, "INVALID_KEY_OR_REF"
	}
	return e
}

// Posts returns how often each external ID was posted, failures included.
func (f *Fake) Posts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.posts))
	for k, v := range f.posts {
		out[k] = v
	}
	return out
}

// MaxBatch implements erp.Connector.
func (f *Fake) MaxBatch() int { return max(f.Batch, 1) }

// InvalidSKU is refused permanently, as an ERP refuses an unknown item.
const InvalidSKU = "NO-SUCH-ITEM"

// Post implements erp.Connector.
func (f *Fake) Post(ctx context.Context, docs []erp.Document) ([]error, error) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls++
	for _, d := range docs {
		f.posts[d.ExternalID]++
	}
	force := ""
	if len(f.forced) > 0 {
		force, f.forced = f.forced[0], f.forced[1:]
	}
	if f.Limit > 0 && n > int64(f.Limit) {
		force = Throttle
	}
	if force == Throttle {
		f.limited++
	}
	f.mu.Unlock()
	if f.Latency > 0 {
		select {
		case <-ctx.Done():
			return nil, erp.Retryable(ctx.Err())
		case <-time.After(f.Latency):
		}
	}
	switch force {
	case Throttle:
		return nil, &erp.Error{Class: erp.RateLimited, Status: 429, Err: errors.New("concurrency limit exceeded")}
	case Fail:
		return nil, &erp.Error{Class: erp.Retry, Status: 503, Err: errors.New("service unavailable")}
	}
	errs := make([]error, len(docs))
	f.mu.Lock()
	for i, d := range docs {
		if bad := invalid(d); bad != "" {
			errs[i] = &erp.Error{Class: erp.Permanent, Status: 400, Code: "INVALID_FLD_VALUE", Err: errors.New(bad)}
			continue
		}
		if err := f.docFault(d.ExternalID); err != nil {
			errs[i] = err
			continue
		}
		if _, ok := f.docs[d.ExternalID]; !ok {
			f.records[d.ExternalID]++
			f.order = append(f.order, d.ExternalID)
		}
		f.docs[d.ExternalID] = d // an upsert: a redelivery updates
	}
	f.mu.Unlock()
	if force == Drop {
		return nil, erp.Retryable(errors.New("connection reset after the ERP committed"))
	}
	return errs, nil
}

func invalid(d erp.Document) string {
	for _, l := range d.Lines {
		if l.SKU == InvalidSKU {
			return fmt.Sprintf("item %s does not exist", l.SKU)
		}
	}
	if strings.TrimSpace(d.ExternalID) == "" {
		return "externalId is required"
	}
	return ""
}

// Records returns creations per external ID.
func (f *Fake) Records() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.records))
	for k, v := range f.records {
		out[k] = v
	}
	return out
}

// Document returns the stored record with an external ID.
func (f *Fake) Document(id string) (erp.Document, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.docs[id]
	return d, ok
}

// Order returns external IDs in the order they were first created.
func (f *Fake) Order() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

// Stats returns calls, throttled calls and peak concurrency.
func (f *Fake) Stats() (calls, limited, peak int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.limited, f.peak.Load()
}
