package rebalance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

// ActApprove is the inbox action that carries out a transfer proposal.
// Rejecting one is the inbox's built-in resolve, with the reason as note.
const ActApprove = "approve_transfer"

// SourceName is the event source of transfers tillsync proposed.
const SourceName = "tillsync-rebalance"

// Emitter appends events to the hub's log: through the same transaction
// as POS events (log and ledger at once, deduplicated on ID), so the
// ledger, the ERP destinations and available-to-promise follow.
type Emitter interface {
	Emit(ctx context.Context, events []*event.Event) error
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc func(ctx context.Context, events []*event.Event) error

// Emit calls f.
func (f EmitterFunc) Emit(ctx context.Context, events []*event.Event) error { return f(ctx, events) }

// StoreEmitter appends to a hub store directly (the CLI, tests); notify,
// if set, wakes the destinations afterwards.
func StoreEmitter(st *store.Store, notify func()) Emitter {
	return EmitterFunc(func(ctx context.Context, evs []*event.Event) error {
		res, err := st.Append(ctx, evs, time.Now())
		if err != nil {
			return err
		}
		for i, r := range res.Results {
			if r.Outcome != store.Accepted && r.Outcome != store.Duplicate {
				return fmt.Errorf("rebalance: event %s was %s", evs[i].ID, r.Outcome)
			}
		}
		if notify != nil {
			notify()
		}
		return nil
	})
}

// Zones names each location's IANA zone for the events a transfer makes
// (UTC for a location not listed).
type Zones map[string]string

func (z Zones) of(loc string) string {
	if s := z[loc]; s != "" {
		return s
	}
	return "UTC"
}

// DispatchEvents are the events of an approved proposal: the TransferOut at
// the source. Stock leaves the source and is in transit at the
// destination — counted there by the planner, not yet available to
// promise — until ArrivalEvents. The IDs derive from the proposal's, so an
// approval retried or repeated emits nothing new.
func DispatchEvents(p Proposal, at time.Time, zones Zones) []*event.Event {
	at = at.UTC().Truncate(event.Precision)
	return []*event.Event{{
		ID: p.ID + "-out", Type: event.TypeTransferOut, Location: p.From, Source: SourceName,
		OccurredAt: at, ReceivedAt: at, Zone: zones.of(p.From),
		Attributes: map[string]string{"proposal": p.ID},
		Body:       &event.TransferOut{TransferID: p.ID, ToLocation: p.To, Lines: []event.Line{{SKU: p.SKU, Quantity: p.Quantity}}},
	}}
}

// ArrivalEvents are the TransferIn when the stock is received at the
// destination.
func ArrivalEvents(p Proposal, at time.Time, zones Zones) []*event.Event {
	at = at.UTC().Truncate(event.Precision)
	return []*event.Event{{
		ID: p.ID + "-in", Type: event.TypeTransferIn, Location: p.To, Source: SourceName,
		OccurredAt: at, ReceivedAt: at, Zone: zones.of(p.To),
		Attributes: map[string]string{"proposal": p.ID},
		Body:       &event.TransferIn{TransferID: p.ID, FromLocation: p.From, Lines: []event.Line{{SKU: p.SKU, Quantity: p.Quantity}}},
	}}
}

// ProposalKey is the inbox deduplication key of a proposal.
func ProposalKey(p Proposal) string { return "transfer_proposal/" + p.ID }

// Problem is a proposal as an inbox exception: the proposal itself is the
// evidence (forecast, cover, risk, cost at both ends), and the one
// suggestion approves it.
func Problem(p Proposal) inbox.Problem {
	sev := inbox.SeverityWarning
	if p.Destination.StockoutProbability >= 0.5 {
		sev = inbox.SeverityError
	}
	payload, _ := json.Marshal(p) // plain struct: cannot fail
	return inbox.Problem{
		Key: ProposalKey(p), Kind: inbox.TransferProposal, Severity: sev,
		Location: p.To, Subject: p.SKU,
		Title: fmt.Sprintf("Transfer %s × %s from %s to %s: stockout risk %.0f%% → %.0f%%, %.1f lost sales avoided for %s",
			p.Quantity, p.SKU, p.From, p.To, 100*p.Destination.StockoutProbability,
			100*p.Destination.StockoutProbabilityAfter, p.ExpectedLostSalesAvoided, p.TransferCost),
		Evidence: p,
		Suggestions: []inbox.Suggestion{{
			ID: "approve", Label: fmt.Sprintf("Approve: ship %s from %s (%.1f days)", p.Quantity, p.From, p.LeadTimeDays),
			Confidence: 1 - p.Destination.StockoutProbabilityAfter, Action: ActApprove, Payload: payload,
		}},
		Actions:     []string{ActApprove},
		Observation: p.ID,
		At:          p.AsOf,
	}
}

// Approver turns approvals into transfers.
type Approver struct {
	Emit  Emitter
	Zones Zones
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Handle implements inbox.Handler for ActApprove: it emits the proposal's
// TransferOut and resolves the exception.
func (a *Approver) Handle(ctx context.Context, x inbox.Exception, _ inbox.Action, _ *inbox.Suggestion) (inbox.Result, error) {
	if x.Kind != inbox.TransferProposal {
		return inbox.Result{}, fmt.Errorf("rebalance: exception %d is a %s, not a transfer proposal", x.ID, x.Kind)
	}
	var p Proposal
	if err := json.Unmarshal(x.Evidence, &p); err != nil {
		return inbox.Result{}, fmt.Errorf("rebalance: exception %d: evidence is not a proposal: %w", x.ID, err)
	}
	if p.ID == "" || p.SKU == "" || p.From == "" || p.To == "" || p.Quantity <= 0 {
		return inbox.Result{}, fmt.Errorf("rebalance: exception %d: evidence is not a complete proposal (id, sku, from, to, quantity)", x.ID)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	evs := DispatchEvents(p, now(), a.Zones)
	if err := a.Emit.Emit(ctx, evs); err != nil {
		return inbox.Result{}, fmt.Errorf("rebalance: emit transfer %s: %w", p.ID, err)
	}
	return inbox.Result{State: inbox.Resolved, Note: fmt.Sprintf("transfer %s shipped: %s × %s %s → %s", p.ID, p.Quantity, p.SKU, p.From, p.To),
		Detail: map[string]any{"transfer_id": p.ID, "event_ids": []string{evs[0].ID}}}, nil
}

// Register adds the approval action to an inbox.
func (a *Approver) Register(in *inbox.Inbox) error { return in.Register(ActApprove, a) }

// Submitted is what Submit did with each proposal.
type Submitted struct {
	Proposal  Proposal     `json:"proposal"`
	Exception int64        `json:"exception_id"`
	Raised    inbox.Raised `json:"raised"`
	// AutoApproved by the configured rules.
	AutoApproved bool `json:"auto_approved"`
}

// AutoApproves reports whether the rules approve a proposal without an
// operator: all configured limits must hold, and at least one be set.
func (r AutoApprove) AutoApproves(p Proposal) bool {
	if r.MaxUnits <= 0 && r.MaxCost <= 0 {
		return false
	}
	if r.MaxUnits > 0 && p.Quantity > event.Units(r.MaxUnits) {
		return false
	}
	if r.MaxCost > 0 && int64(p.TransferCost.Amount) > r.MaxCost {
		return false
	}
	return p.Destination.StockoutProbability >= r.MinStockoutProbability
}

// Submit raises each proposal in the inbox (once: the same proposal again
// changes nothing) and approves, as actor "rule:auto_approve", those the
// rules allow. The inbox must have the Approver registered.
func Submit(ctx context.Context, in *inbox.Inbox, rules AutoApprove, props []Proposal) ([]Submitted, error) {
	out := make([]Submitted, 0, len(props))
	for _, p := range props {
		x, what, err := in.Raise(ctx, Problem(p))
		if err != nil {
			return out, fmt.Errorf("rebalance: raise proposal %s: %w", p.ID, err)
		}
		s := Submitted{Proposal: p, Exception: x.ID, Raised: what}
		if rules.AutoApproves(p) && x.State.Active() {
			if _, err := in.Act(ctx, x.ID, inbox.Action{Name: ActApprove, Actor: "rule:auto_approve", Suggestion: "approve",
				Note: "within the auto-approve limits"}); err != nil {
				return out, fmt.Errorf("rebalance: auto-approve proposal %s: %w", p.ID, err)
			}
			s.AutoApproved = true
		}
		out = append(out, s)
	}
	return out, nil
}
