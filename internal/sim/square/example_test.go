package square_test

import (
	"fmt"

	sqsim "github.com/tillsync/tillsync/internal/sim/square"
)

func ExampleSeller_Sell() {
	s := sqsim.New(sqsim.Options{SignatureKey: "key", NotificationURL: "https://hub.example.com/v1/sources/square/main", AccessToken: "token"})
	s.AddItem(sqsim.Item{CatalogObjectID: "MUG", Name: "Mug", Price: 1200, TaxBP: 725})
	_ = s.SetStock("L1", "MUG", "10")
	id, err := s.Sell(sqsim.Sale{LocationID: "L1", Lines: []sqsim.Line{{CatalogObjectID: "MUG", Quantity: "2"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	o, _ := s.Order(id)
	fmt.Println(o.State, o.TotalMoney.Amount, s.Stock("L1", "MUG"))
	for _, n := range s.Drain() {
		fmt.Println(n.Type)
	}
	// Output:
	// COMPLETED 2574 8
	// inventory.count.updated
	// order.created
	// payment.created
	// payment.updated
	// order.updated
	// inventory.count.updated
}
