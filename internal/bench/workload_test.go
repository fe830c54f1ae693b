package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Every generated event must decode strictly and pass validation, with its
// rewritten ID, or the hub would reject it and the benchmark would measure
// rejections.
func TestStreamEventsAreValid(t *testing.T) {
	t.Parallel()
	cat := newCatalog(300, 2)
	at := time.Now().UTC()
	for _, kind := range []struct {
		name string
		draw draw
	}{{"mix", (*generator).next}, {"sales", (*generator).sale}} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			s, err := newStream(newGenerator(cat, 3), kind.draw, "test-run-c01-", cat.locations[1], 64, at, false)
			if err != nil {
				t.Fatal(err)
			}
			types := map[event.Type]int{}
			for n := int64(0); n < 200; n++ {
				b := s.appendEvent(nil, n+1234567)
				var e event.Event
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatalf("event %d does not decode: %v\n%s", n, err, b)
				}
				e.ReceivedAt = at
				if err := e.Validate(); err != nil {
					t.Fatalf("event %d is not valid: %v\n%s", n, err, b)
				}
				if want := s.id(n + 1234567); e.ID != want {
					t.Fatalf("event %d has ID %q, want %q", n, e.ID, want)
				}
				if e.Location != s.loc {
					t.Fatalf("event %d is at %q, want %q", n, e.Location, s.loc)
				}
				if len(lineDeltas(&e)) == 0 {
					t.Fatalf("event %d moves no stock: %s", n, b)
				}
				types[e.Type]++
			}
			if kind.name == "sales" && len(types) != 1 {
				t.Errorf("sales stream drew %v", types)
			}
			if kind.name == "mix" && len(types) < 3 {
				t.Errorf("mixed stream drew only %v", types)
			}
		})
	}
}

func TestSeedIsValid(t *testing.T) {
	t.Parallel()
	cat := newCatalog(250, 1)
	evs := cat.seed("seed", cat.locations[0], time.Now().UTC())
	if len(evs) != 3 {
		t.Fatalf("%d seed receipts for 250 SKUs, want 3", len(evs))
	}
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}
