package stripe_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

// Every testdata/*.csv parses to testdata/golden/<name>.golden
// (-update rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	settlementtest.Golden(t, "testdata/*.csv", func(_ *testing.T, path string) settlement.Parser {
		return &stripe.Parser{File: filepath.Base(path)}
	})
}

func TestPayouts(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/payouts_usd_eur_jpy.csv")
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.NewReader(data)
	txs, sum, err := settlement.Collect(&stripe.Parser{}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 11 || sum.ControlTotalsChecked != 11 || !sum.ControlTotalsOK {
		t.Fatalf("%d transactions, %d checks, problems %v", len(txs), sum.ControlTotalsChecked, sum.Problems)
	}
	// Per payout, the nets add up to what reaches the bank.
	payouts := map[string]int64{}
	for _, tx := range txs {
		payouts[tx.References.Batch] += int64(tx.Amount)
	}
	want := map[string]int64{"po_1PusdA2eZvKYlo2C": 426, "po_1PeurA2eZvKYlo2C": 10548, "po_1PjpyA2eZvKYlo2C": 14159}
	for id, n := range want {
		if payouts[id] != n {
			t.Errorf("payout %s nets %d, want %d", id, payouts[id], n)
		}
	}
	jpy := txs[8]
	if jpy.Amount != 4820 || jpy.Currency != "JPY" || jpy.Breakdown.Gross.Amount != 5000 || jpy.Breakdown.Fee.Amount != 180 || jpy.Type != settlement.TypePayment {
		t.Errorf("JPY charge %+v", jpy)
	}
	if d := txs[0].BookingDate; !d.HasZone() || d.String() != "2026-03-02T14:05:11Z" {
		t.Errorf("created_utc read as %s", d)
	}
	if txs[3].Type != settlement.TypeChargeback || txs[3].Amount != -7500 || txs[7].Type != settlement.TypeChargebackReversal || txs[7].Amount != 4500 {
		t.Errorf("dispute rows %+v / %+v", txs[3], txs[7])
	}
	eur := txs[5]
	if eur.Original == nil || eur.Original.Amount != 5410 || eur.Original.Currency != "USD" || eur.References.Merchant != "B-2231" {
		t.Errorf("EUR charge paid in USD %+v", eur)
	}
	if strings.Contains(txs[6].Description, "4242 4242 4242 4242") {
		t.Errorf("card number left in the description: %q", txs[6].Description)
	}
	for _, tx := range txs {
		for k, v := range tx.Attributes {
			if strings.Contains(k, "email") || strings.Contains(v, "@") {
				t.Errorf("personal data kept: %s=%s", k, v)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const head = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n"
	cases := []struct {
		name, in string
		at       settlement.Place
		msg      string
	}{
		{"too many decimals", head + "txn_1,2026-03-02 10:00:00,usd,1.005,0,1.005,charge\n", settlement.Place{Line: 2, Column: "net"}, "more decimals"},
		{"unknown currency", head + "txn_1,2026-03-02 10:00:00,usx,1,0,1,charge\n", settlement.Place{Line: 2, Column: "currency"}, `"usx"`},
		{"bad date", head + "txn_1,02/03/2026,usd,1,0,1,charge\n", settlement.Place{Line: 2, Column: "created_utc"}, "not a date-time"},
		{"empty net", head + "txn_1,2026-03-02 10:00:00,usd,1,0,,charge\n", settlement.Place{Line: 2, Column: "net"}, "is empty"},
		{"ragged row", head + "txn_1,2026-03-02 10:00:00,usd,1,0\n", settlement.Place{Line: 2}, "wrong number of fields"},
		{"no net column", "id,currency,amount\n", settlement.Place{Line: 1, Column: "net"}, "no net column"},
		{"empty", "", settlement.Place{}, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := settlement.Collect(&stripe.Parser{}, strings.NewReader(c.in))
			var pe *settlement.Error
			if !errors.As(err, &pe) || pe.Place != c.at || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v, want %q at %+v", err, c.msg, c.at)
			}
		})
	}
}

func TestDecimalComma(t *testing.T) {
	t.Parallel()
	in := "balance_transaction_id,currency,gross,fee,net,reporting_category\ntxn_1,eur,\"12,50\",\"0,40\",\"12,10\",charge\n"
	txs, sum, err := settlement.Collect(&stripe.Parser{}, strings.NewReader(in))
	if err != nil || len(txs) != 1 || txs[0].Amount != 1210 || !sum.ControlTotalsOK {
		t.Fatalf("got %+v %v", txs, err)
	}
}
