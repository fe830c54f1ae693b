package exception_test

import (
	"context"
	"testing"

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
