package csv_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/csv"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
)

func mapping(t testing.TB, path string) csv.Mapping {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := csv.ParseMapping(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// render parses a file with the mapping of the same name, as `tillsync
// settlement parse --json` prints it.
// Every testdata/<name>.csv, read with testdata/<name>.yaml, parses to
// testdata/golden/<name>.csv.golden (-update rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	settlementtest.Golden(t, "testdata/*.csv", func(t *testing.T, path string) settlement.Parser {
		p, err := csv.New(filepath.Base(path), mapping(t, strings.TrimSuffix(path, ".csv")+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

func parse(t *testing.T, name string) ([]settlement.Transaction, settlement.Summary, error) {
	t.Helper()
	p, err := csv.New(name+".csv", mapping(t, filepath.Join("testdata", name+".yaml")))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", name+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	return settlement.Collect(p, bytes.NewReader(data))
}

func TestSparkasse(t *testing.T) {
	t.Parallel()
	txs, sum, err := parse(t, "sparkasse")
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 5 || sum.Totals["EUR"] != (settlement.Totals{Credits: 472221, Debits: 316250, Net: 155971}) {
		t.Fatalf("%d transactions, totals %+v", len(txs), sum.Totals)
	}
	if txs[0].Line != 6 || txs[0].Type != settlement.TypeCardSettlement || txs[0].References.EndToEnd != "ADYEN-BATCH-4711" ||
		txs[0].Description != "Adyen N.V. ADYEN SETTLEMENT BATCH 4711; TX4567890XT" {
		t.Errorf("first row %+v", txs[0])
	}
	if txs[1].Description != "Händlerservice Süd GmbH Abrechnung Kartenzahlungen Filiale 0042" {
		t.Errorf("Windows-1252 text read as %q", txs[1].Description)
	}
	if txs[3].Amount != -315000 || txs[3].ValueDate.String() != "2026-03-01" || txs[3].References.Customer != "MREF-2019-0042" {
		t.Errorf("direct debit %+v", txs[3])
	}
}

func TestDebitCreditColumns(t *testing.T) {
	t.Parallel()
	txs, _, err := parse(t, "us_bank")
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{1245050, 385000, -125000, -86723, -3450}
	for i, w := range want {
		if int64(txs[i].Amount) != w {
			t.Errorf("row %d: %d, want %d", i, txs[i].Amount, w)
		}
	}
}

func TestPSPExport(t *testing.T) {
	t.Parallel()
	txs, sum, err := parse(t, "psp_export")
	if err != nil {
		t.Fatal(err)
	}
	if sum.ControlTotalsChecked != 5 || !sum.ControlTotalsOK {
		t.Fatalf("checks %d, problems %v", sum.ControlTotalsChecked, sum.Problems)
	}
	for i, last := range []string{"4242", "1111", "4242", "0005", "3333"} {
		if txs[i].References.CardLastFour != last {
			t.Errorf("row %d: card %q, want %q", i, txs[i].References.CardLastFour, last)
		}
	}
	if d := txs[0].BookingDate.String(); d != "2026-03-01T09:15:22+01:00" {
		t.Errorf("date-time in Europe/Berlin read as %s", d)
	}
	if txs[4].Currency != "JPY" || txs[4].Amount != 8660 || txs[2].Type != settlement.TypeRefund || txs[1].References.AuthCode != "764512" {
		t.Errorf("rows %+v / %+v", txs[4], txs[2])
	}
}

func TestMappingValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		yaml, want string
	}{
		{"currency: EUR\ncolumns: {amount: A}\n", "columns.date: required"},
		{"currency: EUR\ncolumns: {date: D}\n", "columns.amount: required"},
		{"currency: EUR\ncolumns: {date: D, amount: A, debit: S}\n", "either amount, or debit and credit"},
		{"columns: {date: D, amount: A}\n", `currency: "" is not an ISO 4217 code`},
		{"currency: EUR\ndate_layout: DD.MM.YYYY\ncolumns: {date: D, amount: A}\n", `date_layout: "DD.MM.YYYY" is not a Go date layout`},
		{"currency: EUR\nzone: Mars/Olympus\ncolumns: {date: D, amount: A}\n", "zone: \"Mars/Olympus\""},
		{"currency: EUR\nseparator: \"#\"\ncolumns: {date: D, amount: A}\n", "separator"},
		{"currency: EUR\ncolumns: {date: D, amount: A}\ntypes: {X: cash}\n", `types.X: "cash" is not a type`},
		{"currency: EUR\ncolumns: {date: D, amount: A, gross: G}\n", "map gross and fee together"},
		{"currency: EUR\ncolums: {date: D, amount: A}\n", "field colums not found"},
	}
	for _, c := range cases {
		_, err := csv.ParseMapping([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestRowErrors(t *testing.T) {
	t.Parallel()
	m := csv.Mapping{Currency: "EUR", DecimalComma: true, DateLayout: "02.01.2006",
		Columns: csv.Columns{Date: "Datum", Amount: "Betrag", Direction: "S/H"}}
	cases := []struct {
		name, in string
		at       settlement.Place
		msg      string
	}{
		{"three decimals", "Datum;Betrag;S/H\n02.03.2026;1,005;H\n", settlement.Place{Line: 2, Column: "Betrag"}, "more decimals"},
		{"grouping off", "Datum;Betrag;S/H\n02.03.2026;12.50;H\n", settlement.Place{Line: 2, Column: "Betrag"}, "grouped in threes"},
		{"unknown direction", "Datum;Betrag;S/H\n02.03.2026;1,00;X\n", settlement.Place{Line: 2, Column: "S/H"}, "neither a credit nor a debit value"},
		{"signed with direction", "Datum;Betrag;S/H\n02.03.2026;-1,00;S\n", settlement.Place{Line: 2, Column: "Betrag"}, "is signed"},
		{"bad date", "Datum;Betrag;S/H\n2026-03-02;1,00;S\n", settlement.Place{Line: 2, Column: "Datum"}, "does not fit the date layout"},
		{"missing column", "Datum;Wert\n", settlement.Place{Line: 1}, `no column "Betrag", "S/H"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := csv.New("f.csv", m)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = settlement.Collect(p, strings.NewReader(c.in))
			var pe *settlement.Error
			if !errors.As(err, &pe) || pe.Place != c.at || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v, want %q at %+v", err, c.msg, c.at)
			}
		})
	}
	// The direction column signs the amount.
	p, _ := csv.New("f.csv", m)
	txs, _, err := settlement.Collect(p, strings.NewReader("Datum;Betrag;S/H\n02.03.2026;1.234,50;S\n02.03.2026;0,99;H\n"))
	if err != nil || txs[0].Amount != -123450 || txs[1].Amount != 99 {
		t.Errorf("got %+v, %v", txs, err)
	}
}
