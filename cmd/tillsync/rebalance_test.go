package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/rebalance"
	"github.com/tillsync/tillsync/internal/store"
)

func TestRebalancePlanInput(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"rebalance", "plan", "--input", "../../examples/rebalance/positions.json", "--json"}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	var res rebalance.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(res.Proposals) == 0 || res.Proposals[0].To != "BER-1" || res.Proposals[0].Destination.ForecastPerDay <= 0 {
		t.Errorf("proposals %+v", res.Proposals)
	}
}

// tillsync rebalance plan --submit raises proposals from a hub's log in its
// inbox; tillsync rebalance approve ships one (a TransferOut in the log).
func TestRebalanceSubmitAndApprove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	cfg := filepath.Join(dir, "hub.yaml")
	yaml := "listen: \"127.0.0.1:0\"\ninsecure_plaintext: true\ndatabase: \"sqlite:" + db + "\"\n" +
		"stores:\n  - id: BER\n    zone: Europe/Berlin\n    token_sha256: \"" + strings.Repeat("ab", 32) + "\"\n" +
		"  - id: HAM\n    zone: Europe/Berlin\n    token_sha256: \"" + strings.Repeat("cd", 32) + "\"\n"
	rb := filepath.Join(dir, "rebalance.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rb, []byte("history_days: 28\nmargin: 900\ndefault_lane: {lead_time_days: 1, cost_per_unit: 60}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id, loc string, at time.Time, body event.Body) *event.Event {
		return &event.Event{ID: id, Type: body.Type(), Location: loc, Source: "pos", OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at, Body: body}
	}
	sale := func(id, loc string, at time.Time) *event.Event {
		return ev(id, loc, at, &event.Sale{Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: 1000}},
			Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 1000}}})
	}
	evs := []*event.Event{
		ev("r1", "BER", start, &event.Receipt{Lines: []event.Line{{SKU: "X", Quantity: event.Units(5*30 + 2)}}}),
		ev("r2", "HAM", start, &event.Receipt{Lines: []event.Line{{SKU: "X", Quantity: event.Units(30 + 60)}}}),
	}
	for d := range 30 {
		day := start.AddDate(0, 0, d).Add(10 * time.Hour)
		for i := range 5 {
			evs = append(evs, sale(fmt.Sprintf("b%d-%d", d, i), "BER", day.Add(time.Duration(i)*time.Hour)))
		}
		evs = append(evs, sale(fmt.Sprintf("h%d", d), "HAM", day))
	}
	if _, err := st.Append(ctx, evs, time.Now()); err != nil {
		t.Fatal(err)
	}
	asOf := start.AddDate(0, 0, 30).Add(6 * time.Hour).Format(time.RFC3339)
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"rebalance", "plan", "--config", cfg, "--rebalance", rb, "--as-of", asOf, "--submit"}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "HAM") || !strings.Contains(errb.String(), "submitted 1 proposals to the inbox, 0 auto-approved") {
		t.Fatalf("plan: %s / %s", out.String(), errb.String())
	}
	out.Reset()
	if err := run(ctx, []string{"rebalance", "approve", "--config", cfg, "1", "--note", "ok"}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "exception 1 resolved") {
		t.Errorf("approve: %s", out.String())
	}
	pos, err := st.PositionsByKey(ctx, []inventory.Key{{SKU: "X", Location: "BER"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := pos[inventory.Key{SKU: "X", Location: "BER"}]; p.InTransit <= 0 {
		t.Errorf("BER in transit %s after approval", p.InTransit)
	}
	_ = st.Close()
}

func TestBenchRebalanceSmall(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"bench", "rebalance", "--stores", "6", "--skus", "20", "--weeks", "3",
		"--plan-stores", "30", "--plan-skus", "50", "--json"}, &out, &errb)
	if err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep struct {
		Strategies []rebalance.StrategyResult `json:"strategies"`
		Plan       *rebalance.PlanTiming      `json:"plan"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the JSON summary: %v", err)
	}
	if len(rep.Strategies) != 3 || rep.Plan == nil || rep.Plan.Sites != 30*50 {
		t.Errorf("summary %+v", rep)
	}
	if !strings.Contains(out.String(), "Units moved: predictive") || !strings.Contains(out.String(), "min/max rules") {
		t.Errorf("table:\n%s", out.String())
	}
}
