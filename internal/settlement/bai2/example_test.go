package bai2_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/bai2"
)

func ExampleParser_Parse() {
	file := strings.Join([]string{
		"01,122099999,TILLSYNC01,260303,0615,1,80,,2/",
		"02,TILLSYNC01,031001234,1,260302,2359,USD,2/",
		"03,0975312468,,010,500000,,/",
		"16,165,1245050,0,MC7891234,STORE-0042,STRIPE TRANSFER",
		"16,698,3450,,BNKFEE0302,,/",
		"88,MONTHLY MAINTENANCE FEE",
		"49,1748500,5/",
		"98,1748500,1,7/",
		"99,1748500,1,9/",
	}, "\n")
	p := &bai2.Parser{File: "statement.bai"}
	sum, err := p.Parse(strings.NewReader(file), func(tx settlement.Transaction) error {
		fmt.Println(tx.Line, tx.Type, tx.Money(), tx.References.Bank, tx.Description)
		return nil
	})
	fmt.Println(sum.Totals["USD"], sum.ControlTotalsChecked, err)

	// The same file with a 49 account total that is off by 1.00.
	_, err = p.Parse(strings.NewReader(strings.Replace(file, "49,1748500", "49,1748400", 1)), func(settlement.Transaction) error { return nil })
	fmt.Println(errors.Is(err, settlement.ErrControlTotals))
	fmt.Println(err)
	// Output:
	// 4 card_settlement 12450.50 USD MC7891234 STRIPE TRANSFER
	// 5 fee -34.50 USD BNKFEE0302 MONTHLY MAINTENANCE FEE
	// {1245050 3450 1241600} 8 <nil>
	// true
	// bai2: statement.bai: control totals do not check out: record 49 at line 7: account 0975312468 control total 1748400 but the 03/16 amounts add up to 1748500
}
