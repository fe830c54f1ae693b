package hub

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/reconcile/closing"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// The hub closes a store's day by itself once the store's clock passes
// close.after_hour, once per day.
func TestAutomaticClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Zone: "Europe/Berlin", TokenSHA256: strings.Repeat("ab", 32)}}
	hour := 22
	cfg.Close.AfterHour = &hour
	cfg.Close.Cash.DefaultFloat = 10000
	h, err := New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	evs := []*event.Event{
		{ID: "s", Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at,
			Body: &event.Sale{Register: "r1", Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: 2500}},
				Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 2500}}}},
		{ID: "dc", Type: event.TypeDrawerCount, Location: "s1", Source: "pos", OccurredAt: at.Add(8 * time.Hour), Zone: "Europe/Berlin",
			ReceivedAt: at, Body: &event.DrawerCount{Register: "r1", Currency: "EUR", Counted: 12000}},
	}
	if _, err := h.store.Append(ctx, evs, time.Now()); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 27, 20, 30, 0, 0, time.UTC) // 21:30 in Berlin
	h.now = func() time.Time { return clock }
	c := closing.FromConfig(&h.cfg, h.store, exception.Hub{In: h.inbox})
	c.Now = h.now
	closed := map[string]string{}
	active := func() int {
		p, err := h.inbox.List(ctx, inbox.Filter{State: inbox.StateActive, Kind: string(inbox.CashVariance)})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Exceptions)
	}
	h.closeDue(ctx, c, closed)
	if closed["s1"] != "" || active() != 0 {
		t.Fatalf("closed %v before 22:00 store time", closed)
	}
	clock = clock.Add(time.Hour) // 22:30 in Berlin
	h.closeDue(ctx, c, closed)
	if closed["s1"] != "2026-11-27" || active() != 1 {
		t.Fatalf("after 22:00: closed %v, %d cash exceptions; want the day closed and the 5.00 shortage raised", closed, active())
	}
	// Resolved by someone; the same day is not closed (and re-raised) again.
	x, _ := h.inbox.List(ctx, inbox.Filter{State: inbox.StateActive})
	if _, err := h.inbox.Act(ctx, x.Exceptions[0].ID, inbox.Action{Name: "resolve", Actor: "ann", Note: "found the note"}); err != nil {
		t.Fatal(err)
	}
	h.closeDue(ctx, c, closed)
	if active() != 0 {
		t.Error("the same day was closed twice")
	}
}
