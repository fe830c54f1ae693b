package settlement

import (
	"github.com/tillsync/tillsync/internal/event"
)

// Format names a settlement file format.
type Format string

// The formats tillsync reads.
const (
	FormatBAI2    Format = "bai2"    // BAI Cash Management Balance Reporting Specifications, version 2
	FormatCamt053 Format = "camt053" // ISO 20022 BankToCustomerStatement, camt.053.001.02 to .08
	FormatStripe  Format = "stripe"  // Stripe itemized payout reconciliation report (CSV)
	FormatAdyen   Format = "adyen"   // Adyen Settlement details report (CSV)
	FormatCSV     Format = "csv"     // any CSV, read through a configured column mapping
)

// Formats lists every format, in the order detection tries them.
var Formats = []Format{FormatBAI2, FormatCamt053, FormatStripe, FormatAdyen, FormatCSV}

// Direction says which way money moved on the reported account or balance.
type Direction string

// Credit adds to the account (a card settlement paid in, a customer's
// payment in a PSP report); debit takes from it (a fee, a refund, a payout
// leaving a PSP balance).
const (
	Credit Direction = "credit"
	Debit  Direction = "debit"
)

// Type classifies a transaction for matching. The source's own code is kept
// in Transaction.Code; Type is the normalised meaning.
type Type string

// The transaction types.
const (
	TypePayment            Type = "payment"             // a customer's payment settled to the merchant (PSP reports)
	TypeCardSettlement     Type = "card_settlement"     // an acquirer's or PSP's card settlement paid into a bank account
	TypeDeposit            Type = "deposit"             // cash, cheques or a lockbox paid in
	TypeWithdrawal         Type = "withdrawal"          // cash taken out (ATM, counter, cash shipment)
	TypeCheque             Type = "cheque"              // a cheque the account holder wrote, paid
	TypeTransfer           Type = "transfer"            // a credit transfer (wire, ACH, SEPA, book transfer) in or out
	TypeDirectDebit        Type = "direct_debit"        // a direct debit collected or paid
	TypeFee                Type = "fee"                 // bank or PSP fees and charges (and their refunds)
	TypeInterest           Type = "interest"            // interest credited or charged
	TypeRefund             Type = "refund"              // money returned to a customer
	TypeChargeback         Type = "chargeback"          // a disputed payment taken back
	TypeChargebackReversal Type = "chargeback_reversal" // a chargeback won back
	TypePayout             Type = "payout"              // a PSP balance paid out to the merchant's bank account
	TypeReversal           Type = "reversal"            // a return, reversal or correction of an earlier booking
	TypeAdjustment         Type = "adjustment"          // a balance adjustment, reserve or correction not otherwise typed
	TypeOther              Type = "other"               // anything else; see Code
)

// Types lists every Type, for validation of configured mappings.
var Types = []Type{
	TypePayment, TypeCardSettlement, TypeDeposit, TypeWithdrawal, TypeCheque, TypeTransfer,
	TypeDirectDebit, TypeFee, TypeInterest, TypeRefund, TypeChargeback, TypeChargebackReversal,
	TypePayout, TypeReversal, TypeAdjustment, TypeOther,
}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, v := range Types {
		if t == v {
			return true
		}
	}
	return false
}

// References are the identifiers a transaction can be matched on. Each is
// empty when the source has none.
type References struct {
	// Bank is the account servicer's own reference for this booking: the
	// BAI2 bank reference, camt.053 AcctSvcrRef, Stripe's balance
	// transaction ID, Adyen's modification reference.
	Bank string `json:"bank,omitempty"`
	// Customer is the reference the account holder gave (BAI2 customer
	// reference, camt.053 InstrId).
	Customer string `json:"customer,omitempty"`
	// EndToEnd is the payer's end-to-end reference (camt.053 EndToEndId).
	EndToEnd string `json:"end_to_end,omitempty"`
	// Batch groups transactions settled together: a camt.053 batch's
	// PmtInfId or MsgId, Stripe's automatic_payout_id, Adyen's batch number.
	Batch string `json:"batch,omitempty"`
	// Merchant is the merchant's own reference (Adyen Merchant Reference, a
	// structured creditor reference): what a till or web shop sent.
	Merchant string `json:"merchant,omitempty"`
	// Payment is the PSP's reference of the underlying payment (Stripe
	// source_id, Adyen Psp Reference).
	Payment string `json:"payment,omitempty"`
	// CardLastFour is the last four digits of the card, when the source has
	// a card number. The rest of a card number is never kept.
	CardLastFour string `json:"card_last4,omitempty"`
	// AuthCode is the card authorisation code.
	AuthCode string `json:"auth_code,omitempty"`
}

// IsZero reports whether no reference is set.
func (r References) IsZero() bool { return r == References{} }

// Breakdown splits a PSP line into what the customer paid, what the PSP
// kept and what reached the merchant's balance. Gross and Net are signed like
// Transaction.Amount; Fee is the cost as a positive amount (negative for a
// fee refunded), so Net = Gross − Fee when both are in one currency.
type Breakdown struct {
	Gross event.Money `json:"gross"`
	Fee   event.Money `json:"fee"`
	Net   event.Money `json:"net"`
	// Fees are the parts of Fee by name (commission, markup, scheme_fees,
	// interchange), in Fee's currency.
	Fees map[string]event.Amount `json:"fees,omitempty"`
	// ExchangeRate converts Gross's currency to Net's, as the report writes
	// it (a decimal string, never parsed into a float).
	ExchangeRate string `json:"exchange_rate,omitempty"`
}

// Transaction is one booking on an account or PSP balance, in the same shape
// whatever file it came from.
type Transaction struct {
	Format Format `json:"format"`
	File   string `json:"file,omitempty"`
	// Line is the 1-based line where the record or row starts; for XML, the
	// line of the element's start tag.
	Line int `json:"line,omitempty"`
	// Element is the XML element, as a path from the statement
	// ("Stmt[1]/Ntry[3]").
	Element string `json:"element,omitempty"`
	// Account is the IBAN or account number, or the PSP merchant account.
	Account string `json:"account,omitempty"`
	// Statement is the statement's identifier (camt.053 Stmt/Id).
	Statement   string `json:"statement,omitempty"`
	BookingDate Date   `json:"booking_date,omitzero"`
	ValueDate   Date   `json:"value_date,omitzero"`
	// Amount is signed minor units of Currency: positive for a credit,
	// negative for a debit.
	Amount    event.Amount `json:"amount"`
	Currency  string       `json:"currency"`
	Direction Direction    `json:"direction"`
	Type      Type         `json:"type"`
	// Code is the source's own type code: the BAI2 type code, the camt.053
	// bank transaction code ("PMNT/RCDT/ESCT") or proprietary code, Stripe's
	// reporting_category, Adyen's Type.
	Code        string     `json:"code,omitempty"`
	References  References `json:"references,omitzero"`
	Description string     `json:"description,omitempty"`
	Breakdown   *Breakdown `json:"breakdown,omitempty"`
	// Original is the amount in the currency the payer used, when the source
	// reports it (camt.053 InstdAmt, Stripe customer_facing_amount).
	Original *event.Money `json:"original,omitempty"`
	// Attributes are further facts by name (payment method, card brand,
	// counterparty, funds type), with card numbers masked.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Children are the transactions of a batch booking (camt.053 Btch): the
	// parent's Amount is their total.
	Children []Transaction `json:"children,omitempty"`
}

// Signed returns a magnitude in minor units with the sign of d.
func Signed(magnitude int64, d Direction) event.Amount {
	if d == Debit {
		return event.Amount(-magnitude)
	}
	return event.Amount(magnitude)
}

// DirectionOf is the direction of a signed amount; zero counts as a credit.
func DirectionOf(a event.Amount) Direction {
	if a < 0 {
		return Debit
	}
	return Credit
}

// Money returns the transaction's amount with its currency.
func (t Transaction) Money() event.Money {
	return event.Money{Amount: t.Amount, Currency: t.Currency}
}

// SetAttr sets an attribute, masking card numbers in it; an empty value is
// not set.
func (t *Transaction) SetAttr(name, value string) {
	if value == "" {
		return
	}
	if t.Attributes == nil {
		t.Attributes = map[string]string{}
	}
	t.Attributes[name] = MaskPANs(value)
}
