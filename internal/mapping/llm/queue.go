package llm

import (
	"context"
	"sync"

	"github.com/tillsync/tillsync/internal/mapping/notes"
)

// Parse is what the queue calls: (*Client).Parse, or a fake in tests.
type Parse func(ctx context.Context, note string) (notes.Result, error)

// Done receives a queued note's answer, on a worker goroutine.
type Done func(notes.Result, error)

type job struct {
	note string
	done Done
}

// Queue asks the model in the background: a fixed number of workers, a
// bounded queue, and a Submit that never waits.
type Queue struct {
	parse   Parse
	jobs    chan job
	workers int
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
}

// NewQueue returns a queue of size places served by workers workers
// (defaults 256 and 2).
func NewQueue(parse Parse, workers, size int) *Queue {
	if workers <= 0 {
		workers = 2
	}
	if size <= 0 {
		size = 256
	}
	return &Queue{parse: parse, jobs: make(chan job, size), workers: workers}
}

// Start runs the workers until ctx ends or Close is called. Requests in
// flight when ctx ends are cancelled and their callbacks told so.
func (q *Queue) Start(ctx context.Context) {
	for range q.workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for j := range q.jobs {
				if err := ctx.Err(); err != nil {
					j.done(notes.Result{}, err)
					continue
				}
				r, err := q.parse(ctx, j.note)
				j.done(r, err)
			}
		}()
	}
}

// Submit queues a note and returns at once: true if it was queued (done
// will be called exactly once), false if the queue is full or closed (done
// is not called; the note stays with whoever would have reviewed it).
func (q *Queue) Submit(note string, done Done) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	select {
	case q.jobs <- job{note: note, done: done}:
		return true
	default:
		return false
	}
}

// Close stops taking notes, lets the workers finish what is queued, and
// waits for them.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	q.wg.Wait()
}
