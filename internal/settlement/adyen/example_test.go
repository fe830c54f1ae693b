package adyen_test

import (
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/adyen"
)

func ExampleParser_Parse() {
	report := `Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Payment Method Variant,Modification Merchant Reference,Batch Number
Co,ShopEU,8815724153290312,POS-0042-0017,visa,2026-03-01 11:26:49,CET,Settled,8815724153290313,EUR,,100.00,1,EUR,,98.05,,0.45,0.30,1.20,visadebit,,123
Co,ShopEU,8815724153290744,POS-0041-0033,mc,2026-03-02 09:00:12,CET,Chargeback,8815724153290745,EUR,45.90,,1,EUR,53.40,,7.50,,,,mccredit,,123
Co,ShopEU,,,,2026-03-03 06:00:00,CET,MerchantPayout,TX4567890XT,,,,,EUR,44.65,,,,,,,,123
`
	sum, err := (&adyen.Parser{}).Parse(strings.NewReader(report), func(tx settlement.Transaction) error {
		fmt.Println(tx.BookingDate, tx.Type, tx.Money(), "batch "+tx.References.Batch, "["+tx.References.Merchant+"]")
		return nil
	})
	fmt.Println(sum.Totals["EUR"].Net, sum.ControlTotalsChecked, err)
	// Output:
	// 2026-03-01T11:26:49+01:00 payment 98.05 EUR batch 123 [POS-0042-0017]
	// 2026-03-02T09:00:12+01:00 chargeback -53.40 EUR batch 123 [POS-0041-0033]
	// 2026-03-03T06:00:00+01:00 payout -44.65 EUR batch 123 []
	// 0 2 <nil>
}
