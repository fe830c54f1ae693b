package camt053

import (
	"strings"

	"github.com/tillsync/tillsync/internal/settlement"
)

// code returns the bank transaction code as text — "PMNT/RCDT/ESCT" for the
// ISO domain/family/sub-family, else the proprietary code — and its type.
func (c bankTxCode) code(d settlement.Direction) (string, settlement.Type) {
	dom := strings.TrimSpace(c.Domn.Cd)
	fam := strings.TrimSpace(c.Domn.Fmly.Cd)
	sub := strings.TrimSpace(c.Domn.Fmly.SubFmlyCd)
	if dom == "" {
		return strings.TrimSpace(c.Prtry.Cd), settlement.TypeOther
	}
	return dom + "/" + fam + "/" + sub, typeOf(dom, fam, sub, d)
}

// typeOf maps ISO 20022 bank transaction codes (the External Code Sets'
// ExternalBankTransactionDomain/Family/SubFamily1Code: PMNT payments with
// families RCDT/ICDT credit transfers, RDDT/IDDT direct debits, MCRD merchant
// card transactions, CNTR counter transactions, RCHQ/ICHQ cheques, LBOX
// lockbox; ACMT account management) to types. Sub-families that mean the
// same in every family come first.
func typeOf(dom, fam, sub string, d settlement.Direction) settlement.Type {
	switch sub {
	case "CHRG", "COMM", "FEES", "COMT":
		return settlement.TypeFee
	case "INTR":
		return settlement.TypeInterest
	case "RRTN", "RPCR", "ARET", "UPDD", "PRDD":
		// returns, reversals of credit transfers, unpaid and reversed direct debits
		return settlement.TypeReversal
	case "CDPT", "BCDP":
		return settlement.TypeDeposit
	case "CWDL", "BCWD":
		return settlement.TypeWithdrawal
	}
	if dom != "PMNT" {
		if dom == "ACMT" {
			return settlement.TypeAdjustment
		}
		return settlement.TypeOther
	}
	switch fam {
	case "RCDT", "ICDT":
		return settlement.TypeTransfer
	case "RDDT", "IDDT":
		return settlement.TypeDirectDebit
	case "MCRD":
		// Merchant card transactions: the acquirer's settlement of card sales.
		if d == settlement.Credit {
			return settlement.TypeCardSettlement
		}
		return settlement.TypeOther
	case "CNTR", "RCHQ", "LBOX":
		if d == settlement.Credit {
			return settlement.TypeDeposit
		}
		return settlement.TypeWithdrawal
	case "ICHQ":
		return settlement.TypeCheque
	}
	return settlement.TypeOther
}
