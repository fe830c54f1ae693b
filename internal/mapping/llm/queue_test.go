package llm_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/tillsync/tillsync/internal/mapping/llm"
	"github.com/tillsync/tillsync/internal/mapping/notes"
)

// Submit never waits on the model: with the one worker stuck and the
// queue full, it refuses at once; every accepted note gets exactly one
// answer.
func TestQueueNeverBlocks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	parse := func(ctx context.Context, note string) (notes.Result, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return notes.Result{Note: note, ReasonCode: notes.Other}, nil
	}
	q := llm.NewQueue(parse, 1, 2)
	q.Start(context.Background())

	var mu sync.Mutex
	answered := map[string]int{}
	done := func(r notes.Result, err error) {
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		answered[r.Note]++
		mu.Unlock()
	}
	if !q.Submit("a", done) {
		t.Fatal("first note refused")
	}
	<-started // the worker holds "a"
	accepted := []string{"a"}
	refused := 0
	for _, n := range []string{"b", "c", "d", "e"} {
		if q.Submit(n, done) {
			accepted = append(accepted, n)
		} else {
			refused++
		}
	}
	if len(accepted) != 3 || refused != 2 {
		t.Fatalf("accepted %v, refused %d: want 3 and 2 (one in flight, two queued)", accepted, refused)
	}
	close(release)
	q.Close()
	if q.Submit("late", done) {
		t.Error("a closed queue took a note")
	}
	for _, n := range accepted {
		if answered[n] != 1 {
			t.Errorf("note %q answered %d times, want 1", n, answered[n])
		}
	}
}

// The queue in front of the real client and a server that speaks the API.
func TestQueueWithClient(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(string) (int, string) { return http.StatusOK, goodAnswer })
	cl := client(t, f, llm.Config{})
	q := llm.NewQueue(cl.Parse, 2, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Start(ctx)
	results := make(chan notes.Result, 3)
	for range 3 {
		if !q.Submit("walmart had it 24.99", func(r notes.Result, err error) {
			if err != nil {
				t.Error(err)
			}
			results <- r
		}) {
			t.Fatal("refused")
		}
	}
	q.Close()
	close(results)
	n := 0
	for r := range results {
		n++
		if r.ReasonCode != notes.PriceMatch || r.Value != "24.99" {
			t.Errorf("got %+v", r)
		}
	}
	if n != 3 {
		t.Errorf("%d answers, want 3", n)
	}
}
