package intake

import (
	"context"
	"errors"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Status is what became of one event.
type Status string

// Statuses reported per event.
const (
	StatusAccepted  Status = "accepted"
	StatusDuplicate Status = "duplicate"
	StatusRejected  Status = "rejected"
)

// Outcome is the durable result for one event: accepted or duplicate (with
// its log sequence) or rejected with a reason.
type Outcome struct {
	Status Status
	Seq    int64
	Err    *Error
	// Quarantined, with StatusAccepted, says the event is durably held
	// back (a line code resolves to no catalog SKU) and reaches the log
	// once its codes are mapped; it has no Seq yet.
	Quarantined bool
}

// Sink stores a batch of validated events durably, in one transaction, and
// returns one outcome per event. An error means nothing was stored.
type Sink interface {
	Commit(ctx context.Context, events []*event.Event) ([]Outcome, error)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, events []*event.Event) ([]Outcome, error)

// Commit implements Sink.
func (f SinkFunc) Commit(ctx context.Context, events []*event.Event) ([]Outcome, error) {
	return f(ctx, events)
}

// ErrClosed is returned by Submit once the committer has stopped.
var ErrClosed = errors.New("intake: committer stopped")

// ErrOverloaded is returned by Submit when the queue is full.
var ErrOverloaded = errors.New("intake: committer queue full")

// CommitterConfig tunes group commit.
type CommitterConfig struct {
	// Linger is how long the committer waits for more requests once it has
	// one and none is queued. It lingers only while requests are arriving
	// concurrently (the last batch held more than one): a lone request at
	// low load is committed at once, and under load requests that arrive
	// during a commit batch up anyway. Default 1ms.
	Linger time.Duration
	// MaxBatch caps the events in one transaction. Default 5000.
	MaxBatch int
	// Queue is how many requests may wait; beyond it Submit fails fast with
	// ErrOverloaded so callers get a 503 instead of a timeout. Default 1024.
	Queue int
}

func (c *CommitterConfig) defaults() {
	if c.Linger <= 0 {
		c.Linger = time.Millisecond
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 5000
	}
	if c.Queue <= 0 {
		c.Queue = 1024
	}
}

// BatchStats describes one group commit, for metrics.
type BatchStats struct {
	Requests int
	Events   int
	Took     time.Duration
	Err      error
}

// Committer is the group committer: Submit from many goroutines, Run in one.
type Committer struct {
	sink    Sink
	cfg     CommitterConfig
	reqs    chan *request
	stopped chan struct{}
	// concurrent is set when the last batch gathered several requests.
	concurrent bool
	// held is a request taken from the queue that did not fit in the last
	// batch; it starts the next one.
	held *request
	// OnBatch, if set, is called after every commit attempt (from Run's
	// goroutine).
	OnBatch func(BatchStats)
}

type request struct {
	ctx    context.Context
	events []*event.Event
	done   chan struct{}
	out    []Outcome
	err    error
}

// NewCommitter returns a committer writing to sink.
func NewCommitter(sink Sink, cfg CommitterConfig) *Committer {
	cfg.defaults()
	return &Committer{sink: sink, cfg: cfg, reqs: make(chan *request, cfg.Queue), stopped: make(chan struct{})}
}

// Submit queues events for the next group commit and waits until they are
// durable (or the commit failed, or ctx ended). It returns one outcome per
// event, in order.
func (c *Committer) Submit(ctx context.Context, events []*event.Event) ([]Outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	r := &request{ctx: ctx, events: events, done: make(chan struct{})}
	select {
	case <-c.stopped:
		return nil, ErrClosed
	default:
	}
	select {
	case c.reqs <- r:
	case <-c.stopped:
		return nil, ErrClosed
	default:
		return nil, ErrOverloaded
	}
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		// The commit may still land; the caller will retry and be told
		// "duplicate". Nothing is acknowledged that is not durable.
		return nil, ctx.Err()
	case <-c.stopped:
		// Run has ended, so no commit is in progress: r was answered
		// before, or it was queued too late for Run's final drain and
		// nobody will ever answer it.
		select {
		case <-r.done:
			return r.out, r.err
		default:
			return nil, ErrClosed
		}
	}
}

// Run commits queued requests until ctx ends, then fails what is left with
// ErrClosed.
func (c *Committer) Run(ctx context.Context) error {
	defer func() {
		close(c.stopped)
		if r := c.held; r != nil {
			c.held = nil
			r.err = ErrClosed
			close(r.done)
		}
		for {
			select {
			case r := <-c.reqs:
				r.err = ErrClosed
				close(r.done)
			default:
				return
			}
		}
	}()
	var batch []*request
	for {
		batch = batch[:0]
		if c.held != nil {
			batch = append(batch, c.held)
			c.held = nil
		} else {
			select {
			case <-ctx.Done():
				return nil
			case r := <-c.reqs:
				batch = append(batch, r)
			}
		}
		batch = c.gather(batch)
		c.commit(ctx, batch)
	}
}

// gather adds queued requests to the batch, lingering briefly for more when
// the queue is empty, up to MaxBatch events. A request that would take the
// batch over MaxBatch is held for the next one (a single request larger
// than MaxBatch still goes alone: it cannot be split).
func (c *Committer) gather(batch []*request) []*request {
	n := len(batch[0].events)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	add := func(r *request) bool {
		if n+len(r.events) > c.cfg.MaxBatch {
			c.held = r
			return false
		}
		batch = append(batch, r)
		n += len(r.events)
		return true
	}
	for n < c.cfg.MaxBatch {
		select {
		case r := <-c.reqs:
			if !add(r) {
				c.concurrent = true
				return batch
			}
			continue
		default:
		}
		if !c.concurrent {
			break
		}
		if timer == nil {
			timer = time.NewTimer(c.cfg.Linger)
		}
		select {
		case r := <-c.reqs:
			if !add(r) {
				c.concurrent = true
				return batch
			}
		case <-timer.C:
			c.concurrent = len(batch) > 1
			return batch
		}
	}
	c.concurrent = len(batch) > 1
	return batch
}

func (c *Committer) commit(ctx context.Context, batch []*request) {
	// Requests whose callers gave up are still committed: they may retry,
	// and a retry must find the events (as duplicates), not lose them.
	var all []*event.Event
	for _, r := range batch {
		all = append(all, r.events...)
	}
	start := time.Now()
	out, err := c.sink.Commit(context.WithoutCancel(ctx), all)
	if c.OnBatch != nil {
		c.OnBatch(BatchStats{Requests: len(batch), Events: len(all), Took: time.Since(start), Err: err})
	}
	if err != nil && len(batch) > 1 {
		// One request may carry what the store cannot take; commit each on
		// its own so that only that request fails.
		for _, r := range batch {
			c.commit(ctx, []*request{r})
		}
		return
	}
	if err == nil && len(out) != len(all) {
		err = errors.New("intake: sink returned the wrong number of outcomes")
	}
	i := 0
	for _, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i : i+len(r.events)]
		}
		i += len(r.events)
		close(r.done)
	}
}
