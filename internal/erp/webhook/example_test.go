package webhook_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/webhook"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	whsim "github.com/tillsync/tillsync/internal/sim/erpsim/webhook"
)

// A sale posted twice to the reference receiver is created once: the
// second delivery is answered "exists".
func Example() {
	receiver := whsim.New(erpsim.Options{}, whsim.DefaultCredentials())
	srv := httptest.NewServer(receiver)
	defer srv.Close()
	conn, err := webhook.New(map[string]string{"url": srv.URL + "/erp", "secret": whsim.DefaultCredentials().Secret}, erp.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sale := erptest.Sample(erp.CashSale, "sale-1")
	for range 2 {
		errs, err := conn.Post(context.Background(), []erp.Document{sale})
		fmt.Println(errs, err)
	}
	fmt.Println("records:", receiver.Sim().Stats().Records["sale-1"])
	// Output:
	// [<nil>] <nil>
	// [<nil>] <nil>
	// records: 1
}
