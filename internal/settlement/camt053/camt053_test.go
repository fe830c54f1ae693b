package camt053_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/camt053"
	"github.com/tillsync/tillsync/internal/settlement/settlementtest"
)

// Every testdata/*.xml parses to testdata/golden/<name>.golden
// (-update rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	settlementtest.Golden(t, "testdata/*.xml", func(_ *testing.T, path string) settlement.Parser {
		return &camt053.Parser{File: filepath.Base(path)}
	})
}

func parseFile(t *testing.T, path string) ([]settlement.Transaction, settlement.Summary, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.NewReader(data)
	return settlement.Collect(&camt053.Parser{File: filepath.Base(path)}, f)
}

func TestVersions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file    string
		entries int
		checked int
		totals  map[string]settlement.Totals
	}{
		// balance, TtlNtries (count, sum, net), TtlCdtNtries (2), TtlDbtNtries (2), batch details sum, NbOfTxs.
		{"v02_batch.xml", 4, 10, map[string]settlement.Totals{"EUR": {Credits: 373456, Debits: 316250, Net: 57206}}},
		// 2 balances, TtlNtries (3), batch details sum, NbOfTxs, TtlAmt.
		{"v04_datetime.xml", 4, 8, map[string]settlement.Totals{"CHF": {Credits: 432190, Debits: 33990, Net: 398200}, "EUR": {Credits: 75000, Net: 75000}}},
		// balance, TtlNtries (3), TtlCdtNtries (2), TtlDbtNtries (2), batch details sum, NbOfTxs, TtlAmt.
		{"v08_jpy.xml", 3, 11, map[string]settlement.Totals{"JPY": {Credits: 358900, Debits: 5500, Net: 353400}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			txs, sum, err := parseFile(t, filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(txs) != c.entries || sum.Transactions != c.entries {
				t.Errorf("%d transactions (summary %d), want %d", len(txs), sum.Transactions, c.entries)
			}
			if !sum.ControlTotalsOK || sum.ControlTotalsChecked != c.checked {
				t.Errorf("ok=%v checked=%d problems=%v; want ok and %d", sum.ControlTotalsOK, sum.ControlTotalsChecked, sum.Problems, c.checked)
			}
			for cur, w := range c.totals {
				if sum.Totals[cur] != w {
					t.Errorf("%s totals %+v, want %+v", cur, sum.Totals[cur], w)
				}
			}
		})
	}
}

func TestBatchBooking(t *testing.T) {
	t.Parallel()
	txs, _, err := parseFile(t, "testdata/v02_batch.xml")
	if err != nil {
		t.Fatal(err)
	}
	b := txs[1]
	if b.Amount != -315000 || b.Type != settlement.TypeTransfer || b.Code != "PMNT/ICDT/ESCT" || b.References.Batch != "PAYRUN-2026-03-02" || len(b.Children) != 3 {
		t.Fatalf("batch entry %+v", b)
	}
	c := b.Children[1]
	if c.Amount != -145000 || c.References.EndToEnd != "INV-88412" || c.References.Merchant != "RF18539007547034" ||
		c.Attributes["counterparty"] != "Verpackung Sued AG" || c.Element != "Stmt[1]/Ntry[2]/NtryDtls[1]/TxDtls[2]" {
		t.Errorf("second child %+v", c)
	}
	if b.Children[2].References.EndToEnd != "" {
		t.Errorf("NOTPROVIDED kept as an end-to-end reference")
	}
	// A single transaction detail merges into its entry.
	a := txs[0]
	if len(a.Children) != 0 || a.References.EndToEnd != "ADYEN-BATCH-4711" || a.Type != settlement.TypeCardSettlement ||
		a.Description != "ADYEN SETTLEMENT BATCH 4711 TX4567890XT GUTSCHRIFT" || a.Attributes["proprietary_code"] != "NTRF+166" {
		t.Errorf("single entry %+v", a)
	}
}

func TestDatesAndCards(t *testing.T) {
	t.Parallel()
	txs, _, err := parseFile(t, "testdata/v04_datetime.xml")
	if err != nil {
		t.Fatal(err)
	}
	if got := txs[0].BookingDate; !got.HasZone() || got.String() != "2026-03-02T06:15:00+01:00" || txs[0].ValueDate.String() != "2026-03-02" {
		t.Errorf("booking %s value %s", got, txs[0].ValueDate)
	}
	card := txs[1]
	if card.References.CardLastFour != "4444" || card.Attributes["terminal"] != "POS-7781" || strings.Contains(card.Description, "5555555555554444") {
		t.Errorf("card entry %+v", card)
	}
	if txs[2].Type != settlement.TypeReversal || txs[2].Attributes["reversal"] != "true" {
		t.Errorf("reversal entry %+v", txs[2])
	}
	eur := txs[3]
	if eur.Account != "0042-EUR-01" || eur.Type != settlement.TypeCardSettlement || eur.Original == nil || eur.Original.Amount != 81240 || eur.Original.Currency != "USD" {
		t.Errorf("EUR entry %+v", eur)
	}
	if got := eur.BookingDate; !got.HasTime() || got.HasZone() {
		t.Errorf("a date-time without offset must keep its zone unknown: %s", got)
	}
	for _, tx := range txs {
		if bytes.Contains(mustJSON(t, tx), []byte("5555555555554444")) {
			t.Fatal("a full card number left the parser")
		}
	}
}

func mustJSON(t *testing.T, tx settlement.Transaction) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := settlement.NewJSONWriter(&b).Transaction(tx); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPendingLeftOutOfBalance(t *testing.T) {
	t.Parallel()
	txs, sum, err := parseFile(t, "testdata/v08_jpy.xml")
	if err != nil {
		t.Fatalf("%v (a pending entry must not count towards the closing booked balance)", err)
	}
	if txs[2].Attributes["status"] != "PDNG" || txs[2].Attributes["amount_reported"] != "" || sum.Totals["JPY"].Credits != 358900 {
		t.Errorf("pending entry %+v", txs[2])
	}
	if txs[0].Children[0].References.Merchant != "STORE-0042-0302" || txs[0].Children[0].Attributes["counterparty"] != "JCB Co., Ltd." {
		t.Errorf("first child %+v", txs[0].Children[0])
	}
}

func TestBalanceMismatch(t *testing.T) {
	t.Parallel()
	txs, sum, err := parseFile(t, "testdata/balance_mismatch.xml")
	if !errors.Is(err, settlement.ErrControlTotals) {
		t.Fatalf("err = %v, want control totals", err)
	}
	if len(txs) != 2 || len(sum.Problems) != 3 {
		t.Fatalf("%d transactions, problems %v", len(txs), sum.Problems)
	}
	want := []string{
		"element Stmt[1]/Ntry[2] at line 69: entry ABN-0302-02 -300.00 EUR but its 2 transaction details add up to -250.00 EUR",
		"element Stmt[1]/Ntry[2]/NtryDtls[1]/Btch at line 69: batch of entry ABN-0302-02 says 3 transactions but the entry details 2",
		"element Stmt[1] at line 8: statement NL91ABNA0417164300-20260302: opening balance (OPBD) 1000.00 EUR + booked entries -50.00 EUR = 950.00 EUR but the closing balance (CLBD) is 950.01 EUR",
	}
	for i, p := range sum.Problems {
		if p.String() != want[i] {
			t.Errorf("problem %d:\n got %s\nwant %s", i, p, want[i])
		}
	}
}

func TestErrorsNameTheElement(t *testing.T) {
	t.Parallel()
	doc := func(v, body string) string {
		return `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.` + v + `"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S1</Id>` + body + `</Stmt></BkToCstmrStmt></Document>`
	}
	ntry := func(amt, ind string) string {
		return `<Ntry><Amt Ccy="EUR">` + amt + `</Amt><CdtDbtInd>` + ind + `</CdtDbtInd><Sts>BOOK</Sts><BkTxCd/></Ntry>`
	}
	cases := []struct {
		name, in, element, msg string
	}{
		{"too many decimals", doc("02", ntry("1.005", "CRDT")), "Stmt[1]/Ntry[1]/Amt", "more decimals than the currency's 2"},
		{"negative", doc("02", ntry("-1.00", "CRDT")), "Stmt[1]/Ntry[1]/Amt", "is negative"},
		{"bad indicator", doc("04", ntry("1.00", "CR")), "Stmt[1]/Ntry[1]/CdtDbtInd", `"CR" is not CRDT or DBIT`},
		{"bad date", doc("08", `<Ntry><Amt Ccy="EUR">1</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-02-30</Dt></BookgDt><BkTxCd/></Ntry>`), "Stmt[1]/Ntry[1]/BookgDt/Dt", "is not a date"},
		{"unknown currency", doc("08", `<Ntry><Amt Ccy="EURO">1</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BkTxCd/></Ntry>`), "Stmt[1]/Ntry[1]/Amt", `currency "EURO"`},
		{"version 9", doc("09", ""), "Document", "camt.053.001.09 is not a supported version"},
		{"camt.052", strings.Replace(doc("02", ""), "camt.053", "camt.052", 1), "Document", "is not camt.053"},
		{"unclosed", doc("02", "<Ntry><Amt>"), "Stmt[1]/Ntry[1]", "malformed XML"},
		{"not XML", "01,122099999,TILLSYNC\n", "", "has no XML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := settlement.Collect(&camt053.Parser{File: "s.xml"}, strings.NewReader(c.in))
			var pe *settlement.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *settlement.Error", err)
			}
			if pe.Place.Element != c.element || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %q at %+v; want %q at element %q", err, pe.Place, c.msg, c.element)
			}
		})
	}
}

func TestLatin1(t *testing.T) {
	t.Parallel()
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><Stmt><Id>S</Id>" +
		"<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BkTxCd/><AddtlNtryInf>M\xfcller Stra\xdfe</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>"
	txs, _, err := settlement.Collect(&camt053.Parser{}, strings.NewReader(in))
	if err != nil || len(txs) != 1 || txs[0].Description != "Müller Straße" {
		t.Fatalf("got %+v, %v", txs, err)
	}
}
