package netsuite_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

// A till sale posted to a (simulated) NetSuite account, then delivered
// again as after a lost answer: NetSuite keeps one cash sale.
func Example() {
	account := nssim.New(erpsim.Options{}, nssim.DefaultCredentials())
	ts := httptest.NewServer(account)
	defer ts.Close()

	creds := nssim.DefaultCredentials()
	conn, err := netsuite.New(map[string]string{
		"account_id": creds.AccountID, "base_url": ts.URL,
		"consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret,
		"subsidiary": "1", "customer": "42",
	}, erp.Deps{HTTP: ts.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	sale := erptest.Sample(erp.CashSale, "store-1-r1-sale-000001")
	for range 2 {
		errs, _ := conn.Post(context.Background(), []erp.Document{sale})
		fmt.Println("posted:", errs[0])
	}
	st := account.Sim().Stats()
	fmt.Println("cash sales created:", st.Created, "duplicates:", st.Duplicates)
	// Output:
	// posted: <nil>
	// posted: <nil>
	// cash sales created: 1 duplicates: 0
}
