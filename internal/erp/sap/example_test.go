package sap_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/sap"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	sapsim "github.com/tillsync/tillsync/internal/sim/erpsim/sap"
)

// Posting a till sale and a sale of an unknown material to a simulated
// S/4HANA: each document gets its own answer.
func Example() {
	system := sapsim.New(erpsim.Options{}, sapsim.DefaultCredentials())
	srv := httptest.NewServer(system)
	defer srv.Close()

	creds := sapsim.DefaultCredentials()
	c, err := sap.New(map[string]string{
		"base_url": srv.URL, "client": "100", "user": creds.User, "password": creds.Password,
		"sales_org": "1010", "distribution_channel": "10", "division": "00", "sold_to_party": "1000001",
		"plants": "store-1=1010/0001,store-2=1020/0001",
	}, erp.Deps{HTTP: srv.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	bad := erptest.Sample(erp.CashSale, "evt-0002")
	bad.Lines[0].SKU = sapsim.InvalidMaterial
	errs, err := c.Post(context.Background(), []erp.Document{erptest.Sample(erp.CashSale, "evt-0001"), bad})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, e := range errs {
		if e == nil {
			fmt.Println(i, "created")
			continue
		}
		class, _ := erp.Classify(e)
		fmt.Println(i, class, "-", e)
	}
	rec := system.Records("API_SALES_ORDER_SRV", "evt-0001")[0]
	fmt.Println("sales order", rec.Key, "net", rec.NetAmount, rec.Currency)
	// Output:
	// 0 created
	// 1 permanent - permanent (HTTP 400 M3/305): A_SalesOrder evt-0002 (cash_sale): Material NO-SUCH-ITEM does not exist or is not activated
	// sales order 1000001 net 30.00 EUR
}
