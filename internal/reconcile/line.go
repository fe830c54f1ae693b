package reconcile

import (
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// Line is one settlement line: a PSP's payment, refund, fee or payout, or a
// bank statement's credit, reduced to what matching needs.
type Line struct {
	// File and Row say where it was read (Row is the line number, or the
	// position of a batch child).
	File   string            `json:"file,omitempty"`
	Row    int               `json:"row,omitempty"`
	Format settlement.Format `json:"format,omitempty"`
	Type   settlement.Type   `json:"type"`
	// Date is the booking date: midnight UTC for a day, otherwise the
	// instant (or the clock reading, when the zone is unknown) in UTC.
	Date     time.Time `json:"date"`
	Currency string    `json:"currency"`
	// Net is the signed amount booked; Gross is what the customer paid
	// (Net when the source has no breakdown), Fee what the PSP kept.
	Net   event.Amount `json:"net"`
	Gross event.Amount `json:"gross"`
	Fee   event.Amount `json:"fee,omitempty"`
	// Refs are the line's references; Refs.Batch groups a payout.
	Refs settlement.References `json:"refs,omitzero"`
	// Original is the disputed payment of a chargeback (Stripe charge_id),
	// when the source names it apart from Refs.Payment.
	Original    string `json:"original,omitempty"`
	Description string `json:"description,omitempty"`
}

// Key is the line's stable identity: the source's own reference for the
// booking when it has one, else where it was read.
func (l *Line) Key() string {
	if l.Refs.Bank != "" {
		return string(l.Format) + ":" + l.Refs.Bank
	}
	return l.File + ":" + strconv.Itoa(l.Row)
}

// Where names the line for people: "payouts.csv line 12".
func (l *Line) Where() string {
	return l.File + " line " + strconv.Itoa(l.Row)
}

// Money is the line's gross with its currency.
func (l *Line) Money() event.Money { return event.Money{Amount: l.Gross, Currency: l.Currency} }

// LinesFromTransaction turns a parsed settlement transaction into lines. A
// batch booking (camt.053 Btch) gives its children, each in the batch named
// by the parent's bank reference, and the parent as the deposit of that
// batch. Strings are copied, so the parser's buffers are not kept alive.
func LinesFromTransaction(tx *settlement.Transaction) []Line {
	l := lineOf(tx)
	if len(tx.Children) == 0 {
		return []Line{l}
	}
	batch := l.Refs.Batch
	if batch == "" {
		batch = l.Key()
		l.Refs.Batch = batch
	}
	out := make([]Line, 0, len(tx.Children)+1)
	for i := range tx.Children {
		c := lineOf(&tx.Children[i])
		if c.Row == 0 {
			c.Row = l.Row
		}
		c.Refs.Batch = batch
		out = append(out, c)
	}
	return append(out, l)
}

// LineFromTransaction is LinesFromTransaction for a transaction without
// children, without the slice.
func LineFromTransaction(tx *settlement.Transaction) Line { return lineOf(tx) }

func lineOf(tx *settlement.Transaction) Line {
	l := Line{
		File: tx.File, Row: tx.Line, Format: tx.Format, Type: tx.Type,
		Date:     tx.BookingDate.Time(),
		Currency: tx.Currency, Net: tx.Amount, Gross: tx.Amount,
		Refs: settlement.References{
			Bank:         clone(tx.References.Bank),
			Customer:     clone(tx.References.Customer),
			EndToEnd:     clone(tx.References.EndToEnd),
			Batch:        clone(tx.References.Batch),
			Merchant:     clone(tx.References.Merchant),
			Payment:      clone(tx.References.Payment),
			CardLastFour: clone(tx.References.CardLastFour),
			AuthCode:     clone(tx.References.AuthCode),
		},
		Description: clone(tx.Description),
	}
	if l.Date.IsZero() {
		l.Date = tx.ValueDate.Time()
	}
	if b := tx.Breakdown; b != nil && b.Gross.Currency == tx.Currency {
		l.Gross, l.Fee = b.Gross.Amount, b.Fee.Amount
	}
	if tx.Type == settlement.TypeChargeback || tx.Type == settlement.TypeChargebackReversal {
		l.Original = clone(tx.Attributes["charge_id"])
	}
	return l
}

// clone copies s out of whatever larger string it may be a slice of.
func clone(s string) string {
	if s == "" {
		return ""
	}
	return strings.Clone(s)
}

// class is what part a line plays in matching.
type class uint8

const (
	classTender     class = iota // a payment or refund: matches tenders
	classChargeback              // a chargeback or its reversal: linked to the sale
	classDeposit                 // money reaching the bank or paid out: matches batches
	classBatchOnly               // fees, adjustments: settled with their batch
)

func classify(l *Line) class {
	switch l.Type {
	case settlement.TypePayment, settlement.TypeRefund, settlement.TypeReversal:
		return classTender
	case settlement.TypeChargeback, settlement.TypeChargebackReversal:
		return classChargeback
	case settlement.TypePayout, settlement.TypeCardSettlement, settlement.TypeDeposit:
		return classDeposit
	case settlement.TypeTransfer:
		if l.Net > 0 {
			return classDeposit
		}
	}
	return classBatchOnly
}
