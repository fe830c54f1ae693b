package intake_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/intake"
)

func ExampleTokens() {
	// The hub keeps only hashes of tokens: a store writes its own location,
	// a web shop the locations that fulfil its orders.
	auth := intake.Tokens{
		intake.HashToken("berlin-token"): {Name: "berlin", Location: "berlin"},
		intake.HashToken("shop-token"):   {Name: "shop", Locations: map[string]bool{"berlin": true, "hamburg": true}},
	}
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/events", nil)
	r.Header.Set("Authorization", "Bearer shop-token")
	p, err := auth.Authenticate(r)
	fmt.Println(p.Name, err)
	fmt.Println(p.Allows("hamburg"), p.Allows("munich"))

	r.Header.Set("Authorization", "Bearer guessed")
	_, err = auth.Authenticate(r)
	fmt.Println(err)
	// Output:
	// shop <nil>
	// true false
	// missing or unknown bearer token
}
