package reconcile

import (
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Tender is one card payment taken at a till (a sale's card tender) or paid
// back (a return's card refund, with a negative Amount).
type Tender struct {
	// Event is the ID of the sale or return event; Index is the tender's
	// position in its tenders (a split payment has several).
	Event string `json:"event"`
	Index int    `json:"index"`
	// Location is the store, Zone its IANA time zone.
	Location string `json:"location"`
	Zone     string `json:"zone,omitempty"`
	// Processor is the acquirer or PSP, when the till says (the event's
	// "processor" attribute).
	Processor string `json:"processor,omitempty"`
	// At is when the tender was taken, in UTC.
	At time.Time `json:"at"`
	// Amount excludes the tip; both are signed minor units of Currency
	// (negative for refunds).
	Amount   event.Amount `json:"amount"`
	Tip      event.Amount `json:"tip,omitempty"`
	Currency string       `json:"currency"`
	// Reference is the processor's reference of the payment, as the
	// terminal returned it.
	Reference string `json:"reference,omitempty"`
	Last4     string `json:"card_last4,omitempty"`
	AuthCode  string `json:"auth_code,omitempty"`
}

// Total is what the card was charged: amount plus tip.
func (t *Tender) Total() event.Amount { return t.Amount + t.Tip }

// Key is the tender's stable identity: "EVENT#INDEX".
func (t *Tender) Key() string { return t.Event + "#" + strconv.Itoa(t.Index) }

// Money is the tender's total with its currency.
func (t *Tender) Money() event.Money { return event.Money{Amount: t.Total(), Currency: t.Currency} }

// ProcessorAttribute is the event attribute that names a tender's processor.
const ProcessorAttribute = "processor"

// TendersFromEvent returns the card tenders of a sale (positive) or return
// (negative); other events, and cash, gift card and store credit tenders,
// have none.
func TendersFromEvent(e *event.Event) []Tender {
	var (
		cur     string
		tenders []event.Tender
		sign    event.Amount = 1
	)
	switch b := e.Body.(type) {
	case *event.Sale:
		cur, tenders = b.Currency, b.Tenders
	case *event.Return:
		cur, tenders, sign = b.Currency, b.Tenders, -1
	default:
		return nil
	}
	var out []Tender
	for i, td := range tenders {
		if td.Kind != event.TenderCard {
			continue
		}
		t := Tender{
			Event: e.ID, Index: i, Location: e.Location, Zone: e.Zone,
			Processor: e.Attributes[ProcessorAttribute],
			At:        e.OccurredAt.UTC(), Currency: cur,
			Amount: sign * abs(td.Amount), Tip: sign * abs(td.Tip),
			Reference: td.Reference,
		}
		if td.Card != nil {
			t.Last4, t.AuthCode = td.Card.Last4, td.Card.AuthCode
		}
		out = append(out, t)
	}
	return out
}

func abs(a event.Amount) event.Amount {
	if a < 0 {
		return -a
	}
	return a
}
