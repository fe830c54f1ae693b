package camt053

import "strings"

// The XML shapes tillsync reads, after the ISO 20022 message definitions of
// camt.053.001.02 to .08 (in .08: Document/BankToCustomerStatementV08,
// AccountStatement9, CashBalance8, TotalTransactions6, ReportEntry10,
// EntryDetails9, BatchInformation2, EntryTransaction10, CardEntry4 and
// PaymentCard4/PlainCardData1; .02 lacks TxDtls/Amt and CdtDbtInd, writes Sts
// as a code and names parties directly, without Pty). Element names are matched without their
// namespace, so one set of structs reads every version; elements a version
// lacks are simply empty.

type amount struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

// dateChoice is DateAndDateTimeChoice / DateAndDateTime2Choice.
type dateChoice struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

// codeOrText reads Sts both as .02–.06 write it (<Sts>BOOK</Sts>) and as
// .07 and later do (<Sts><Cd>BOOK</Cd></Sts>).
type codeOrText struct {
	Text  string `xml:",chardata"`
	Cd    string `xml:"Cd"`
	Prtry string `xml:"Prtry"`
}

func (c codeOrText) value() string {
	for _, v := range []string{c.Cd, c.Prtry, c.Text} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

type account struct {
	ID struct {
		IBAN string `xml:"IBAN"`
		Othr struct {
			ID string `xml:"Id"`
		} `xml:"Othr"`
	} `xml:"Id"`
	Ccy string `xml:"Ccy"`
}

func (a account) number() string {
	if v := strings.TrimSpace(a.ID.IBAN); v != "" {
		return v
	}
	return strings.TrimSpace(a.ID.Othr.ID)
}

type balance struct {
	Tp struct {
		CdOrPrtry struct {
			Cd    string `xml:"Cd"`
			Prtry string `xml:"Prtry"`
		} `xml:"CdOrPrtry"`
	} `xml:"Tp"`
	Amt       amount     `xml:"Amt"`
	CdtDbtInd string     `xml:"CdtDbtInd"`
	Dt        dateChoice `xml:"Dt"`
}

// numberAndSum is NumberAndSumOfTransactions1, 2 (.02: TtlNetNtryAmt and
// CdtDbtInd) and 4 (.04 and later: TtlNetNtry).
type numberAndSum struct {
	NbOfNtries string `xml:"NbOfNtries"`
	Sum        string `xml:"Sum"`
	TotalNet   *struct {
		Amt       string `xml:"Amt"`
		CdtDbtInd string `xml:"CdtDbtInd"`
	} `xml:"TtlNetNtry"`
	TotalNetAmt string `xml:"TtlNetNtryAmt"`
	CdtDbtInd   string `xml:"CdtDbtInd"`
}

type txsSummary struct {
	All     *numberAndSum `xml:"TtlNtries"`
	Credits *numberAndSum `xml:"TtlCdtNtries"`
	Debits  *numberAndSum `xml:"TtlDbtNtries"`
}

type bankTxCode struct {
	Domn struct {
		Cd   string `xml:"Cd"`
		Fmly struct {
			Cd        string `xml:"Cd"`
			SubFmlyCd string `xml:"SubFmlyCd"`
		} `xml:"Fmly"`
	} `xml:"Domn"`
	Prtry struct {
		Cd   string `xml:"Cd"`
		Issr string `xml:"Issr"`
	} `xml:"Prtry"`
}

// cardTx is CardTransaction / CardEntry: only what identifies the card and
// terminal. The PAN is read only to take its last four digits.
type cardTx struct {
	Card struct {
		PlainCardData struct {
			PAN string `xml:"PAN"`
		} `xml:"PlainCardData"`
	} `xml:"Card"`
	POI struct {
		ID struct {
			ID string `xml:"Id"`
		} `xml:"Id"`
	} `xml:"POI"`
}

type amountDetails struct {
	InstdAmt *struct {
		Amt amount `xml:"Amt"`
	} `xml:"InstdAmt"`
	TxAmt *struct {
		Amt amount `xml:"Amt"`
	} `xml:"TxAmt"`
}

// party is PartyIdentification (Nm directly, up to .07) or Party40Choice
// (.08: Pty/Nm).
type party struct {
	Nm  string `xml:"Nm"`
	Pty struct {
		Nm string `xml:"Nm"`
	} `xml:"Pty"`
}

func (p party) name() string {
	if v := strings.TrimSpace(p.Nm); v != "" {
		return v
	}
	return strings.TrimSpace(p.Pty.Nm)
}

type txDetails struct {
	Refs struct {
		MsgID       string `xml:"MsgId"`
		AcctSvcrRef string `xml:"AcctSvcrRef"`
		PmtInfID    string `xml:"PmtInfId"`
		InstrID     string `xml:"InstrId"`
		EndToEndID  string `xml:"EndToEndId"`
		TxID        string `xml:"TxId"`
		MndtID      string `xml:"MndtId"`
		ChqNb       string `xml:"ChqNb"`
	} `xml:"Refs"`
	Amt       *amount       `xml:"Amt"`
	CdtDbtInd string        `xml:"CdtDbtInd"`
	AmtDtls   amountDetails `xml:"AmtDtls"`
	BkTxCd    bankTxCode    `xml:"BkTxCd"`
	RltdPties struct {
		Dbtr      party `xml:"Dbtr"`
		UltmtDbtr party `xml:"UltmtDbtr"`
		Cdtr      party `xml:"Cdtr"`
		UltmtCdtr party `xml:"UltmtCdtr"`
	} `xml:"RltdPties"`
	RmtInf struct {
		Ustrd []string `xml:"Ustrd"`
		Strd  []struct {
			CdtrRefInf struct {
				Ref string `xml:"Ref"`
			} `xml:"CdtrRefInf"`
			AddtlRmtInf []string `xml:"AddtlRmtInf"`
		} `xml:"Strd"`
	} `xml:"RmtInf"`
	CardTx     *cardTx `xml:"CardTx"`
	AddtlTxInf string  `xml:"AddtlTxInf"`
}

type batch struct {
	MsgID     string  `xml:"MsgId"`
	PmtInfID  string  `xml:"PmtInfId"`
	NbOfTxs   string  `xml:"NbOfTxs"`
	TotalAmt  *amount `xml:"TtlAmt"`
	CdtDbtInd string  `xml:"CdtDbtInd"`
}

type entry struct {
	NtryRef      string        `xml:"NtryRef"`
	Amt          *amount       `xml:"Amt"`
	CdtDbtInd    string        `xml:"CdtDbtInd"`
	RvslInd      string        `xml:"RvslInd"`
	Sts          codeOrText    `xml:"Sts"`
	BookgDt      *dateChoice   `xml:"BookgDt"`
	ValDt        *dateChoice   `xml:"ValDt"`
	AcctSvcrRef  string        `xml:"AcctSvcrRef"`
	BkTxCd       bankTxCode    `xml:"BkTxCd"`
	AmtDtls      amountDetails `xml:"AmtDtls"`
	CardTx       *cardTx       `xml:"CardTx"`
	NtryDtls     []entryDetail `xml:"NtryDtls"`
	AddtlNtryInf string        `xml:"AddtlNtryInf"`
}

type entryDetail struct {
	Btch   *batch      `xml:"Btch"`
	TxDtls []txDetails `xml:"TxDtls"`
}
