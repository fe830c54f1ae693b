package event_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tillsync/tillsync/internal/event"
)

// A sale arrives as JSON; decoding checks its structure, Validate checks its
// content and names every field at fault by its JSON path.
func Example() {
	raw := []byte(`{
		"id": "pos:s1:r2:1017", "type": "sale", "location": "store-1", "source": "pos",
		"occurred_at": "2026-11-27T10:15:00+01:00", "zone": "Europe/Berlin",
		"data": {
			"currency": "EUR",
			"lines": [
				{"sku": "JKT-M", "quantity": 1, "unit_price": 12999},
				{"sku": "APL-KG", "quantity": "0.750", "unit_price": 12.99}
			],
			"tenders": [{"kind": "card", "amount": 12999, "card": {"last4": "42"}}]
		}
	}`)
	var e event.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		fmt.Println("decode:", err)
		return
	}
	sale := e.Body.(*event.Sale)
	fmt.Println(e.Type, e.ID, "at", e.OccurredAt, "local", e.LocalTime().Format("15:04"))
	fmt.Println(sale.Lines[1].SKU, "quantity", sale.Lines[1].Quantity)

	var ve *event.ValidationError
	if err := e.Validate(); errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Printf("%s: %s (%s)\n", p.Field, p.Message, p.Rule)
		}
	}
	// Output:
	// sale pos:s1:r2:1017 at 2026-11-27 09:15:00 +0000 UTC local 10:15
	// APL-KG quantity 0.75
	// data.lines[1].unit_price: must be an integer number of minor units (1299 for 12.99) (integer_minor_units)
	// data.tenders[0].card.last4: must be exactly four digits (four_digits)
}

// An unknown field is a decode error that names where it is.
func ExampleEvent_UnmarshalJSON() {
	raw := []byte(`{"id": "adj-1", "type": "inventory_adjustment", "location": "store-1", "source": "pos",
		"occurred_at": "2026-11-27T10:15:00+01:00", "zone": "Europe/Berlin",
		"data": {"reason": "damaged", "lines": [{"sku": "MUG", "qty": -1}]}}`)
	var e event.Event
	err := json.Unmarshal(raw, &e)
	var de *event.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Rule, de.Field)
		fmt.Println(err)
	}
	// Output:
	// known_field data.lines[0].qty
	// data.lines[0].qty: is not a field of this event (put vendor extras in "attributes")
}

func ExampleParseQty() {
	for _, s := range []string{"2", "-1.5", "0.250", "1.2345"} {
		q, err := event.ParseQty(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(int64(q), q)
	}
	// Output:
	// 2000 2
	// -1500 -1.5
	// 250 0.25
	// quantity "1.2345" has more than 3 decimal places
}

func ExampleQty_MulMinor() {
	// 0.375 kg at 3.99 a kilogram is 1.49625, rounded half away from zero.
	q, _ := event.ParseQty("0.375")
	total, ok := q.MulMinor(399)
	fmt.Println(event.Money{Amount: event.Amount(total), Currency: "EUR"}, ok)
	// Output: 1.50 EUR true
}
