package stripe_test

import (
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/settlement"
	"github.com/tillsync/tillsync/internal/settlement/stripe"
)

func ExampleParser_Parse() {
	report := `automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id
po_1,txn_1,2026-03-02 14:05:11,usd,100.00,3.20,96.80,charge,ch_1
po_1,txn_2,2026-03-02 18:01:30,usd,-40.00,0.00,-40.00,refund,re_1
po_2,txn_3,2026-03-03 01:15:00,jpy,5000,180,4820,charge,ch_2
`
	sum, err := (&stripe.Parser{}).Parse(strings.NewReader(report), func(tx settlement.Transaction) error {
		fmt.Println(tx.References.Batch, tx.Type, tx.Money(), "gross", tx.Breakdown.Gross, "fee", tx.Breakdown.Fee)
		return nil
	})
	fmt.Println(sum.Totals["USD"].Net, sum.Totals["JPY"].Net, sum.ControlTotalsChecked, err)
	// Output:
	// po_1 payment 96.80 USD gross 100.00 USD fee 3.20 USD
	// po_1 refund -40.00 USD gross -40.00 USD fee 0.00 USD
	// po_2 payment 4820 JPY gross 5000 JPY fee 180 JPY
	// 5680 4820 3 <nil>
}
