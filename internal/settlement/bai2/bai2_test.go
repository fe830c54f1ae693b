package bai2_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/bai2"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
)

// Every testdata/*.bai parses to testdata/golden/<name>.golden
// (-update rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	settlementtest.Golden(t, "testdata/*.bai", func(_ *testing.T, path string) settlement.Parser {
		return &bai2.Parser{File: filepath.Base(path)}
	})
}

func parseFile(t *testing.T, path string) ([]settlement.Transaction, settlement.Summary, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.NewReader(data)
	return settlement.Collect(&bai2.Parser{File: filepath.Base(path)}, f)
}

func TestMultiGroup(t *testing.T) {
	t.Parallel()
	txs, sum, err := parseFile(t, "testdata/multi_group.bai")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Transactions != 12 || len(txs) != 12 {
		t.Fatalf("%d transactions (summary %d), want 12 (the 890 record is information only)", len(txs), sum.Transactions)
	}
	// 01/49/98/99: 2 (49 A) + 2 (49 B) + 3 (98) + 2 (49 C) + 3 (98) + 3 (99).
	if !sum.ControlTotalsOK || sum.ControlTotalsChecked != 15 {
		t.Errorf("control totals ok=%v checked=%d problems=%v, want ok and 15", sum.ControlTotalsOK, sum.ControlTotalsChecked, sum.Problems)
	}
	want := map[string]settlement.Totals{
		"USD": {Credits: 14130050, Debits: 219985, Net: 13910065},
		"CAD": {Credits: 212345, Net: 212345},
		"JPY": {Credits: 546400, Debits: 3300, Net: 543100},
	}
	for cur, w := range want {
		if got := sum.Totals[cur]; got != w {
			t.Errorf("%s totals %+v, want %+v", cur, got, w)
		}
	}
	byBank := map[string]settlement.Transaction{}
	for _, tx := range txs {
		byBank[tx.References.Bank] = tx
	}
	cases := []struct {
		bank, customer, text string
		typ                  settlement.Type
		amount               int64
		value                string
	}{
		// Funds type S: three availability amounts before the references, which come on an 88.
		{"AX13612", "B096132", "AMALGAMATED CORP. LOCKBOX DEPOSIT-MISC. RECEIVABLES", settlement.TypeDeposit, 10000000, ""},
		// Funds type V: value date and time before the references; a comma inside the text; a card number masked.
		{"FW2026030212345", "INV-77812", "INCOMING WIRE ACME SUPPLY CO, REF **** **** **** 1111", settlement.TypeTransfer, 2500000, "2026-03-03T09:00:00"},
		// Funds type D: a count and (days, amount) pairs.
		{"ACHFEE7", "", "CARD PROCESSING FEES FEB", settlement.TypeDirectDebit, -4812, ""},
		// Defaulted funds type, "/" ending the record before the text, which is on the 88.
		{"BNKFEE0302", "", "MONTHLY MAINTENANCE FEE", settlement.TypeFee, -3450, ""},
		// An ACH credit from a PSP is a card settlement.
		{"MC7891234", "STORE-0042", "STRIPE TRANSFER ST-A1B2C3D4", settlement.TypeCardSettlement, 1245050, ""},
		// An ACH debit that says chargeback.
		{"ACH20260302X", "", "MERCHANT SERVICES CHARGEBACK CB-99812", settlement.TypeChargeback, -86723, ""},
		// Yen have no minor unit.
		{"TKY0302-01", "", "SHINJUKU STORE CASH DEPOSIT", settlement.TypeDeposit, 500000, ""},
	}
	for _, c := range cases {
		tx, ok := byBank[c.bank]
		if !ok {
			t.Errorf("no transaction with bank reference %s", c.bank)
			continue
		}
		if tx.References.Customer != c.customer || tx.Description != c.text || tx.Type != c.typ || int64(tx.Amount) != c.amount || tx.ValueDate.String() != c.value {
			t.Errorf("%s: got customer %q text %q type %s amount %d value %q; want %q %q %s %d %q",
				c.bank, tx.References.Customer, tx.Description, tx.Type, tx.Amount, tx.ValueDate, c.customer, c.text, c.typ, c.amount, c.value)
		}
	}
}

func TestWrongAccountTotal(t *testing.T) {
	t.Parallel()
	txs, sum, err := parseFile(t, "testdata/wrong_49_total.bai")
	var ce *settlement.ControlTotalError
	if !errors.As(err, &ce) || !errors.Is(err, settlement.ErrControlTotals) {
		t.Fatalf("err = %v, want a control total error", err)
	}
	if len(txs) != 2 || sum.ControlTotalsOK || len(sum.Problems) != 1 {
		t.Fatalf("%d transactions, ok=%v, problems %v", len(txs), sum.ControlTotalsOK, sum.Problems)
	}
	p := sum.Problems[0]
	want := "record 49 at line 6: account 5500012345 control total 2469067 but the 03/16 amounts add up to 2469134"
	if p.Record != "49" || p.Line != 6 || p.String() != want {
		t.Errorf("problem %q, want %q", p, want)
	}
}

func TestErrorsNameThePlace(t *testing.T) {
	t.Parallel()
	const head = "01,A,B,260303,0615,1,,,2/\n02,B,A,1,260302,,,2/\n03,123,,010,100,,/\n"
	cases := []struct {
		name, in string
		at       settlement.Place
		msg      string
	}{
		{"decimal point in an amount", head + "16,165,12.50,0,R1,,T\n", settlement.Place{Record: "16", Line: 4}, `amount: "12.50" is not an amount`},
		{"unknown funds type", head + "16,165,1250,Q,R1,,T\n", settlement.Place{Record: "16", Line: 4}, `funds type "Q"`},
		{"D with too few pairs", head + "16,165,1250,D,3,0,100/\n", settlement.Place{Record: "16", Line: 4}, "3 distributions announced"},
		{"status code as a detail", head + "16,015,1250,0,R1,,T\n", settlement.Place{Record: "16", Line: 4}, "account status code"},
		{"record out of order", head + "02,B,A,1,260302,,,2/\n", settlement.Place{Record: "02", Line: 4}, "out of place: expected a 16 transaction detail or the 49 account trailer"},
		{"unknown record", head + "17,x\n", settlement.Place{Record: "17", Line: 4}, "unknown record code 17"},
		{"88 first", "88,x\n", settlement.Place{Record: "88", Line: 1}, "no record before it"},
		{"no 99", head + "49,100,2/\n98,100,1,4/\n", settlement.Place{Line: 5}, "ends before its 99 file trailer"},
		{"not BAI2 at all", "hello\n", settlement.Place{Line: 1}, "two-digit record code"},
		{"version 3", "01,A,B,260303,0615,1,,,3/\n", settlement.Place{Record: "01", Line: 1}, `version number "3"`},
		{"bad as-of date", "01,A,B,260303,0615,1,,,2/\n02,B,A,1,261302,,,2/\n", settlement.Place{Record: "02", Line: 2}, "as-of date"},
		{"unknown currency", "01,A,B,260303,0615,1,,,2/\n02,B,A,1,260302,,XXX,2/\n", settlement.Place{Record: "02", Line: 2}, `currency code "XXX"`},
		{"empty trailer total", head + "49,,2/\n", settlement.Place{Record: "49", Line: 4}, "account control total is empty"},
		{"empty", "", settlement.Place{}, "no records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := settlement.Collect(&bai2.Parser{File: "f.bai"}, strings.NewReader(c.in))
			var pe *settlement.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *settlement.Error", err)
			}
			if pe.Place != c.at || !strings.Contains(err.Error(), c.msg) || pe.Format != settlement.FormatBAI2 || pe.File != "f.bai" {
				t.Errorf("err = %q at %+v, want %q at %+v", err, pe.Place, c.msg, c.at)
			}
		})
	}
}

func TestEmitErrorStops(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/multi_group.bai")
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.NewReader(data)
	stop := errors.New("stop")
	n := 0
	_, err = (&bai2.Parser{}).Parse(f, func(settlement.Transaction) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err = %v after %d transactions, want stop after 3", err, n)
	}
}

func TestDefaultCurrency(t *testing.T) {
	t.Parallel()
	in := "01,A,B,260303,0615,1,,,2/\n02,B,A,1,260302,,,2/\n03,123,,010,100,,/\n16,165,250,0,R1,,T\n49,350,3/\n98,350,1,5/\n99,350,1,7/\n"
	txs, _, err := settlement.Collect(&bai2.Parser{DefaultCurrency: "CAD"}, strings.NewReader(in))
	if err != nil || len(txs) != 1 || txs[0].Currency != "CAD" {
		t.Fatalf("got %+v, %v; want one CAD transaction", txs, err)
	}
	txs, _, err = settlement.Collect(&bai2.Parser{}, strings.NewReader(in))
	if err != nil || txs[0].Currency != "USD" || txs[0].BookingDate.String() != "2026-03-02" {
		t.Fatalf("got %+v, %v; want USD as the specification defaults, booked on the as-of date", txs, err)
	}
}
