package store_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
)

func TestQuarantineHoldsAndReleasesOnce(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		held := func(id string, minute int) store.QuarantinedEvent {
			e := et.Sale(id, "s1", at(minute), et.L("UNKNOWN-1", 1))
			body, fp, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			return store.QuarantinedEvent{ID: id, Location: "s1", Source: "pos", Type: string(e.Type), OccurredAt: e.OccurredAt,
				Fingerprint: hex.EncodeToString(fp[:]), Body: body, Codes: []store.UnresolvedCode{{Line: 0, Code: "UNKNOWN-1"}},
				QuarantinedAt: at(minute)}
		}
		repair := store.Repair{EventID: "other", Line: 1, Source: "pos", Code: "JKT-M-BLK", SKU: "JKT-BLK-M", Confidence: 0.98,
			Evidence: "variant", Detail: "same style", Who: "tillsync:variant", At: at(0)}
		if err := s.Quarantine(ctx, []store.QuarantinedEvent{held("q1", 1), held("q2", 2)}, []store.Repair{repair}); err != nil {
			t.Fatal(err)
		}
		// Again (a retry after a crash before the ack): nothing doubles,
		// the first record stays.
		again := held("q1", 9)
		again.Note = "second"
		repair2 := repair
		repair2.SKU = "OTHER"
		if err := s.Quarantine(ctx, []store.QuarantinedEvent{again}, []store.Repair{repair2}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountQuarantined(ctx, store.QuarantineHeld); err != nil || n != 2 {
			t.Fatalf("held %d (%v), want 2", n, err)
		}
		rs, err := s.Repairs(ctx, "other")
		if err != nil || len(rs) != 1 || rs[0].SKU != "JKT-BLK-M" || rs[0].Evidence != "variant" || rs[0].Confidence != 0.98 {
			t.Fatalf("repairs %+v (%v), want the first only", rs, err)
		}
		got, err := s.QuarantineByID(ctx, []string{"q1", "nope"})
		if err != nil {
			t.Fatal(err)
		}
		q1, ok := got["q1"]
		if len(got) != 1 || !ok {
			t.Fatalf("by ID: %+v", got)
		}
		want := held("q1", 1)
		if q1.Fingerprint != want.Fingerprint || string(q1.Body) != string(want.Body) || q1.State != store.QuarantineHeld ||
			!q1.QuarantinedAt.Equal(at(1)) || len(q1.Codes) != 1 || q1.Codes[0].Code != "UNKNOWN-1" || q1.Note != "" {
			t.Fatalf("q1 = %+v, want %+v", q1, want)
		}
		// Paging, oldest first.
		page, err := s.Quarantined(ctx, store.QuarantineHeld, time.Time{}, "", 1)
		if err != nil || len(page) != 1 || page[0].ID != "q1" {
			t.Fatalf("first page %+v (%v)", page, err)
		}
		page, err = s.Quarantined(ctx, store.QuarantineHeld, page[0].QuarantinedAt, page[0].ID, 10)
		if err != nil || len(page) != 1 || page[0].ID != "q2" {
			t.Fatalf("second page %+v (%v)", page, err)
		}
		// Release twice: the first wins, the row keeps its seq.
		if err := s.Release(ctx, map[string]int64{"q1": 7}, at(10), "approved"); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, map[string]int64{"q1": 99}, at(11), "again"); err != nil {
			t.Fatal(err)
		}
		got, _ = s.QuarantineByID(ctx, []string{"q1"})
		if r := got["q1"]; r.State != store.QuarantineReleased || r.Seq != 7 || !r.ReleasedAt.Equal(at(10)) || r.Note != "approved" {
			t.Fatalf("released row %+v", r)
		}
		if n, _ := s.CountQuarantined(ctx, store.QuarantineHeld); n != 1 {
			t.Fatalf("held after release %d, want 1", n)
		}
		if rel, _ := s.Quarantined(ctx, store.QuarantineReleased, time.Time{}, "", 10); len(rel) != 1 || rel[0].ID != "q1" {
			t.Fatalf("released list %+v", rel)
		}
	})
}
