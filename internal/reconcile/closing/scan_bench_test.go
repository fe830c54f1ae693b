package closing_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/store"
)

// BenchmarkDayRead reads one store's day from a log of 20 stores × 10
// days × 500 sales: the close's query (EventsOccurred) against reading
// the whole log and filtering (the baseline), in the same run.
func BenchmarkDayRead(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for d := range 10 {
		var evs []*event.Event
		for s := range 20 {
			for i := range 500 {
				n++
				at := start.AddDate(0, 0, d).Add(time.Duration(i) * 100 * time.Second)
				evs = append(evs, &event.Event{ID: fmt.Sprintf("e%d", n), Type: event.TypeSale, Location: fmt.Sprintf("s%d", s), Source: "pos",
					OccurredAt: at, Zone: "UTC", ReceivedAt: at, Body: &event.Sale{Register: "r1", Cashier: "c1", Currency: "EUR",
						Lines:   []event.SaleLine{{SKU: fmt.Sprintf("SKU%d", i%300), Quantity: event.Units(1), UnitPrice: 1000}},
						Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 1000}}}})
			}
		}
		for i := 0; i < len(evs); i += 5000 {
			if _, err := st.Append(ctx, evs[i:min(i+5000, len(evs))], time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	}
	from, to := start.AddDate(0, 0, 7), start.AddDate(0, 0, 8)
	b.Run("events_occurred", func(b *testing.B) {
		for b.Loop() {
			evs, err := st.EventsOccurred(ctx, "s3", from, to)
			if err != nil || len(evs) != 500 {
				b.Fatal(len(evs), err)
			}
		}
	})
	b.Run("scan_log", func(b *testing.B) {
		for b.Loop() {
			got := 0
			var after int64
			for {
				batch, err := st.EventsAfter(ctx, after, 5000)
				if err != nil {
					b.Fatal(err)
				}
				if len(batch) == 0 {
					break
				}
				for _, s := range batch {
					if s.Event.Location == "s3" && !s.Event.OccurredAt.Before(from) && s.Event.OccurredAt.Before(to) {
						got++
					}
				}
				after = batch[len(batch)-1].Seq
			}
			if got != 500 {
				b.Fatal(got)
			}
		}
	})
}
