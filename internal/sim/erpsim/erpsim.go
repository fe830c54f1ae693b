// Package erpsim is the common core of the ERP simulators (one per vendor in
// its subpackages): records kept by external ID so duplicates are counted,
// concurrency and rate limits, latency, and fault injection — 5xx answers,
// timeouts, connection resets and commit-then-drop (the record is created,
// then the connection closes before the answer) — plus GET /_sim/stats for
// tests and benchmarks to prove exactly-once.
//
// Vendor subpackages own the API shapes, authentication and error bodies;
// this package owns what is the same for all of them.
package erpsim

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a simulator.
type Options struct {
	// Latency is added to every request (and Jitter, uniformly, on top).
	Latency time.Duration
	Jitter  time.Duration
	// Concurrency is the most requests served at once (0: unlimited); the
	// vendor decides how to refuse the rest (NetSuite: 429).
	Concurrency int
	// RatePerSecond limits requests per second (0: unlimited).
	RatePerSecond float64
	// FaultRate is the share of requests that fail with an injected fault:
	// a 5xx, a timeout (the server stalls past the client's patience) or a
	// reset connection, chosen at random.
	FaultRate float64
	// DropRate is the share of successful writes whose answer is lost: the
	// record is committed, then the connection is closed.
	DropRate float64
	// Stall is how long a "timeout" fault holds the request (default 30 s).
	Stall time.Duration
	Seed  uint64
}

// Stats is what GET /_sim/stats answers.
type Stats struct {
	Requests int64 `json:"requests"`
	// Created is records created; Records counts creations per external
	// ID (more than one is a duplicate the connector let through).
	Created    int64          `json:"created"`
	Duplicates int64          `json:"duplicates"`
	Records    map[string]int `json:"records"`
	// Rejections by reason: concurrency, rate, auth, validation,
	// fault_5xx, fault_timeout, fault_reset.
	Rejections      map[string]int64 `json:"rejections"`
	Dropped         int64            `json:"dropped_after_commit"`
	PeakConcurrency int64            `json:"peak_concurrency"`
}

// Sim is the shared state of one simulator.
type Sim struct {
	opt Options

	mu         sync.Mutex
	rng        *rand.Rand
	records    map[string]int
	created    int64
	dupes      int64
	rejections map[string]int64
	dropped    int64
	// forced faults for the next requests, in order (tests).
	forced []string
	// rate limiting: a simple token bucket
	tokens float64
	last   time.Time

	requests atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
}

// New returns a simulator core.
func New(opt Options) *Sim {
	if opt.Stall <= 0 {
		opt.Stall = 30 * time.Second
	}
	return &Sim{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5bd1e995)), //nolint:gosec // simulation
		records: map[string]int{}, rejections: map[string]int64{}, tokens: opt.RatePerSecond}
}

// Options returns the simulator's options.
func (s *Sim) Options() Options { return s.opt }

// Forced faults for tests, consumed one per request by Begin/Commit.
const (
	ForceThrottle = "throttle" // refuse as over the concurrency/rate limit
	Force5xx      = "5xx"      // fail with 503
	ForceDrop     = "drop"     // commit, then drop the connection
	ForceReset    = "reset"    // reset the connection before doing anything
	ForceInvalid  = "invalid"  // reject as invalid (vendor's validation error)
)

// Force queues faults for the next requests.
func (s *Sim) Force(faults ...string) {
	s.mu.Lock()
	s.forced = append(s.forced, faults...)
	s.mu.Unlock()
}

// Outcome is what Begin decided for a request.
type Outcome int

// Begin's decisions.
const (
	// Proceed: serve the request; call the returned end when done.
	Proceed Outcome = iota
	// Throttled: refuse it with the vendor's limit error (429 …).
	Throttled
	// Failed: an injected fault was already written (or the connection
	// dropped); the vendor handler returns at once.
	Failed
	// Invalid: refuse it with the vendor's validation error.
	Invalid
)

// Begin admits a request: counts it, applies forced and random faults,
// the rate and concurrency limits, and the latency. When it returns
// Proceed, call end() once the request is served.
func (s *Sim) Begin(w http.ResponseWriter, r *http.Request) (Outcome, func()) {
	s.requests.Add(1)
	s.mu.Lock()
	force := ""
	if len(s.forced) > 0 && s.forced[0] != ForceDrop {
		force, s.forced = s.forced[0], s.forced[1:]
	}
	random := ""
	if force == "" && s.opt.FaultRate > 0 && s.rng.Float64() < s.opt.FaultRate {
		random = []string{Force5xx, "timeout", ForceReset}[s.rng.IntN(3)]
	}
	rateOK := s.takeToken()
	lat := s.opt.Latency
	if s.opt.Jitter > 0 {
		lat += time.Duration(s.rng.Int64N(int64(s.opt.Jitter)))
	}
	s.mu.Unlock()

	switch force + random {
	case ForceThrottle:
		s.reject("forced_throttle")
		return Throttled, nil
	case ForceInvalid:
		s.reject("validation")
		return Invalid, nil
	case Force5xx:
		s.reject("fault_5xx")
		sleep(r, lat)
		http.Error(w, `{"error":"injected fault: service unavailable"}`, http.StatusServiceUnavailable)
		return Failed, nil
	case ForceReset:
		s.reject("fault_reset")
		Drop(w)
		return Failed, nil
	case "timeout":
		s.reject("fault_timeout")
		sleep(r, s.opt.Stall)
		Drop(w)
		return Failed, nil
	}
	if !rateOK {
		s.reject("rate")
		return Throttled, nil
	}
	n := s.inflight.Add(1)
	if s.opt.Concurrency > 0 && n > int64(s.opt.Concurrency) {
		s.inflight.Add(-1)
		s.reject("concurrency")
		return Throttled, nil
	}
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	sleep(r, lat)
	return Proceed, func() { s.inflight.Add(-1) }
}

func (s *Sim) takeToken() bool {
	if s.opt.RatePerSecond <= 0 {
		return true
	}
	now := time.Now()
	if !s.last.IsZero() {
		s.tokens += now.Sub(s.last).Seconds() * s.opt.RatePerSecond
	}
	s.last = now
	burst := max(1, s.opt.RatePerSecond)
	if s.tokens > burst {
		s.tokens = burst
	}
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
}

func (s *Sim) reject(reason string) {
	s.mu.Lock()
	s.rejections[reason]++
	s.mu.Unlock()
}

// Reject counts a refusal the vendor handler decided (auth, validation).
func (s *Sim) Reject(reason string) { s.reject(reason) }

// Create records the creation of a record with an external ID and reports
// whether one existed already (the vendor handler then updates or refuses,
// as the vendor does). Only a creation of an existing ID is a duplicate:
// vendors that upsert never call Create for an existing record.
func (s *Sim) Create(externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[externalID]++
	s.created++
	if s.records[externalID] > 1 {
		s.dupes++
	}
}

// Exists reports whether a record with the external ID was created.
func (s *Sim) Exists(externalID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[externalID] > 0
}

// Committed is called after a write succeeded, before the answer: it
// decides (forced or at DropRate) to drop the connection instead of
// answering — the nasty case where the ERP committed and the client never
// hears of it. It reports whether it dropped.
func (s *Sim) Committed(w http.ResponseWriter) bool {
	s.mu.Lock()
	drop := false
	if len(s.forced) > 0 && s.forced[0] == ForceDrop {
		drop, s.forced = true, s.forced[1:]
	} else if s.opt.DropRate > 0 && s.rng.Float64() < s.opt.DropRate {
		drop = true
	}
	if drop {
		s.dropped++
	}
	s.mu.Unlock()
	if drop {
		Drop(w)
	}
	return drop
}

// Drop closes the client's connection without an answer.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort the stream
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: s.requests.Load(), Created: s.created, Duplicates: s.dupes, Dropped: s.dropped,
		PeakConcurrency: s.peak.Load(), Records: make(map[string]int, len(s.records)), Rejections: map[string]int64{}}
	for k, v := range s.records {
		st.Records[k] = v
	}
	for k, v := range s.rejections {
		st.Rejections[k] = v
	}
	return st
}

// StatsHandler serves GET /_sim/stats.
func (s *Sim) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	})
}

// DuplicateIDs lists external IDs created more than once, sorted.
func (st Stats) DuplicateIDs() []string {
	var out []string
	for id, n := range st.Records {
		if n > 1 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
