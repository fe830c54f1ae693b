package redact

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/event/eventtest"
)

func TestEventSale(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	e := eventtest.Sale("pos-1-000042", "store-1", eventtest.Base, eventtest.L("TR-42", 1))
	e.Attributes = map[string]string{
		"shopify_order_id": shopifyOrderID,
		"terminal_note":    "swiped ;4111111111111111=28121010000000000000?",
		"cvv":              "123",
		"4111111111111111": "key is a card",
	}
	s := e.Body.(*event.Sale)
	s.Notes = "customer card 4111 1111 1111 1111, CVV 123; barcode 4006381333931"
	s.OrderID = shopifyOrderID
	s.Lines[0].Description = "Trail Runner (paid 5555555555554444)"
	s.Lines[0].Discounts = []event.Discount{{Amount: 0, Reason: "staff, card 6011 1111 1111 1117"}}
	s.Tenders[0].Reference = "auth 4012888888881881"
	s.Tenders[0].Card = &event.Card{Brand: "visa", Last4: "4111111111111111", AuthCode: "123", Entry: "keyed"}

	f := plain.Event(e)

	if f.Count(PAN) != 6 || f.Count(CVV) != 3 || f.Count(Track) != 1 {
		t.Errorf("findings %v, want pan=6 track=1 cvv=3", f)
	}
	for got, want := range map[string]string{
		s.Notes:                          "customer card [PAN], CVV [CVV]; barcode 4006381333931",
		s.OrderID:                        shopifyOrderID,
		s.Lines[0].Description:           "Trail Runner (paid [PAN])",
		s.Lines[0].Discounts[0].Reason:   "staff, card [PAN]",
		s.Tenders[0].Reference:           "auth [PAN]",
		s.Tenders[0].Card.Last4:          "1111",
		s.Tenders[0].Card.AuthCode:       "",
		e.Attributes["shopify_order_id"]: shopifyOrderID,
		e.Attributes["terminal_note"]:    "swiped [TRACK]",
		e.Attributes["cvv"]:              "[CVV]",
		e.Attributes["[PAN]"]:            "key is a card",
		e.ID:                             "pos-1-000042",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if err := e.Validate(); err != nil {
		t.Errorf("redacted sale does not validate: %v", err)
	}
	if g := plain.Event(e); g.Total() != 0 {
		t.Errorf("second pass found %v", g)
	}
}

func TestEventCardFields(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	for _, c := range []struct{ in, want event.Card }{
		{event.Card{Brand: "visa", Last4: "4242", AuthCode: "A1B2C3", Entry: "chip"}, event.Card{Brand: "visa", Last4: "4242", AuthCode: "A1B2C3", Entry: "chip"}},
		{event.Card{Last4: "4111 1111 1111 1111", AuthCode: "123456"}, event.Card{Last4: "1111", AuthCode: "123456"}},
		{event.Card{AuthCode: "4111111111111111"}, event.Card{AuthCode: "[PAN]"}},
		{event.Card{AuthCode: "1234"}, event.Card{}},
	} {
		card := c.in
		e := &event.Event{Type: event.TypeSale, Body: &event.Sale{Tenders: []event.Tender{{Kind: event.TenderCard, Card: &card}}}}
		plain.Event(e)
		if card != c.want {
			t.Errorf("Event(card %+v): %+v, want %+v", c.in, card, c.want)
		}
	}
}

// TestEventEveryStringField fills every string of every body type with a
// card number and checks that none is left: a field added to a body later
// is covered, or this test names it.
func TestEventEveryStringField(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	const pan = "card 4111111111111111"
	bodies := []event.Body{
		&event.Sale{}, &event.Return{}, &event.Void{}, &event.Adjustment{}, &event.Receipt{},
		&event.TransferOut{}, &event.TransferIn{}, &event.StockCount{}, &event.DrawerCount{},
		&event.OnlineOrder{}, &event.Fulfilment{}, &event.OrderCancel{},
	}
	if len(bodies) != len(event.Types) {
		t.Fatalf("%d bodies listed, %d event types: add the new body here", len(bodies), len(event.Types))
	}
	for _, b := range bodies {
		fill(reflect.ValueOf(b).Elem(), pan)
		e := &event.Event{ID: pan, Type: b.Type(), Location: pan, Source: pan, Zone: pan, Attributes: map[string]string{"k": pan}, Body: b}
		f := plain.Event(e)
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "4111111111111111") {
			t.Errorf("%s: a card number survived: %s", b.Type(), raw)
		}
		if f.Count(PAN) == 0 {
			t.Errorf("%s: no findings", b.Type())
		}
	}
}

// fill sets every string reachable from v to s, making one element of
// every slice and allocating every pointer.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), s)
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.ValueOf(map[string]string{"k": s}).Convert(v.Type()))
		}
	default:
	}
}
