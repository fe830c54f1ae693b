package event_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
)

// Encode writes exactly what json.Marshal of the event writes, and a
// fingerprint that ignores what hops add.
func TestEncodeIsTheEventsJSON(t *testing.T) {
	t.Parallel()
	sale := et.Sale("s-1", "s1", et.Base, et.L("A", 2), et.L("B<&>", 1))
	sale.ReceivedAt, sale.StoreSeq = et.Base.Add(3e9), 42
	sale.Attributes = map[string]string{"pos": "<till 3>"}
	bare := &event.Event{ID: "x", Type: event.TypeSale, Location: "s1", Zone: "UTC"}
	for _, e := range []*event.Event{sale, bare, et.Count("c-1", "s1", et.Base, et.L("A", 5))} {
		got, fp, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Encode\n%s\nwant json.Marshal\n%s", e.ID, got, want)
		}
		if fp != e.Fingerprint() {
			t.Errorf("%s: Encode's fingerprint differs from Fingerprint()", e.ID)
		}
		var back event.Event
		if err := json.Unmarshal(got, &back); e.Body != nil && err != nil {
			t.Errorf("%s: Encode's JSON does not decode: %v", e.ID, err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	e := et.Sale("s-1", "s1", et.Base, et.L("A", 2), et.L("B", 1), et.L("C", 3))
	e.ReceivedAt = et.Base.Add(3e9)
	for b.Loop() {
		if _, _, err := e.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// A sealed event encodes as it did when sealed, normalized: what intake
// sealed in the request's goroutine is what the store writes.
func TestSealKeepsTheEncoding(t *testing.T) {
	t.Parallel()
	e := et.Sale("s-1", "s1", et.Base.Add(1234567), et.L("A", 2))
	e.ReceivedAt = et.Base.Add(3e9 + 1) // below Precision: cut by Normalize
	fresh := *e
	fresh.Normalize()
	want, wantFP, err := fresh.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Seal(); err != nil {
		t.Fatal(err)
	}
	got, fp, err := e.Encode()
	if err != nil || !bytes.Equal(got, want) || fp != wantFP {
		t.Fatalf("sealed Encode\n%s (err %v)\nwant\n%s", got, err, want)
	}
	// Sealing again (a retry of the same request) encodes afresh.
	e.Location = "s2"
	if err := e.Seal(); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := e.Encode(); bytes.Equal(got, want) {
		t.Fatal("a second Seal kept the first encoding")
	}
}
