package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
)

// fakeSink is an in-memory Sink: it gives every new ID the next sequence
// number, answers a repeated ID "duplicate" with the first one's seq,
// records every batch it is offered, and can be told to fail or to hold a
// commit until released.
type fakeSink struct {
	mu      sync.Mutex
	next    int64
	seqs    map[string]int64
	batches [][]string
	// fail, if set, fails a whole batch (nothing stored) when it returns an
	// error.
	fail func(ids []string) error
	// gate, if set, is received from before each commit; entered is sent
	// to (non-blocking) when a commit starts.
	gate    chan struct{}
	entered chan struct{}
	// delay is how long each commit takes.
	delay time.Duration
}

func newFakeSink() *fakeSink { return &fakeSink{seqs: map[string]int64{}} }

func (s *fakeSink) Commit(_ context.Context, events []*event.Event) ([]Outcome, error) {
	if s.entered != nil {
		select {
		case s.entered <- struct{}{}:
		default:
		}
	}
	if s.gate != nil {
		<-s.gate
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, ids)
	if s.fail != nil {
		if err := s.fail(ids); err != nil {
			return nil, err
		}
	}
	out := make([]Outcome, len(events))
	for i, id := range ids {
		if seq, ok := s.seqs[id]; ok {
			out[i] = Outcome{Status: StatusDuplicate, Seq: seq}
			continue
		}
		s.next++
		s.seqs[id] = s.next
		out[i] = Outcome{Status: StatusAccepted, Seq: s.next}
	}
	return out, nil
}

func (s *fakeSink) seqOf(id string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq, ok := s.seqs[id]
	return seq, ok
}

func (s *fakeSink) recorded() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// batchLog collects OnBatch reports.
type batchLog struct {
	mu    sync.Mutex
	stats []BatchStats
}

func (l *batchLog) add(b BatchStats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats = append(l.stats, b)
}

func (l *batchLog) all() []BatchStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.stats)
}

// running is a committer whose Run goroutine the test controls.
type running struct {
	*Committer
	log    *batchLog
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends Run and waits for it to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("committer did not stop")
	}
}

// startCommitter runs a committer until the test ends.
func startCommitter(t *testing.T, sink Sink, cfg CommitterConfig) *running {
	t.Helper()
	c := NewCommitter(sink, cfg)
	r := &running{Committer: c, log: &batchLog{}, done: make(chan struct{})}
	c.OnBatch = r.log.add
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func sales(prefix string, n int) []*event.Event {
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = et.Sale(fmt.Sprintf("%s-%d", prefix, i), "s1", et.Base, et.L("SKU", 1))
	}
	return evs
}

// waitQueued waits until n requests wait in the committer's queue.
func waitQueued(t *testing.T, c *running, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(c.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitEntered waits until the sink has started a commit.
func waitEntered(t *testing.T, s *fakeSink) {
	t.Helper()
	select {
	case <-s.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the sink was never called")
	}
}

type submitted struct {
	out []Outcome
	err error
}

// submitAsync submits from a new goroutine; the answer arrives on the
// returned channel.
func submitAsync(c *running, evs []*event.Event) <-chan submitted {
	ch := make(chan submitted, 1)
	go func() {
		out, err := c.Submit(context.Background(), evs)
		ch <- submitted{out, err}
	}()
	return ch
}

func answer(t *testing.T, ch <-chan submitted) submitted {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("Submit did not return")
		return submitted{}
	}
}

func TestCommitterConcurrentSubmitsGetTheirOwnOutcomes(t *testing.T) {
	t.Parallel()
	sink := newFakeSink()
	sink.delay = 200 * time.Microsecond
	c := startCommitter(t, sink, CommitterConfig{})

	const workers, perRequest, rounds = 32, 3, 5
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			for r := range rounds {
				evs := sales(fmt.Sprintf("w%d-r%d", w, r), perRequest)
				// Every other round repeats the first event of the request:
				// its outcome must be the duplicate of the first copy.
				if r%2 == 1 {
					evs = append(evs, evs[0])
				}
				out, err := c.Submit(context.Background(), evs)
				if err != nil {
					t.Errorf("worker %d round %d: %v", w, r, err)
					return
				}
				if len(out) != len(evs) {
					t.Errorf("worker %d round %d: %d outcomes for %d events", w, r, len(out), len(evs))
					return
				}
				for i, o := range out {
					want, ok := sink.seqOf(evs[i].ID)
					if !ok {
						t.Errorf("%s: acknowledged but not in the sink", evs[i].ID)
						continue
					}
					if o.Seq != want {
						t.Errorf("%s: outcome seq %d, but the sink stored it at %d (outcomes crossed between requests)", evs[i].ID, o.Seq, want)
					}
					wantStatus := StatusAccepted
					if i == perRequest {
						wantStatus = StatusDuplicate
					}
					if o.Status != wantStatus {
						t.Errorf("%s (index %d): status %s, want %s", evs[i].ID, i, o.Status, wantStatus)
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()

	events, requests := 0, 0
	for _, b := range c.log.all() {
		if b.Err != nil {
			t.Errorf("batch failed: %v", b.Err)
		}
		events += b.Events
		requests += b.Requests
	}
	wantReqs := workers * rounds
	wantEvents := workers * (rounds*perRequest + rounds/2)
	if requests != wantReqs || events != wantEvents {
		t.Errorf("OnBatch saw %d requests / %d events, want %d / %d", requests, events, wantReqs, wantEvents)
	}
}

func TestCommitterGathersConcurrentRequests(t *testing.T) {
	t.Parallel()
	// The first commit is held until the others have queued up behind it:
	// they must then go to the sink together, in one batch.
	sink := newFakeSink()
	sink.gate = make(chan struct{})
	sink.entered = make(chan struct{}, 1)
	c := startCommitter(t, sink, CommitterConfig{})

	first := submitAsync(c, sales("first", 1))
	waitEntered(t, sink)
	const n = 20
	var rest []<-chan submitted
	for i := range n {
		rest = append(rest, submitAsync(c, sales(fmt.Sprintf("r%d", i), 2)))
	}
	waitQueued(t, c, n)
	close(sink.gate)

	if a := answer(t, first); a.err != nil {
		t.Fatal(a.err)
	}
	for _, ch := range rest {
		if a := answer(t, ch); a.err != nil || len(a.out) != 2 {
			t.Fatalf("Submit: %d outcomes, err %v", len(a.out), a.err)
		}
	}
	stats := c.log.all()
	if len(stats) != 2 {
		t.Fatalf("%d commits, want 2 (the held one, then all %d queued requests together): %+v", len(stats), n, stats)
	}
	if stats[1].Requests != n || stats[1].Events != 2*n {
		t.Errorf("second commit had %d requests / %d events, want %d / %d", stats[1].Requests, stats[1].Events, n, 2*n)
	}
}

func TestCommitterBatchesUnderLoad(t *testing.T) {
	t.Parallel()
	// No orchestration: a sink that takes a moment per commit and many
	// concurrent callers must produce group commits.
	sink := newFakeSink()
	sink.delay = 2 * time.Millisecond
	c := startCommitter(t, sink, CommitterConfig{})
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 40 {
		wg.Go(func() {
			<-start
			if _, err := c.Submit(context.Background(), sales(fmt.Sprintf("w%d", w), 1)); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	most := 0
	for _, b := range c.log.all() {
		most = max(most, b.Requests)
	}
	if most < 2 {
		t.Errorf("40 concurrent requests were committed one by one (%d commits); want group commits", len(c.log.all()))
	}
}

func TestCommitterRespectsMaxBatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		maxBatch   int
		perRequest int
	}{
		{"one event per request", 5, 1},
		{"requests that do not divide the cap", 10, 3},
		{"requests of exactly the cap", 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := newFakeSink()
			sink.gate = make(chan struct{})
			sink.entered = make(chan struct{}, 1)
			c := startCommitter(t, sink, CommitterConfig{MaxBatch: tc.maxBatch})

			first := submitAsync(c, sales("first", 1))
			waitEntered(t, sink)
			const n = 12
			var rest []<-chan submitted
			for i := range n {
				rest = append(rest, submitAsync(c, sales(fmt.Sprintf("r%d", i), tc.perRequest)))
			}
			waitQueued(t, c, n)
			close(sink.gate)
			answer(t, first)
			for _, ch := range rest {
				if a := answer(t, ch); a.err != nil {
					t.Fatal(a.err)
				}
			}
			for _, b := range c.log.all() {
				if b.Events > tc.maxBatch {
					t.Errorf("a commit of %d events (%d requests); MaxBatch is %d", b.Events, b.Requests, tc.maxBatch)
				}
			}
			stored := 0
			for _, b := range sink.recorded() {
				stored += len(b)
			}
			if want := 1 + n*tc.perRequest; stored != want {
				t.Errorf("sink stored %d events, want %d", stored, want)
			}
		})
	}
}

func TestCommitterOversizedRequestStillCommits(t *testing.T) {
	t.Parallel()
	// A single request larger than MaxBatch cannot be split (it is one
	// atomic answer) and must not be refused either.
	sink := newFakeSink()
	c := startCommitter(t, sink, CommitterConfig{MaxBatch: 2})
	out, err := c.Submit(context.Background(), sales("big", 5))
	if err != nil || len(out) != 5 {
		t.Fatalf("Submit: %d outcomes, err %v", len(out), err)
	}
	if st := c.log.all(); len(st) != 1 || st[0].Events != 5 {
		t.Errorf("commits %+v, want one of 5 events", st)
	}
}

func TestCommitterSinkErrorFailsTheRequest(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	sink := newFakeSink()
	sink.fail = func([]string) error { return boom }
	c := startCommitter(t, sink, CommitterConfig{})
	out, err := c.Submit(context.Background(), sales("a", 3))
	if !errors.Is(err, boom) {
		t.Fatalf("Submit error %v, want the sink's %v", err, boom)
	}
	if out != nil {
		t.Errorf("outcomes %+v with a failed commit; nothing may be acknowledged", out)
	}
	if st := c.log.all(); len(st) != 1 || !errors.Is(st[0].Err, boom) {
		t.Errorf("OnBatch saw %+v, want one failed batch", st)
	}
}

func TestCommitterIsolatesThePoisonRequest(t *testing.T) {
	t.Parallel()
	poison := errors.New("poison event")
	sink := newFakeSink()
	sink.fail = func(ids []string) error {
		if slices.Contains(ids, "bad-1") {
			return poison
		}
		return nil
	}
	sink.gate = make(chan struct{})
	sink.entered = make(chan struct{}, 1)
	c := startCommitter(t, sink, CommitterConfig{})

	// Hold a first commit so the next four requests land in one batch.
	first := submitAsync(c, sales("first", 1))
	waitEntered(t, sink)
	good1 := submitAsync(c, sales("good1", 2))
	waitQueued(t, c, 1)
	bad := submitAsync(c, []*event.Event{
		et.Sale("bad-0", "s1", et.Base, et.L("SKU", 1)),
		et.Sale("bad-1", "s1", et.Base, et.L("SKU", 1)),
	})
	waitQueued(t, c, 2)
	good2 := submitAsync(c, sales("good2", 3))
	waitQueued(t, c, 3)
	close(sink.gate)

	if a := answer(t, first); a.err != nil {
		t.Fatal(a.err)
	}
	for name, ch := range map[string]<-chan submitted{"good1": good1, "good2": good2} {
		a := answer(t, ch)
		if a.err != nil {
			t.Errorf("%s failed with %v; only the request with the poison event may fail", name, a.err)
			continue
		}
		for i, o := range a.out {
			if o.Status != StatusAccepted {
				t.Errorf("%s event %d: %s", name, i, o.Status)
			}
		}
	}
	if a := answer(t, bad); !errors.Is(a.err, poison) || a.out != nil {
		t.Errorf("poisoned request: outcomes %+v, err %v; want the sink's error and no outcomes", a.out, a.err)
	}
	if _, ok := sink.seqOf("bad-0"); ok {
		t.Error("bad-0 was stored: the poisoned request must fail as a whole")
	}

	st := c.log.all()
	// first; the combined batch (fails); then each request on its own.
	if len(st) != 5 {
		t.Fatalf("%d commits, want 5: %+v", len(st), st)
	}
	if st[1].Requests != 3 || st[1].Err == nil {
		t.Errorf("combined commit %+v, want 3 requests and an error", st[1])
	}
	failed := 0
	for _, b := range st[2:] {
		if b.Requests != 1 {
			t.Errorf("retry commit %+v, want one request", b)
		}
		if b.Err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d single-request retries failed, want exactly 1", failed)
	}
}

func TestCommitterSubmitAfterStop(t *testing.T) {
	t.Parallel()
	c := startCommitter(t, newFakeSink(), CommitterConfig{})
	if _, err := c.Submit(context.Background(), sales("before", 1)); err != nil {
		t.Fatal(err)
	}
	c.stop(t)
	if _, err := c.Submit(context.Background(), sales("after", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Run ended: %v, want ErrClosed", err)
	}
}

func TestCommitterStopFailsQueuedRequests(t *testing.T) {
	t.Parallel()
	sink := newFakeSink()
	sink.gate = make(chan struct{})
	sink.entered = make(chan struct{}, 1)
	c := startCommitter(t, sink, CommitterConfig{})
	first := submitAsync(c, sales("first", 1))
	waitEntered(t, sink)
	queued := submitAsync(c, sales("queued", 1))
	waitQueued(t, c, 1)
	c.cancel()
	close(sink.gate)
	c.stop(t)
	if a := answer(t, first); a.err != nil {
		t.Errorf("the commit in progress at shutdown: %v; it must complete", a.err)
	}
	// The queued request was either committed before Run noticed ctx, or
	// failed with ErrClosed; it must not hang.
	if a := answer(t, queued); a.err != nil && !errors.Is(a.err, ErrClosed) {
		t.Errorf("queued request: %v, want success or ErrClosed", a.err)
	}
}

func TestCommitterSubmitRacingShutdownNeverHangs(t *testing.T) {
	t.Parallel()
	// Submits that race with Run's end must all return (ErrClosed or an
	// outcome) even with a context that never ends.
	for round := range 20 {
		c := startCommitter(t, newFakeSink(), CommitterConfig{})
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					_, err := c.Submit(context.Background(), sales(fmt.Sprintf("r%d-w%d-%d", round, w, i), 1))
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil && !errors.Is(err, ErrOverloaded) {
						t.Errorf("Submit: %v", err)
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		c.stop(t)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: a Submit racing shutdown never returned", round)
		}
	}
}

func TestCommitterQueueFull(t *testing.T) {
	t.Parallel()
	sink := newFakeSink()
	sink.gate = make(chan struct{})
	sink.entered = make(chan struct{}, 1)
	c := startCommitter(t, sink, CommitterConfig{Queue: 1})
	first := submitAsync(c, sales("first", 1))
	waitEntered(t, sink)
	second := submitAsync(c, sales("second", 1))
	waitQueued(t, c, 1)

	if _, err := c.Submit(context.Background(), sales("third", 1)); !errors.Is(err, ErrOverloaded) {
		t.Errorf("Submit with a full queue: %v, want ErrOverloaded", err)
	}
	close(sink.gate)
	for _, ch := range []<-chan submitted{first, second} {
		if a := answer(t, ch); a.err != nil {
			t.Error(a.err)
		}
	}
	if _, ok := sink.seqOf("third-0"); ok {
		t.Error("the refused request was stored")
	}
}

func TestCommitterSubmitContextEnds(t *testing.T) {
	t.Parallel()
	sink := newFakeSink()
	sink.gate = make(chan struct{})
	sink.entered = make(chan struct{}, 1)
	c := startCommitter(t, sink, CommitterConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, sales("gone", 1))
		errc <- err
	}()
	waitEntered(t, sink)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Submit with a cancelled context: %v, want context.Canceled", err)
	}
	close(sink.gate)
	// The abandoned request is still committed: a retry will find it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := sink.seqOf("gone-0"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the abandoned request was never committed")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCommitterEmptySubmit(t *testing.T) {
	t.Parallel()
	c := NewCommitter(newFakeSink(), CommitterConfig{}) // not running
	out, err := c.Submit(context.Background(), nil)
	if out != nil || err != nil {
		t.Errorf("Submit(nil) = %v, %v; want nil, nil without touching the queue", out, err)
	}
}

func TestCommitterWrongOutcomeCount(t *testing.T) {
	t.Parallel()
	sink := SinkFunc(func(_ context.Context, evs []*event.Event) ([]Outcome, error) {
		return make([]Outcome, len(evs)-1), nil
	})
	c := startCommitter(t, sink, CommitterConfig{})
	if out, err := c.Submit(context.Background(), sales("x", 2)); err == nil {
		t.Errorf("a sink answering too few outcomes was accepted: %+v", out)
	}
}
