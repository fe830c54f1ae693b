package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/store"
)

const reconcileStripeHeader = "automatic_payout_id,balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,card_last4\n"

// tillsync reconcile: tenders CSV against a Stripe report; what is open is
// an exception (exit 3); with --state a later file resolves it (exit 0).
func TestReconcileCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tenders := write("tenders.csv", "event,tender,location,zone,processor,at,currency,amount,tip,reference,card_last4,auth_code\n"+
		"sale-1,0,store-42,Europe/Berlin,stripe,2026-03-02T14:05:00Z,EUR,42.50,,ch_1,4242,A1\n"+
		"sale-2,0,store-42,Europe/Berlin,stripe,2026-03-02T15:00:00Z,EUR,10.00,2.00,ch_2,1881,B2\n")
	first := write("psp-1.csv", reconcileStripeHeader+
		"po_1,txn_1,2026-03-02 14:06:00,2026-03-04 00:00:00,eur,42.50,0.85,41.65,charge,ch_1,4242\n")
	late := write("psp-2.csv", reconcileStripeHeader+
		"po_2,txn_2,2026-03-03 09:00:00,2026-03-05 00:00:00,eur,12.00,0.40,11.60,charge,,1881\n")
	state := filepath.Join(dir, "reconcile-state.json")
	ctx := context.Background()

	var out, errOut bytes.Buffer
	err := run(ctx, []string{"reconcile", "--settlement", first, "--tenders", tenders, "--state", state, "--as-of", "2026-03-20", "--json", "--matches"}, &out, &errOut)
	var ec exitCode
	if !errors.As(err, &ec) || ec != openExceptionsExit {
		t.Fatalf("first run: err %v, want exit %d; stderr %s", err, openExceptionsExit, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"rule":"reference"`) || !strings.Contains(lines[1], `"key":"reconcile:tender:sale-2#0"`) {
		t.Fatalf("first run output:\n%s", out.String())
	}
	var sum struct {
		Summary struct {
			Tenders, Lines, MatchedTenders int
			OpenTenders                    int `json:"open_tenders"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &sum); err != nil || sum.Summary.OpenTenders != 1 {
		t.Fatalf("summary line %s: %v", lines[2], err)
	}

	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"reconcile", "--state", state, "--as-of", "2026-03-20", late}, &out, &errOut); err != nil {
		t.Fatalf("second run: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "card 1") || !strings.Contains(out.String(), "no exceptions") {
		t.Fatalf("second run output:\n%s", out.String())
	}
}

func TestReconcileCLIUsage(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"reconcile", "--tenders", "x.csv"}, &out, &errOut)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 2 || !strings.Contains(errOut.String(), "--settlement") {
		t.Fatalf("err %v, stderr %s", err, errOut.String())
	}
	err = run(context.Background(), []string{"reconcile", "--settlement", "missing.csv", "--tenders", "nope.csv"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "nope.csv") {
		t.Fatalf("missing tenders file: %v", err)
	}
}

// tillsync reconcile --config: the tenders come from the hub's event log.
func TestReconcileCLIFromHubLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	cfg := filepath.Join(dir, "hub.yaml")
	yaml := "listen: \"127.0.0.1:0\"\ninsecure_plaintext: true\ndatabase: \"sqlite:" + db + "\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sale := &event.Event{ID: "k1", Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at,
		Body: &event.Sale{Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: 3000}},
			Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 3000, Reference: "ch_hub", Card: &event.Card{Last4: "4242"}}}}}
	if _, err := st.Append(ctx, []*event.Event{sale}, time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	psp := filepath.Join(dir, "psp.csv")
	if err := os.WriteFile(psp, []byte(reconcileStripeHeader+"po_1,txn_1,2026-03-02 09:01:00,2026-03-04 00:00:00,eur,30.00,0.60,29.40,charge,ch_hub,4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"reconcile", "--config", cfg, "--settlement", psp, "--matches"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "reference ch_hub and amount 30.00 EUR equal") || !strings.Contains(out.String(), "no exceptions") {
		t.Fatalf("output:\n%s", out.String())
	}
}
