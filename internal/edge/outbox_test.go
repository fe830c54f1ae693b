package edge

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/intake"
)

func at(minute int) time.Time { return et.Base.Add(time.Duration(minute) * time.Minute) }

func openTestOutbox(t *testing.T, path string) *outbox {
	t.Helper()
	o, err := openOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func sale(id string, minute int) *event.Event { return et.Sale(id, "s1", at(minute), et.L("JKT", 1)) }

func commit(t *testing.T, o *outbox, evs ...*event.Event) []intake.Outcome {
	t.Helper()
	out, err := o.Commit(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(evs) {
		t.Fatalf("%d outcomes for %d events", len(out), len(evs))
	}
	return out
}

// commitN stores n new sales named prefix-0…prefix-(n-1) and returns their
// store_seqs.
func commitN(t *testing.T, o *outbox, prefix string, n int) []int64 {
	t.Helper()
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = sale(fmt.Sprintf("%s-%d", prefix, i), i)
	}
	var seqs []int64
	for i, r := range commit(t, o, evs...) {
		if r.Status != intake.StatusAccepted {
			t.Fatalf("%s: %s", evs[i].ID, r.Status)
		}
		if evs[i].StoreSeq != r.Seq {
			t.Errorf("%s: stamped store_seq %d, outcome %d", evs[i].ID, evs[i].StoreSeq, r.Seq)
		}
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

func wantSeqs(t *testing.T, got []int64, from int64) {
	t.Helper()
	for i, s := range got {
		if s != from+int64(i) {
			t.Fatalf("store_seqs %v, want gapless from %d", got, from)
		}
	}
}

func TestOutboxStoreSeqIsGaplessAcrossRestarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "edge.db")
	o := openTestOutbox(t, path)
	wantSeqs(t, commitN(t, o, "a", 3), 1)
	wantSeqs(t, commitN(t, o, "b", 2), 4)
	// A batch of only duplicates uses no numbers.
	if r := commit(t, o, sale("a-0", 0)); r[0].Status != intake.StatusDuplicate {
		t.Fatalf("a-0 again: %s", r[0].Status)
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}

	o = openTestOutbox(t, path)
	wantSeqs(t, commitN(t, o, "c", 2), 6)
	// Sync and trim everything: the numbers must still not restart.
	synced := map[int64]int64{}
	for s := int64(1); s <= 7; s++ {
		synced[s] = 100 + s
	}
	if err := o.markSynced(context.Background(), time.Now().Add(-time.Hour), synced, nil); err != nil {
		t.Fatal(err)
	}
	n, err := o.trim(context.Background(), time.Now())
	if err != nil || n != 7 {
		t.Fatalf("trim removed %d rows (err %v), want 7", n, err)
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}

	o = openTestOutbox(t, path)
	t.Cleanup(func() { _ = o.close() })
	wantSeqs(t, commitN(t, o, "d", 3), 8)
}

func TestOutboxLargeBatchIsGapless(t *testing.T) {
	t.Parallel()
	// More rows than one INSERT statement carries.
	o := openTestOutbox(t, filepath.Join(t.TempDir(), "edge.db"))
	t.Cleanup(func() { _ = o.close() })
	wantSeqs(t, commitN(t, o, "big", 1234), 1)
	wantSeqs(t, commitN(t, o, "next", 1), 1235)
}

func TestOutboxDuplicatesAndConflicts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "edge.db")
	o := openTestOutbox(t, path)
	first := commit(t, o, sale("sale-1", 0), sale("sale-2", 1))

	// A POS retry of sale-1, with a later received_at (what the first hop
	// stamps): the same event.
	retry := sale("sale-1", 0)
	retry.ReceivedAt = at(30)
	// sale-3 twice in one batch; and sale-2's ID reused for a different sale.
	reused := et.Sale("sale-2", "s1", at(1), et.L("HAT", 5))
	out := commit(t, o, retry, sale("sale-3", 2), sale("sale-3", 2), reused)

	if out[0].Status != intake.StatusDuplicate || out[0].Seq != first[0].Seq {
		t.Errorf("retry of sale-1: %+v, want duplicate of store_seq %d", out[0], first[0].Seq)
	}
	if out[1].Status != intake.StatusAccepted || out[1].Seq != 3 {
		t.Errorf("sale-3: %+v, want accepted at 3", out[1])
	}
	if out[2].Status != intake.StatusDuplicate || out[2].Seq != 3 {
		t.Errorf("sale-3 again in the same batch: %+v, want duplicate of 3", out[2])
	}
	if out[3].Status != intake.StatusRejected || out[3].Err == nil || out[3].Err.Code != intake.CodeIDConflict {
		t.Errorf("reused ID: %+v, want rejected %s", out[3], intake.CodeIDConflict)
	}

	// Duplicates are recognised after a restart too.
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	o = openTestOutbox(t, path)
	t.Cleanup(func() { _ = o.close() })
	out = commit(t, o, sale("sale-2", 1), reused, sale("sale-4", 3))
	if out[0].Status != intake.StatusDuplicate || out[0].Seq != first[1].Seq {
		t.Errorf("sale-2 after restart: %+v", out[0])
	}
	if out[1].Status != intake.StatusRejected || out[1].Err.Code != intake.CodeIDConflict {
		t.Errorf("reused ID after restart: %+v", out[1])
	}
	if out[2].Status != intake.StatusAccepted || out[2].Seq != 4 {
		t.Errorf("sale-4: %+v, want accepted at 4 (rejected and duplicate events take no number)", out[2])
	}
	if n, _, err := o.backlog(context.Background()); err != nil || n != 4 {
		t.Errorf("backlog %d (err %v), want 4 stored events", n, err)
	}
}

func seqsOf(rows []pendingRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.seq
	}
	return out
}

// upTo returns 1…to.
func upTo(to int64) []int64 {
	var out []int64
	for s := int64(1); s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestOutboxPendingLiveLane(t *testing.T) {
	t.Parallel()
	o := openTestOutbox(t, filepath.Join(t.TempDir(), "edge.db"))
	t.Cleanup(func() { _ = o.close() }) // after the parallel subtests
	commitN(t, o, "e", 20)              // store_seq 1…20
	ctx := context.Background()

	for _, tc := range []struct {
		name    string
		n, live int
		skip    []int64
		want    []int64
	}{
		{"no backlog beyond the batch", 25, 5, nil, upTo(20)},
		{"exactly the batch", 20, 5, nil, upTo(20)},
		{"no live lane", 8, 0, nil, upTo(8)},
		{"backlog: oldest plus newest", 8, 3, nil, append(upTo(5), 18, 19, 20)},
		{"in-flight events are skipped in both lanes", 8, 3, []int64{1, 2, 19},
			[]int64{3, 4, 5, 6, 7, 17, 18, 20}},
		{"live lane overlapping the oldest", 18, 5, nil, append(upTo(16), 19, 20)},
		{"everything in flight", 8, 3, upTo(20), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			skip := map[int64]bool{}
			for _, s := range tc.skip {
				skip[s] = true
			}
			rows, err := o.pending(ctx, tc.n, tc.live, skip)
			if err != nil {
				t.Fatal(err)
			}
			got := seqsOf(rows)
			if !slices.Equal(got, tc.want) {
				t.Errorf("pending(%d, %d, skip %v) = %v, want %v", tc.n, tc.live, tc.skip, got, tc.want)
			}
			if len(got) > tc.n {
				t.Errorf("%d events for a batch of %d", len(got), tc.n)
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("%v is not ascending without duplicates", got)
			}
			for _, r := range rows {
				if skip[r.seq] {
					t.Errorf("in-flight seq %d offered again", r.seq)
				}
				if len(r.body) == 0 {
					t.Errorf("seq %d has no body", r.seq)
				}
			}
		})
	}
}

func TestOutboxPendingLeavesOutSyncedAndRejected(t *testing.T) {
	t.Parallel()
	o := openTestOutbox(t, filepath.Join(t.TempDir(), "edge.db"))
	t.Cleanup(func() { _ = o.close() })
	ctx := context.Background()
	commitN(t, o, "e", 6)
	if err := o.markSynced(ctx, time.Now(), map[int64]int64{1: 11, 2: 12}, map[int64]string{4: "invalid_event: bad"}); err != nil {
		t.Fatal(err)
	}
	rows, err := o.pending(ctx, 10, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(rows); !slices.Equal(got, []int64{3, 5, 6}) {
		t.Errorf("pending %v, want [3 5 6]", got)
	}
	n, oldest, err := o.backlog(ctx)
	if err != nil || n != 3 {
		t.Errorf("backlog %d (err %v), want 3", n, err)
	}
	if !oldest.Equal(sale("x", 2).ReceivedAt) {
		t.Errorf("oldest unsynced %v, want e-2's received_at %v", oldest, sale("x", 2).ReceivedAt)
	}
	if rej := o.rejectedCount(); rej != 1 {
		t.Errorf("rejected %d, want 1", rej)
	}
}

func TestOutboxTrimKeepsUnsyncedAndRecent(t *testing.T) {
	t.Parallel()
	o := openTestOutbox(t, filepath.Join(t.TempDir(), "edge.db"))
	t.Cleanup(func() { _ = o.close() })
	ctx := context.Background()
	commitN(t, o, "e", 4)
	now := time.Now()
	if err := o.markSynced(ctx, now.Add(-2*time.Hour), map[int64]int64{1: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := o.markSynced(ctx, now, map[int64]int64{2: 2}, nil); err != nil {
		t.Fatal(err)
	}
	n, err := o.trim(ctx, now.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("trimmed %d (err %v), want only the old synced event", n, err)
	}
	// The trimmed event is no longer known; the recent one still is.
	out := commit(t, o, sale("e-1", 1), sale("e-0", 0))
	if out[0].Status != intake.StatusDuplicate {
		t.Errorf("recently synced e-1: %s, want duplicate", out[0].Status)
	}
	if out[1].Status != intake.StatusAccepted || out[1].Seq != 5 {
		t.Errorf("e-0 after its retention: %+v, want accepted with a new store_seq 5", out[1])
	}
}

// The backlog is counted as rows change, not over the table: it must stay
// what a count of the rows would say whatever the hub's answers repeat,
// and after a restart.
func TestOutboxBacklogCountStaysExact(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "edge.db")
	o := openTestOutbox(t, path)
	ctx := context.Background()
	counted := func(o *outbox) int64 {
		t.Helper()
		var n int64
		if err := o.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE synced_at = 0 AND rejected = ''`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	check := func(o *outbox, step string, want int64) {
		t.Helper()
		n, _, err := o.backlog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c := counted(o); n != want || c != want {
			t.Errorf("%s: backlog %d, rows awaiting the hub %d, want %d", step, n, c, want)
		}
		var rejected int64
		if err := o.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE rejected <> ''`).Scan(&rejected); err != nil {
			t.Fatal(err)
		}
		if got := o.rejectedCount(); got != rejected {
			t.Errorf("%s: rejected count %d, rows rejected %d", step, got, rejected)
		}
	}
	commitN(t, o, "e", 8)
	check(o, "after 8 events", 8)
	commit(t, o, sale("e-3", 3), sale("e-9", 9)) // a duplicate and a new one
	check(o, "after a retry with one new event", 9)
	if err := o.markSynced(ctx, time.Now(), map[int64]int64{1: 11, 2: 12}, map[int64]string{3: "invalid_event: bad"}); err != nil {
		t.Fatal(err)
	}
	check(o, "after 2 synced and 1 rejected", 6)
	// The same answer again (a resend the hub answered twice), and a
	// rejection of an event already synced: nothing changes.
	if err := o.markSynced(ctx, time.Now(), map[int64]int64{1: 11, 2: 12}, map[int64]string{1: "invalid_event: bad"}); err != nil {
		t.Fatal(err)
	}
	check(o, "after a repeated answer", 6)
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	o = openTestOutbox(t, path)
	t.Cleanup(func() { _ = o.close() })
	check(o, "after a restart", 6)
	if err := o.markSynced(ctx, time.Now(), map[int64]int64{4: 14, 5: 15, 6: 16, 7: 17, 8: 18, 9: 19}, nil); err != nil {
		t.Fatal(err)
	}
	check(o, "after the rest synced", 0)
	if _, oldest, err := o.backlog(ctx); err != nil || !oldest.IsZero() {
		t.Errorf("oldest unsynced with none waiting: %v (err %v), want zero", oldest, err)
	}
}
