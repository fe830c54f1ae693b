package csv_test

import (
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/csv"
)

func ExampleParseMapping() {
	m, err := csv.ParseMapping([]byte(`
decimal_comma: true
date_layout: "02.01.2006"
currency: EUR
columns:
  date: Buchungstag
  amount: Betrag
  bank_reference: Referenz
  description: [Name, Verwendungszweck]
types:
  Gutschrift: transfer
  Entgelt: fee
  `))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := csv.New("konto.csv", m)
	if err != nil {
		fmt.Println(err)
		return
	}
	file := "Buchungstag;Typ;Betrag;Referenz;Name;Verwendungszweck\n" +
		"02.03.2026;Gutschrift;1.234,56;R1;Adyen N.V.;Batch 4711\n" +
		"02.03.2026;Entgelt;-12,50;R2;;Kontoführung\n"
	_, err = p.Parse(strings.NewReader(file), func(tx settlement.Transaction) error {
		fmt.Println(tx.Line, tx.BookingDate, tx.Type, tx.Money(), tx.Description)
		return nil
	})
	fmt.Println(err)
	// Output:
	// 2 2026-03-02 card_settlement 1234.56 EUR Adyen N.V. Batch 4711
	// 3 2026-03-02 other -12.50 EUR Kontoführung
	// <nil>
}
