package settlement_test

import (
	"fmt"

	"github.com/tillsync/tillsync/internal/settlement"
)

func ExampleDetect() {
	for _, head := range []string{
		"01,122099999,TILLSYNC01,260303,0615,1,80,,2/\n02,...",
		`<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">`,
		"automatic_payout_id,balance_transaction_id,currency,gross,fee,net,reporting_category\n",
		"Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method\n",
		"Buchungstag;Betrag;Verwendungszweck\n",
	} {
		f, err := settlement.Detect([]byte(head))
		fmt.Printf("%q %v\n", f, err != nil)
	}
	// Output:
	// "bai2" false
	// "camt053" false
	// "stripe" false
	// "adyen" false
	// "" true
}

func ExampleDecimal_Parse() {
	eu := settlement.Decimal{Comma: true, Grouping: true}
	n, err := eu.Parse("1.234,50", 2)
	fmt.Println(n, err)
	yen, err := settlement.ParseAmount("1500", 0)
	fmt.Println(yen, err)
	_, err = settlement.ParseAmount("12.345", 2)
	fmt.Println(err)
	_, err = settlement.Decimal{}.Parse("12,50", 2)
	fmt.Println(err)
	// Output:
	// 123450 <nil>
	// 1500 <nil>
	// "12.345" has more decimals than the currency's 2
	// "12,50" is not a number ("," is not this file's decimal mark)
}

func ExampleParseISODate() {
	for _, s := range []string{"2026-03-02", "2026-03-02T14:05:00", "2026-03-02T14:05:00+01:00"} {
		d, _ := settlement.ParseISODate(s)
		fmt.Println(d, d.HasTime(), d.HasZone())
	}
	// Output:
	// 2026-03-02 false false
	// 2026-03-02T14:05:00 true false
	// 2026-03-02T14:05:00+01:00 true true
}

func ExampleMaskPANs() {
	fmt.Println(settlement.MaskPANs("REFUND CARD 4111 1111 1111 1111 ORDER 10442"))
	fmt.Println(settlement.MaskPANs("INVOICE 2026000123 IBAN DE89370400440532013000"))
	fmt.Println(settlement.LastFour("************4444"))
	// Output:
	// REFUND CARD **** **** **** 1111 ORDER 10442
	// INVOICE 2026000123 IBAN DE89370400440532013000
	// 4444
}
