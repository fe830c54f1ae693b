package settlement

import "strings"

// cardSettlementWords are names and phrases that acquirers and PSPs put in
// the bank-statement text of the settlements they pay out.
var cardSettlementWords = []string{
	"BANKCARD", "BANK CARD DEP", "MERCH DEP", "MERCHANT DEP", "MERCH SETL", "MERCHANT SETTL",
	"CARD SETTL", "CARD PAYMENTS SETTL", "STRIPE", "ADYEN", "WORLDPAY", "ELAVON", "PAYMENTECH",
	"GLOBAL PAYMENTS", "HEARTLAND PAYMENT", "FIRST DATA", "SUMUP", "ZETTLE", "MOLLIE", "WORLDLINE",
	"NEXI ", "CONCARDIS", "AMEX SETTLEMENT", "AMERICAN EXPRESS SETTL", "SQUARE INC",
}

// chargebackWords mark a debit as a card chargeback.
var chargebackWords = []string{"CHARGEBACK", "CHARGE BACK", "CHGBK", "CHG BACK", "RUECKBELASTUNG", "RÜCKBELASTUNG"}

// Hint refines the type a bank's transaction code gave a transfer-like
// booking by its text: a credit from a known acquirer or PSP is a card
// settlement, a debit that says chargeback is a chargeback. It returns t
// unchanged otherwise, and never overrides a specific type (a fee stays a
// fee).
func Hint(t Type, d Direction, text string) Type {
	switch t {
	case TypeTransfer, TypeDirectDebit, TypeOther, TypeDeposit:
	default:
		return t
	}
	up := strings.ToUpper(text)
	if d == Credit {
		for _, w := range cardSettlementWords {
			if strings.Contains(up, w) {
				return TypeCardSettlement
			}
		}
		return t
	}
	for _, w := range chargebackWords {
		if strings.Contains(up, w) {
			return TypeChargeback
		}
	}
	return t
}
