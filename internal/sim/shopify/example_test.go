package shopify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	simshop "github.com/tillsync/tillsync/internal/sim/shopify"
)

func Example() {
	shop := simshop.New(simshop.Config{Domain: "tillsync-demo.myshopify.com", Currency: "JPY",
		Start: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)})
	order, deliveries := shop.POSOrder(24826418, simshop.Line{SKU: "MATCHA-100", Qty: 3, Price: 1000})
	fmt.Println(len(fmt.Sprint(order.ID)), "digit order ID;", shop.Money(1000), "JPY")

	failures := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failures > 0 { // the endpoint is down for the first two attempts
			failures--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Println(r.Header.Get("X-Shopify-Topic"), r.Header.Get("X-Shopify-Hmac-Sha256") == simshop.Sign("secret", mustRead(r)))
	}))
	defer srv.Close()
	em := &simshop.Emitter{URL: srv.URL, Domain: shop.Domain(), Secret: "secret", Client: srv.Client(), Speedup: 1e6}
	rep, err := em.Deliver(context.Background(), deliveries, simshop.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep)
	// Output:
	// 19 digit order ID; 1000 JPY
	// orders/create true
	// fulfillments/create true
	// 4 attempts, 2 delivered, 2 retries, 0 dropped, statuses map[200:2 503:2]
}

func mustRead(r *http.Request) []byte {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	return b
}
