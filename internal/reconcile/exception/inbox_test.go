package exception_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

func TestHubInboxRaisesDedupsAndResolves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, storetest.Engines()[0])
	in := inbox.New(st, inbox.Options{Zones: map[string]string{"s1": "Europe/Berlin"}})
	h := exception.Hub{In: in}
	x := exception.Exception{Key: "cash_variance:s1:r1:dc1", Kind: exception.KindCashVariance, Severity: exception.Warning,
		Location: "s1", Subject: "register r1", Title: "register r1 drawer short by 0.50 EUR", Evidence: map[string]any{"variance": -50}}
	for range 2 {
		if err := h.Raise(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []string{exception.KindERPMissing, exception.KindShrinkageAnomaly} {
		if err := h.Raise(ctx, exception.Exception{Key: kind + ":x", Kind: kind, Severity: exception.Critical, Location: "s2", Title: kind,
			Evidence: map[string]any{}}); err != nil {
			t.Fatalf("raise %s: %v", kind, err)
		}
	}
	if n, err := h.CountOpen(ctx, "s1"); err != nil || n != 1 {
		t.Fatalf("open at s1 = %d, %v; want 1 (raised twice, deduplicated)", n, err)
	}
	p, err := in.List(ctx, inbox.Filter{Location: "s1"})
	if err != nil || len(p.Exceptions) != 1 || p.Exceptions[0].Zone != "Europe/Berlin" || p.Exceptions[0].Occurrences != 1 {
		t.Fatalf("list = %+v, %v; want one exception seen once, in store time", p, err)
	}
	if err := h.Resolve(ctx, x.Key, "balanced"); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.CountOpen(ctx, "s1"); n != 0 {
		t.Errorf("open at s1 after resolve = %d", n)
	}
	if err := h.Resolve(ctx, "no-such-key", "x"); err != nil {
		t.Errorf("resolving an unknown key: %v", err)
	}
}

// Amount and At go into the inbox's evidence beside the check's own facts,
// and Active lists what is open of a kind.
func TestHubKeepsAmountAndTimeAndListsActive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, storetest.Engines()[0])
	h := exception.Hub{In: inbox.New(st, inbox.Options{})}
	at := time.Date(2026, 3, 2, 14, 5, 0, 0, time.FixedZone("CET", 3600))
	x := exception.Exception{Key: "reconcile:tender:sale-1#0", Kind: exception.KindSettlementUnmatched, Severity: exception.Warning,
		Location: "s1", Title: "Unsettled tender: 42.50 EUR", Amount: &event.Money{Amount: 4250, Currency: "EUR"}, At: at,
		Evidence: map[string]string{"sub_kind": "unsettled_tender", "reference": "ch_1"}}
	if err := h.Raise(ctx, x); err != nil {
		t.Fatal(err)
	}
	if err := h.Raise(ctx, exception.Exception{Key: "cash_variance:s1", Kind: exception.KindCashVariance, Severity: exception.Info,
		Title: "drawer", Evidence: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	got, err := h.Active(ctx, exception.KindSettlementUnmatched)
	if err != nil || len(got) != 1 || got[0].Key != x.Key || got[0].Severity != exception.Warning {
		t.Fatalf("active = %+v, %v", got, err)
	}
	var ev struct {
		SubKind string      `json:"sub_kind"`
		Ref     string      `json:"reference"`
		Amount  event.Money `json:"amount"`
		At      time.Time   `json:"at"`
	}
	if err := json.Unmarshal(got[0].Evidence.(json.RawMessage), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SubKind != "unsettled_tender" || ev.Ref != "ch_1" || ev.Amount != *x.Amount || !ev.At.Equal(at) || ev.At.Location() != time.UTC {
		t.Errorf("evidence = %+v", ev)
	}
	if err := h.Raise(ctx, exception.Exception{Key: "k", Kind: exception.KindSettlementUnmatched, Severity: exception.Warning,
		Title: "t", Amount: x.Amount, Evidence: []string{"not an object"}}); err == nil {
		t.Error("amount beside evidence that is not an object: no error")
	}
}
