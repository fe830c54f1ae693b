package adyen_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/adyen"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
)

// Every testdata/*.csv parses to testdata/golden/<name>.golden
// (-update rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	settlementtest.Golden(t, "testdata/*.csv", func(_ *testing.T, path string) settlement.Parser {
		return &adyen.Parser{File: filepath.Base(path)}
	})
}

func TestSettlementDetails(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/settlement_detail_report_batch_123.csv")
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.NewReader(data)
	txs, sum, err := settlement.Collect(&adyen.Parser{}, f)
	if err != nil {
		t.Fatal(err)
	}
	// Lines with gross and net in one currency are checked: all but the USD→EUR one and those without gross.
	if len(txs) != 13 || sum.ControlTotalsChecked != 8 || !sum.ControlTotalsOK {
		t.Fatalf("%d transactions, %d checks, problems %v", len(txs), sum.ControlTotalsChecked, sum.Problems)
	}
	// Each batch nets to zero once its merchant payout is booked.
	batches := map[string]int64{}
	for _, tx := range txs {
		batches[tx.Account+"/"+tx.References.Batch] += int64(tx.Amount)
	}
	if batches["TillsyncEU/123"] != 0 || batches["TillsyncJP/45"] != 0 {
		t.Errorf("batches %v, want EU 123 and JP 45 to net to zero", batches)
	}
	first := txs[0]
	if first.Amount != 9805 || first.Breakdown.Gross.Amount != 10000 || first.Breakdown.Fee.Amount != 195 ||
		first.Breakdown.Fees["interchange"] != 120 || first.References.Payment != "8815724153290312" ||
		first.References.Merchant != "POS-0042-20260301-0017" || first.Type != settlement.TypePayment {
		t.Errorf("first line %+v", first)
	}
	if d := first.BookingDate; !d.HasZone() || d.String() != "2026-03-01T11:26:49+01:00" {
		t.Errorf("Creation Date with CET read as %s", d)
	}
	fx := txs[2]
	if fx.Breakdown.Gross.Currency != "USD" || fx.Breakdown.Gross.Amount != 5000 || fx.Breakdown.ExchangeRate != "0.9215" || fx.Currency != "EUR" || fx.Amount != 4512 {
		t.Errorf("converted line %+v", fx)
	}
	cb := txs[4]
	if cb.Type != settlement.TypeChargeback || cb.Amount != -5340 || cb.Breakdown.Gross.Amount != -4590 || cb.Breakdown.Fee.Amount != 750 {
		t.Errorf("chargeback %+v", cb)
	}
	payout := txs[8]
	if payout.Type != settlement.TypePayout || payout.Amount != -14940 || payout.References.Bank != "TX4567890XT batch 123" {
		t.Errorf("payout %+v", payout)
	}
	jp := txs[9]
	if jp.Currency != "JPY" || jp.Amount != 8544 || jp.BookingDate.String() != "2026-03-01T19:15:00+09:00" {
		t.Errorf("JPY line %+v", jp)
	}
}

func TestUnknownZoneKept(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/unknown_timezone.csv")
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.NewReader(data)
	txs, _, err := settlement.Collect(&adyen.Parser{}, f)
	if err != nil || len(txs) != 1 {
		t.Fatal(err)
	}
	if d := txs[0].BookingDate; d.HasZone() || !d.HasTime() || txs[0].Attributes["time_zone"] != "XYZT" {
		t.Errorf("date %s, attributes %v", d, txs[0].Attributes)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const head = "Merchant Account,Creation Date,TimeZone,Type,Gross Currency,Gross Debit (GC),Gross Credit (GC),Net Currency,Net Debit (NC),Net Credit (NC),Markup (NC)\n"
	cases := []struct {
		name, in string
		at       settlement.Place
		msg      string
	}{
		{"decimal comma", head + "M,2026-03-01 10:00:00,CET,Settled,EUR,,\"1,00\",EUR,,0.90,0.10\n", settlement.Place{Line: 2, Column: "Gross Credit (GC)"}, "not a number"},
		{"yen with decimals", head + "M,2026-03-01 10:00:00,JST,Settled,JPY,,100.5,JPY,,100,\n", settlement.Place{Line: 2, Column: "Gross Credit (GC)"}, "more decimals"},
		{"no net", head + "M,2026-03-01 10:00:00,CET,Fee,,,,EUR,,,\n", settlement.Place{Line: 2, Column: "Net Credit (NC)"}, "neither Net Debit"},
		{"bad date", head + "M,01.03.2026,CET,Fee,,,,EUR,1.00,,\n", settlement.Place{Line: 2, Column: "Creation Date"}, "does not fit"},
		{"no currency", head + "M,2026-03-01 10:00:00,CET,Fee,,,,,1.00,,\n", settlement.Place{Line: 2, Column: "Net Debit (NC)"}, "ISO 4217"},
		{"not adyen", "a,b\n1,2\n", settlement.Place{Line: 1, Column: "Type"}, "is this an Adyen"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := settlement.Collect(&adyen.Parser{}, strings.NewReader(c.in))
			var pe *settlement.Error
			if !errors.As(err, &pe) || pe.Place != c.at || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v, want %q at %+v", err, c.msg, c.at)
			}
		})
	}
}
