package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/store"
)

// tillsync close reports a store's day from the hub named by a config, in
// text and JSON, and raises the drawer's variance in the inbox.
func TestCloseCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	cfg := filepath.Join(dir, "hub.yaml")
	yaml := "listen: \"127.0.0.1:0\"\ninsecure_plaintext: true\ndatabase: \"sqlite:" + db + "\"\n" +
		"stores:\n  - id: s1\n    zone: Europe/Berlin\n    token_sha256: \"" + strings.Repeat("ab", 32) + "\"\n" +
		"close:\n  cash: {default_float: 10000, tolerance: 10}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	evs := []*event.Event{
		{ID: "s", Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at,
			Body: &event.Sale{Register: "r1", Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: 2500}},
				Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 2500}}}},
		{ID: "k", Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: at.Add(time.Hour), Zone: "Europe/Berlin", ReceivedAt: at,
			Body: &event.Sale{Register: "r1", Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: 3000}},
				Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 3000, Reference: "ch_1"}}}},
		{ID: "dc", Type: event.TypeDrawerCount, Location: "s1", Source: "pos", OccurredAt: at.Add(8 * time.Hour), Zone: "Europe/Berlin",
			ReceivedAt: at, Body: &event.DrawerCount{Register: "r1", Currency: "EUR", Counted: 12000}},
	}
	if _, err := st.Append(ctx, evs, time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	psp := filepath.Join(dir, "stripe.csv")
	report := "automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,customer_facing_currency,customer_id,customer_email,charge_id,payment_intent_id,invoice_id,payment_method_type,card_brand,card_funding,card_country,statement_descriptor,dispute_reason,payment_metadata[order_id],payment_metadata[store]\n" +
		"po_1,2026-11-29 00:00:00,txn_1,2026-11-27 10:00:05,2026-11-27 11:00:05,2026-11-29 00:00:00,2026-11-29 01:00:00,eur,30.00,0.90,29.10,charge,ch_1,till sale,30.00,eur,,,ch_1,pi_1,,card_present,visa,credit,DE,TILLSYNC,,,s1\n"
	if err := os.WriteFile(psp, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"close", "--config", cfg, "--store", "s1", "--date", "2026-11-27", "--settlement", psp}, &out, &errb); err != nil {
		t.Fatalf("close: %v\n%s", err, errb.String())
	}
	for _, s := range []string{"store s1, 2026-11-27", "25.00 EUR", "-5.00 EUR", "OUT OF TOLERANCE", "1 open at s1", "1 of 1 card tenders matched"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"close", "--config", cfg, "--store", "s1", "--date", "2026-11-27", "--json"}, &out, &errb); err != nil {
		t.Fatalf("close --json: %v\n%s", err, errb.String())
	}
	var rep struct {
		Store      string `json:"store"`
		Exceptions struct {
			Open   int      `json:"open"`
			Raised []string `json:"raised"`
		} `json:"exceptions"`
		Cash struct {
			Variance map[string]int64 `json:"variance"`
		} `json:"cash"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	// Closing twice keeps one exception.
	if rep.Store != "s1" || rep.Cash.Variance["EUR"] != -500 || rep.Exceptions.Open != 1 || len(rep.Exceptions.Raised) != 1 {
		t.Errorf("report = %+v", rep)
	}
	out.Reset()
	if err := run(ctx, []string{"shrinkage", "--config", cfg, "--from", "2026-11-27", "--report-only"}, &out, &errb); err != nil ||
		!strings.Contains(out.String(), "Shrinkage 2026-11-27..2026-11-27: 0 subject(s) scored, 0 stand out") {
		t.Errorf("shrinkage: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"close", "--config", cfg, "--store", "nope", "--date", "2026-11-27"}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown store: %v", err)
	}
}
