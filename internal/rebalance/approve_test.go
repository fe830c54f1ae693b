package rebalance

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpfake"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/inventory"
)

// TestSalesToApprovedTransferInERP goes from till sales in the log to a
// proposal in the inbox, its approval, the TransferOut in the log and
// ledger, and the transfer order posted to the ERP exactly once — then the
// arrival as a transfer receipt.
func TestSalesToApprovedTransferInERP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, asOf := hubWithSales(t)

	// The ERP destination, reading the log through its cursor.
	fake := erpfake.New()
	notify := destination.NewNotifier()
	d := destination.NewERPDestination(destination.ERPConfig{
		Name: "erp", Connector: fake,
		Governor: destination.NewGovernor(destination.GovernorConfig{Name: "acct", Concurrency: 2}),
		Retry:    destination.RetryPolicy{Attempts: 3, Backoff: destination.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}},
		Timeout:  5 * time.Second, Flush: 20 * time.Millisecond,
		Types: map[event.Type]bool{event.TypeTransferOut: true, event.TypeTransferIn: true},
	}, st, notify, destination.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("destination: %v", err)
		}
	}()

	cfg := DefaultConfig()
	cfg.HistoryDays = 28
	cfg.Margin = 900
	cfg.DefaultLane = LaneConfig{LeadDays: 1, CostPerUnit: 60}
	res, err := PlanStore(ctx, st, cfg, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Proposals) != 1 {
		t.Fatalf("proposals: %+v", res.Proposals)
	}
	p := res.Proposals[0]

	in := inbox.New(st, inbox.Options{Now: func() time.Time { return asOf }})
	ap := &Approver{Emit: StoreEmitter(st, notify.Broadcast), Zones: Zones{"BER": "Europe/Berlin", "HAM": "Europe/Berlin"},
		Now: func() time.Time { return asOf.Add(time.Minute) }}
	if err := ap.Register(in); err != nil {
		t.Fatal(err)
	}
	subs, err := Submit(ctx, in, cfg.AutoApprove, res.Proposals)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].AutoApproved || subs[0].Raised != inbox.Created {
		t.Fatalf("submitted %+v", subs)
	}
	// Planning and submitting again the same day changes nothing.
	if again, err := Submit(ctx, in, cfg.AutoApprove, res.Proposals); err != nil || again[0].Raised != inbox.Unchanged || again[0].Exception != subs[0].Exception {
		t.Fatalf("resubmitted: %+v, %v", again, err)
	}
	x, err := in.Get(ctx, subs[0].Exception)
	if err != nil {
		t.Fatal(err)
	}
	if x.Kind != inbox.TransferProposal || x.State != inbox.Open || len(x.Suggestions) != 1 || x.Suggestions[0].Action != ActApprove {
		t.Fatalf("exception %+v", x)
	}

	x, err = in.Act(ctx, x.ID, inbox.Action{Name: ActApprove, Actor: "cli:alice", Suggestion: "approve"})
	if err != nil {
		t.Fatal(err)
	}
	if x.State != inbox.Resolved {
		t.Errorf("after approval the exception is %s", x.State)
	}
	// Approving again is refused by the inbox; the handler run twice
	// (a retry) emits nothing new either.
	if _, err := in.Act(ctx, x.ID, inbox.Action{Name: ActApprove, Actor: "cli:bob"}); err == nil {
		t.Error("a resolved proposal was approved twice")
	}
	if _, err := ap.Handle(ctx, x, inbox.Action{Name: ActApprove}, nil); err != nil {
		t.Fatal(err)
	}

	// The ledger: stock left HAM and is in transit to BER.
	pos, err := st.PositionsByKey(ctx, []inventory.Key{{SKU: "SKU-1", Location: "HAM"}, {SKU: "SKU-1", Location: "BER"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := pos[inventory.Key{SKU: "SKU-1", Location: "HAM"}].OnHand(); got != event.Units(80)-p.Quantity {
		t.Errorf("HAM on hand %s, want %s", got, event.Units(80)-p.Quantity)
	}
	ber := pos[inventory.Key{SKU: "SKU-1", Location: "BER"}]
	if ber.InTransit != p.Quantity || ber.Available() != event.Units(3) {
		t.Errorf("BER in transit %s available %s, want %s in transit and 3 available", ber.InTransit, ber.Available(), p.Quantity)
	}
	// A new plan counts the stock in transit and proposes nothing more.
	if res2, err := PlanStore(ctx, st, cfg, asOf.Add(time.Hour)); err != nil || len(res2.Proposals) != 0 {
		t.Errorf("plan after approval: %+v, %v", res2.Proposals, err)
	}

	// The stock arrives.
	if err := ap.Emit.Emit(ctx, ArrivalEvents(p, asOf.Add(24*time.Hour), ap.Zones)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(fake.Records()) == 2 })
	order, ok := fake.Document(p.ID + "-out")
	if !ok || order.Kind != erp.TransferOrder || order.Location != "HAM" || order.ToLocation != "BER" ||
		len(order.Lines) != 1 || order.Lines[0].Quantity != p.Quantity {
		t.Errorf("ERP transfer order %+v (found %v)", order, ok)
	}
	if rcv, ok := fake.Document(p.ID + "-in"); !ok || rcv.Kind != erp.TransferReceipt {
		t.Errorf("ERP transfer receipt %+v (found %v)", rcv, ok)
	}
	for id, n := range fake.Records() {
		if n != 1 {
			t.Errorf("ERP holds %d records of %s, want exactly one", n, id)
		}
	}
	pos, _ = st.PositionsByKey(ctx, []inventory.Key{{SKU: "SKU-1", Location: "BER"}})
	if b := pos[inventory.Key{SKU: "SKU-1", Location: "BER"}]; b.InTransit != 0 || b.OnHand() != event.Units(3)+p.Quantity {
		t.Errorf("BER after arrival: on hand %s in transit %s", b.OnHand(), b.InTransit)
	}
}

func TestAutoApproveRules(t *testing.T) {
	t.Parallel()
	p := Proposal{Quantity: event.Units(6), TransferCost: event.Money{Amount: 300, Currency: "EUR"},
		Destination: SiteReason{StockoutProbability: 0.8}}
	for _, c := range []struct {
		r    AutoApprove
		want bool
	}{
		{AutoApprove{}, false},
		{AutoApprove{MaxUnits: 6}, true},
		{AutoApprove{MaxUnits: 5}, false},
		{AutoApprove{MaxCost: 299}, false},
		{AutoApprove{MaxUnits: 10, MaxCost: 300, MinStockoutProbability: 0.5}, true},
		{AutoApprove{MaxUnits: 10, MinStockoutProbability: 0.9}, false},
	} {
		if got := c.r.AutoApproves(p); got != c.want {
			t.Errorf("%+v: %v, want %v", c.r, got, c.want)
		}
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the ERP")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
