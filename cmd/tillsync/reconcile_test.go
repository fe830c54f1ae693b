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
	"github.com/tillsync/tillsync/internal/inbox"
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
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sale := &event.Event{ID: "k1", Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at,
		Body: &event.Sale{Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: 3000}},
			Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 3000, Reference: "ch_hub", Card: &event.Card{Last4: "4242"}}}}}
	dir, cfg, _ := reconcileHub(t, sale)
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

// tillsync reconcile --config: what stays open is raised in the hub's
// exceptions inbox as settlement_unmatched, the state is kept beside the
// database, and a second run with the late settlement file auto-resolves
// it (reading only the log's new events).
func TestReconcileCLIRaisesAndResolvesInHubInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for i, ref := range []string{"ch_a", "ch_b", "ch_c"} {
		evs = append(evs, &event.Event{ID: "k" + ref, Type: event.TypeSale, Location: "s1", Source: "pos", OccurredAt: at.Add(time.Duration(i) * time.Hour),
			Zone: "Europe/Berlin", ReceivedAt: at,
			Body: &event.Sale{Currency: "EUR", Lines: []event.SaleLine{{SKU: "X", Quantity: event.Units(1), UnitPrice: event.Amount(1000 * (i + 1))}},
				Tenders: []event.Tender{{Kind: event.TenderCard, Amount: event.Amount(1000 * (i + 1)), Reference: ref}}}})
	}
	dir, cfg, db := reconcileHub(t, evs...)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(reconcileStripeHeader+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := write("psp-1.csv", "po_1,txn_1,2026-03-02 09:01:00,2026-03-04 00:00:00,eur,10.00,0.30,9.70,charge,ch_a,\n")
	late := write("psp-2.csv", "po_2,txn_2,2026-03-03 09:01:00,2026-03-05 00:00:00,eur,20.00,0.40,19.60,charge,ch_b,\n"+
		"po_2,txn_3,2026-03-03 09:02:00,2026-03-05 00:00:00,eur,30.00,0.50,29.50,charge,ch_c,\n")

	var out, errOut bytes.Buffer
	err := run(ctx, []string{"reconcile", "--config", cfg, "--settlement", first, "--as-of", "2026-03-20", "--json"}, &out, &errOut)
	var ec exitCode
	if !errors.As(err, &ec) || ec != openExceptionsExit {
		t.Fatalf("first run: err %v, want exit %d\n%s%s", err, openExceptionsExit, out.String(), errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "reconcile-state.json")); err != nil {
		t.Fatalf("state beside the database: %v", err)
	}
	active := reconcileInbox(t, db, inbox.StateActive)
	if len(active) != 2 {
		t.Fatalf("active exceptions after the first run: %+v", active)
	}
	for _, x := range active {
		var ev map[string]any
		if err := json.Unmarshal(x.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if x.Kind != inbox.SettlementUnmatched || x.Location != "s1" || x.Zone != "Europe/Berlin" || ev["sub_kind"] != "unsettled_tender" ||
			ev["amount"] == nil || !strings.HasPrefix(x.Title, "Unsettled tender: ") {
			t.Errorf("exception %+v, evidence %v", x, ev)
		}
	}
	if !strings.Contains(out.String(), `"key":"reconcile:tender:kch_b#0"`) || !strings.Contains(out.String(), `"kind":"settlement_unmatched"`) {
		t.Errorf("first run output lists the inbox's exceptions:\n%s", out.String())
	}

	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"reconcile", "--config", cfg, "--settlement", late, "--as-of", "2026-03-20"}, &out, &errOut); err != nil {
		t.Fatalf("second run: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "no exceptions") || strings.Contains(out.String(), "fed twice") {
		t.Errorf("second run output:\n%s", out.String())
	}
	if n := len(reconcileInbox(t, db, inbox.StateActive)); n != 0 {
		t.Errorf("%d exception(s) still active after the late file", n)
	}
	if done := reconcileInbox(t, db, string(inbox.AutoResolved)); len(done) != 2 {
		t.Errorf("auto-resolved: %+v", done)
	}
}

// reconcileInbox lists the hub inbox's settlement_unmatched exceptions in
// a state.
func reconcileInbox(t *testing.T, db, state string) []inbox.Exception {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	p, err := inbox.New(st, inbox.Options{Zones: map[string]string{"s1": "Europe/Berlin"}}).List(context.Background(),
		inbox.Filter{State: state, Kind: string(inbox.SettlementUnmatched), Limit: inbox.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Exceptions
}

// reconcileHub writes a hub config (SQLite, store s1 in Europe/Berlin) in
// a temporary directory and appends the events to its log.
func reconcileHub(t *testing.T, evs ...*event.Event) (dir, cfg, db string) {
	t.Helper()
	dir = t.TempDir()
	db, cfg = filepath.Join(dir, "hub.db"), filepath.Join(dir, "hub.yaml")
	yaml := "listen: \"127.0.0.1:0\"\ninsecure_plaintext: true\ndatabase: \"sqlite:" + db + "\"\n" +
		"stores:\n  - id: s1\n    zone: Europe/Berlin\n    token_sha256: \"" + strings.Repeat("ab", 32) + "\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	if _, err := st.Append(context.Background(), evs, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir, cfg, db
}
