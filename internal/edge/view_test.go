package edge

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
)

// idleEdge is an edge that is not serving: the test drives its parts.
func idleEdge(t *testing.T) *Edge {
	t.Helper()
	e, err := New(context.Background(), edgeConfig(unreachableHub, filepath.Join(t.TempDir(), "edge.db")), slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// jkt returns the view's on-hand estimate of JKT at s1.
func jkt(e *Edge) event.Qty {
	p, _ := e.view.position(inventory.Key{SKU: "JKT", Location: "s1"})
	return p.OnHand()
}

func commitLocal(t *testing.T, e *Edge, evs ...*event.Event) {
	t.Helper()
	out, err := e.commit(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Status != intake.StatusAccepted {
			t.Fatalf("not accepted: %+v", o)
		}
	}
}

func TestViewSnapshotTakenBeforeTheHubsAnswerIsRecorded(t *testing.T) {
	t.Parallel()
	// The uplink sends a receipt and a sale; the hub stores them (seqs 1
	// and 2) and, before the edge has recorded that answer, a snapshot
	// refresh fetches the hub's stock as of seq 2, which already reflects
	// both. Once the answer is recorded the view must count them once.
	e := idleEdge(t)
	ctx := context.Background()
	commitLocal(t, e, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)), et.Sale("sale-1", "s1", at(1), et.L("JKT", 2)))
	if got := jkt(e); got != event.Units(8) {
		t.Fatalf("JKT from local events: %s, want 8", got)
	}

	snap := &inventory.Snapshot{Location: "s1", AsOfSeq: 2, Positions: []inventory.SnapshotPosition{{SKU: "JKT", Delta: event.Units(8)}}}
	if err := e.out.saveSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := e.rebuildView(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := e.recordSync(ctx, map[int64]int64{1: 1, 2: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if got := jkt(e); got != event.Units(8) {
		t.Errorf("JKT after the hub's answer: %s, want 8 (the snapshot already reflects both events)", got)
	}

	// The same holds for a duplicate answer (a resent batch whose first
	// answer was lost) and across a restart.
	commitLocal(t, e, et.Sale("sale-2", "s1", at(2), et.L("JKT", 1)))
	snap = &inventory.Snapshot{Location: "s1", AsOfSeq: 7, Positions: []inventory.SnapshotPosition{{SKU: "JKT", Delta: event.Units(7)}}}
	if err := e.out.saveSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := e.rebuildView(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := e.recordSync(ctx, map[int64]int64{3: 7}, nil); err != nil {
		t.Fatal(err)
	}
	if got := jkt(e); got != event.Units(7) {
		t.Errorf("JKT after sale-2's answer: %s, want 7", got)
	}
}

func TestViewEventsSyncedAfterTheSnapshotStayCounted(t *testing.T) {
	t.Parallel()
	// The opposite order: the snapshot predates the hub storing the sale,
	// so the sale must stay on top of it after its answer is recorded.
	e := idleEdge(t)
	ctx := context.Background()
	snap := &inventory.Snapshot{Location: "s1", AsOfSeq: 4, Positions: []inventory.SnapshotPosition{{SKU: "JKT", Delta: event.Units(10)}}}
	if err := e.out.saveSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := e.rebuildView(ctx, snap); err != nil {
		t.Fatal(err)
	}
	commitLocal(t, e, et.Sale("sale-1", "s1", at(1), et.L("JKT", 2)))
	if err := e.recordSync(ctx, map[int64]int64{1: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if got := jkt(e); got != event.Units(8) {
		t.Errorf("JKT: %s, want 10 − 2 = 8", got)
	}
	// A rejected event leaves the view at the next rebuild.
	commitLocal(t, e, et.Sale("sale-bad", "s1", at(2), et.L("JKT", 1)))
	if err := e.recordSync(ctx, nil, map[int64]string{2: "invalid_event: no"}); err != nil {
		t.Fatal(err)
	}
	if err := e.rebuildView(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if got := jkt(e); got != event.Units(8) {
		t.Errorf("JKT after a rejected sale and a rebuild: %s, want 8", got)
	}
}
