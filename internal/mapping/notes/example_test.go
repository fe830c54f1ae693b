package notes_test

import (
	"encoding/json"
	"fmt"

	"github.com/tillsync/tillsync/internal/mapping/notes"
)

func ExampleParser_Parse() {
	p, err := notes.New(notes.Config{DefaultCurrency: "USD"})
	if err != nil {
		panic(err)
	}
	for _, note := range []string{
		"pm walmart 24.99 ok'd by Sam",
		"emp disc 20% card 4111 1111 1111 1111",
		"gift wrap",
	} {
		b, _ := json.Marshal(p.Parse(note))
		fmt.Println(string(b))
	}
	// Output:
	// {"note":"pm walmart 24.99 ok'd by Sam","reason_code":"PRICE_MATCH","kind":"fixed_price","value":"24.99","currency":"USD","competitor":"Walmart","approved_by":"Sam","confidence":0.85}
	// {"note":"emp disc 20% card [PAN]","reason_code":"EMPLOYEE","kind":"percent","value":"20","confidence":0.95}
	// {"note":"gift wrap","reason_code":null,"confidence":0.97}
}
