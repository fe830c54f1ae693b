package camt053_test

import (
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/camt053"
)

func ExampleParser_Parse() {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-03T05:00:00+01:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-0302</Id>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">150.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="EUR">50.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2026-03-02T09:30:00+01:00</DtTm></BookgDt><AcctSvcrRef>BANK-1</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>MCRD</Cd><SubFmlyCd>POSP</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls>
     <Btch><NbOfTxs>2</NbOfTxs></Btch>
     <TxDtls><Refs><EndToEndId>T1</EndToEndId></Refs><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>
     <TxDtls><Refs><EndToEndId>T2</EndToEndId></Refs><Amt Ccy="EUR">20.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>
    </NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>`
	sum, err := (&camt053.Parser{}).Parse(strings.NewReader(doc), func(tx settlement.Transaction) error {
		fmt.Println(tx.Element, tx.BookingDate, tx.Type, tx.Money(), len(tx.Children))
		for _, c := range tx.Children {
			fmt.Println(" ", c.References.EndToEnd, c.Money())
		}
		return nil
	})
	fmt.Println(sum.ControlTotalsChecked, sum.ControlTotalsOK, err)
	// Output:
	// Stmt[1]/Ntry[1] 2026-03-02T09:30:00+01:00 card_settlement 50.00 EUR 2
	//   T1 30.00 EUR
	//   T2 20.00 EUR
	// 3 true <nil>
}
