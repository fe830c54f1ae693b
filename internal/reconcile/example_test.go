package reconcile_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/settlement"
)

// A till's card payment, and the PSP line that settles it a day later.
func ExampleEngine() {
	ctx := context.Background()
	exc := exception.NewMemory()
	e, err := reconcile.NewEngine(reconcile.DefaultConfig(), exc)
	if err != nil {
		panic(err)
	}
	sold := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	e.AddTenders(reconcile.Tender{Event: "sale-1", Location: "store-42", Zone: "Europe/Berlin", At: sold,
		Amount: 4250, Currency: "EUR", Reference: "ch_8F3K", Last4: "4242"})
	e.AddLines(reconcile.Line{File: "payouts.csv", Row: 2, Type: settlement.TypePayment, Date: sold.AddDate(0, 0, 1),
		Currency: "EUR", Gross: 4250, Fee: 64, Net: 4186, Refs: settlement.References{Payment: "ch_8F3K"}})
	if err := e.Run(ctx); err != nil {
		panic(err)
	}
	e.Matches(func(m reconcile.Match) bool {
		fmt.Println(m.Rule, "—", m.Explanation)
		return true
	})
	// Output:
	// reference — reference ch_8F3K and amount 42.50 EUR equal; settled 1 day after the sale; net 41.86 EUR after fee 0.64 EUR
}
