package redact_test

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/redact"
)

func ExampleRedactor_Text() {
	r, _ := redact.New(redact.Config{})
	out, found := r.Text("Card 4111 1111 1111 1111, CVV 123, 2 x EAN 4006381333931, call +4930123456789")
	fmt.Println(out)
	fmt.Println(found)
	// Output:
	// Card [PAN], CVV [CVV], 2 x EAN 4006381333931, call +4930123456789
	// pan=1 cvv=1
}

func ExampleRedactor_JSON() {
	r, _ := redact.New(redact.Config{Mask: true})
	in := `{"id": 625519802133508710, "note": "paid with 3782-822463-10005", "card_number": 5555555555554444,
 "payment": {"cvv": "123", "last4": "4444"}}`
	out, found, err := r.JSON([]byte(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	fmt.Println(found)
	// Output:
	// {"id": 625519802133508710, "note": "paid with 378282*****0005", "card_number": "555555******4444",
	//  "payment": {"cvv": "[CVV]", "last4": "4444"}}
	// pan=2 cvv=1
}

func ExampleRedactor_Event() {
	r, _ := redact.New(redact.Config{})
	e := &event.Event{ID: "s-1", Type: event.TypeSale, Body: &event.Sale{
		Currency: "EUR",
		Notes:    "card 4012 8888 8888 1881 declined first",
		OrderID:  "625519802133508710",
		Tenders: []event.Tender{{Kind: event.TenderCard, Amount: 1299,
			Card: &event.Card{Brand: "visa", Last4: "4012888888881881", AuthCode: "123"}}},
	}}
	found := r.Event(e)
	s := e.Body.(*event.Sale)
	fmt.Printf("%s | %s | last4=%s auth_code=%q | %v\n", s.Notes, s.OrderID, s.Tenders[0].Card.Last4, s.Tenders[0].Card.AuthCode, found)
	// Output:
	// card [PAN] declined first | 625519802133508710 | last4=1881 auth_code="" | pan=2 cvv=1
}

func ExampleTokenizer() {
	tok, err := redact.NewTokenizer("v2", map[string][]byte{
		"v1": []byte("an old secret of 16+ bytes"),
		"v2": []byte("the current secret, 16+ bytes"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := tok.Token(redact.Email, "Jane.Doe@Example.com")
	b := tok.Token(redact.Email, "jane.doe@example.com")
	old, _ := tok.TokenWith("v1", redact.Email, "jane.doe@example.com")
	fmt.Println(a == b, strings.HasPrefix(a, "tok:v2:"), strings.HasPrefix(old, "tok:v1:"), old != a)

	r, _ := redact.New(redact.Config{Tokenizer: tok})
	out, found, _ := r.JSON([]byte(`{"customer": {"email": "jane.doe@example.com"}}`))
	fmt.Println(string(out) == `{"customer": {"email": "`+a+`"}}`, found)
	// Output:
	// true true true true
	// true email=1
}

func ExampleNewLogHandler() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(redact.NewLogHandler(h))
	log.Warn("charge declined for 4111111111111111", "order_id", "625519802133508710", "cvv", 123, "pan", int64(5555555555554444))
	// Output:
	// level=WARN msg="charge declined for [PAN]" order_id=625519802133508710 cvv=[CVV] pan=[PAN]
}

func ExampleScan() {
	logs := "INFO sale stored seq=918273\nWARN retry note=\"card 6011 1111 1111 1117\"\n"
	hits, err := redact.Scan(strings.NewReader(logs))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hits {
		h.File = "app.log"
		fmt.Println(h)
	}
	// Output:
	// app.log:2:23: pan (discover) 601111******1117
}
