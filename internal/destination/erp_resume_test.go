package destination_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/event/eventtest"
)

// A document that waited for the one before it in its thread (a void for
// its sale) is sent as soon as that one is delivered, not behind every
// document read since: otherwise the cursor, and with it what a restart
// posts again, would wait for the whole window.
func TestResumedThreadGoesFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.cfg.Governor = destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 1})
	b.fake.Latency = 2 * time.Millisecond
	evs := []*event.Event{
		eventtest.Sale("sale-0", "berlin", at(0), eventtest.L("SKU-A", 1)),
		eventtest.Void("void-0", "berlin", at(1), "sale-0"),
	}
	const later = 40
	for i := range later {
		evs = append(evs, eventtest.Sale(fmt.Sprintf("sale-%d", i+1), "berlin", at(2+i), eventtest.L("SKU-A", 1)))
	}
	head := b.add(t, evs...)
	b.run(t)
	b.waitCursor(t, head)

	order := b.fake.Order()
	if len(order) != len(evs) {
		t.Fatalf("%d records, want %d: %v", len(order), len(evs), order)
	}
	// The void can only follow its sale, and the sales already handed to
	// the governor when the sale was (a few), never all forty.
	sale, void := slices.Index(order, "sale-0"), slices.Index(order, "void-0")
	if void < sale || void > 8 {
		t.Errorf("void-0 is record %d of %d (sale-0 is %d), want it right after its sale: %v", void, len(order), sale, order)
	}
}
