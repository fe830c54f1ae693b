package store_test

import (
	"context"
	"testing"
	"time"

	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
)

func TestReconcileQueries(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		appendOK(t, s, et.Sale("a", "s1", at(0), et.L("X", 1)), et.Sale("b", "s1", at(60), et.L("X", 1)),
			et.Sale("c", "s2", at(30), et.L("X", 1)), et.Sale("d", "s1", at(120), et.L("X", 1)))

		// [from, to): b's time is included, d's is not.
		evs, err := s.EventsOccurred(ctx, "s1", at(1), at(120))
		if err != nil || len(evs) != 1 || evs[0].Event.ID != "b" {
			t.Fatalf("EventsOccurred = %v, %v; want only b", evs, err)
		}

		if err := s.SaveProgress(ctx, store.Progress{Destination: "erp", Cursor: 2,
			Delivered: []store.Delivered{{ExternalID: "a", Kind: "cash_sale", Seq: 1, Events: 1}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.DeliveredIDs(ctx, "erp", []string{"a", "b"})
		if err != nil || !got["a"] || got["b"] {
			t.Fatalf("DeliveredIDs = %v, %v; want a only", got, err)
		}
		if got, _ = s.DeliveredIDs(ctx, "other", []string{"a"}); got["a"] {
			t.Error("a delivered to another destination counts")
		}

		now := time.Now().UTC()
		dl := store.DeadLetter{ExternalID: "b", Thread: "doc:b", Seq: 2, Kind: "cash_sale", Class: "missing", Error: "never confirmed",
			FirstFailed: now, LastFailed: now, Document: `{"external_id":"b"}`}
		if n, err := s.RequestRedelivery(ctx, "erp", []store.DeadLetter{dl}); err != nil || n != 1 {
			t.Fatalf("RequestRedelivery = %d, %v", n, err)
		}
		// Asked again while it is replaying: left alone.
		if n, err := s.RequestRedelivery(ctx, "erp", []store.DeadLetter{dl}); err != nil || n != 0 {
			t.Fatalf("RequestRedelivery again = %d, %v; want 0", n, err)
		}
		rows, err := s.DeadLetters(ctx, "erp", store.DeadReplay, 10)
		if err != nil || len(rows) != 1 || rows[0].ExternalID != "b" || rows[0].Class != "missing" {
			t.Fatalf("replaying = %+v, %v", rows, err)
		}
		// Parked after failing again, it can be asked for once more.
		if err := s.SaveProgress(ctx, store.Progress{Destination: "erp", Cursor: 2, Dead: []store.DeadLetter{dl}}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.RequestRedelivery(ctx, "erp", []store.DeadLetter{dl}); err != nil || n != 1 {
			t.Fatalf("RequestRedelivery of a parked letter = %d, %v; want 1", n, err)
		}
	})
}
