package shopifyadmin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

func Example() {
	shop, _ := shopifyadmin.New(shopifyadmin.Config{Token: "shpat_example", Plan: shopifyadmin.Standard})
	loc := shop.AddLocation()
	item := shop.AddVariant("MATCHA-100", loc)
	shop.SetAvailable(item, loc, 10)
	srv := httptest.NewServer(shop)
	defer srv.Close()

	// A compare-and-set write expecting 10, after a sale on Shopify POS.
	shop.AdjustAvailable(item, loc, -1)
	body, _ := json.Marshal(map[string]any{
		"query": `mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code field message } } }`,
		"variables": map[string]any{"input": map[string]any{"name": "available", "reason": "correction",
			"quantities": []any{map[string]any{"inventoryItemId": item, "locationId": loc, "quantity": 8, "changeFromQuantity": 10}}}},
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/admin/api/2026-10/graphql.json", bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", "shpat_example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Data struct {
			InventorySetQuantities struct {
				UserErrors []struct{ Code string }
			}
		}
		Extensions struct {
			Cost struct {
				RequestedQueryCost int
				ThrottleStatus     shopifyadmin.ThrottleStatus
			}
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	q, _ := shop.Available(item, loc)
	fmt.Println(answer.Data.InventorySetQuantities.UserErrors[0].Code, "— Shopify still holds", q)
	fmt.Printf("cost %d, %v of %v points left, restoring %v/s\n", answer.Extensions.Cost.RequestedQueryCost,
		answer.Extensions.Cost.ThrottleStatus.CurrentlyAvailable, answer.Extensions.Cost.ThrottleStatus.MaximumAvailable,
		answer.Extensions.Cost.ThrottleStatus.RestoreRate)
	// Output:
	// CHANGE_FROM_QUANTITY_STALE — Shopify still holds 9
	// cost 10, 1990 of 2000 points left, restoring 100/s
}
