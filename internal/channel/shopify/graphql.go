package shopify

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// The GraphQL documents this destination sends. Every input travels as a
// variable, so the simulator (internal/sim/shopifyadmin) can answer from
// the variables without parsing GraphQL.

// Cost estimates per the documented cost model: a mutation costs 10, an
// object 1, a connection 2 plus its first argument times its node's cost
// (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). The
// client corrects them by what Shopify reports as requestedQueryCost.
const (
	costMutation = 10
	costLevel    = 3 // inventoryItem + inventoryLevel + quantities
	costVariant  = 2 // variant + its inventoryItem
	costConn     = 2

	// Reads and lookups go in queries of about paceSeconds of restore
	// (25 reads or 18 lookups on Standard, the caps on Plus): far below
	// Shopify's 1,000-point limit per query, short enough that changes of
	// known keys overtake a backlog of first contacts between two of them,
	// large enough that a round trip does not idle the bucket.
	readBatch   = 100 // 300 points
	lookupBatch = 50  // first: 100 → 202 points
	paceSeconds = 0.75
	minChunk    = 10
)

func setMutation(idempotent bool) string {
	if !idempotent {
		return `mutation TillsyncSetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    userErrors { code field message }
  }
}`
	}
	return `mutation TillsyncSetAvailable($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    userErrors { code field message }
  }
}`
}

const adjustMutation = `mutation TillsyncAdjustAvailable($input: InventoryAdjustQuantitiesInput!, $idempotencyKey: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    userErrors { code field message }
  }
}`

const lookupQuery = `query TillsyncVariantsBySKU($query: String!, $first: Int!) {
  productVariants(first: $first, query: $query) {
    nodes { sku inventoryItem { id } }
  }
}`

const pingQuery = `query TillsyncPing { shop { id } }`

// readQuery reads the available quantity of n (item, location) pairs, one
// alias each: l<i>: inventoryItem(id: $item<i>) { inventoryLevel(locationId:
// $location<i>) { quantities(names: ["available"]) { name quantity } } }.
func readQuery(n int) string {
	var b strings.Builder
	b.WriteString("query TillsyncReadAvailable(")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$item%d: ID!, $location%d: ID!", i, i)
	}
	b.WriteString(") {\n")
	for i := range n {
		fmt.Fprintf(&b, "  l%d: inventoryItem(id: $item%d) { id inventoryLevel(locationId: $location%d) { quantities(names: [\"available\"]) { name quantity } } }\n", i, i, i)
	}
	b.WriteString("}")
	return b.String()
}

// skuQuery is a productVariants search for exactly these SKUs.
func skuQuery(skus []string) string {
	terms := make([]string, len(skus))
	for i, s := range skus {
		terms[i] = `sku:"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return strings.Join(terms, " OR ")
}

type userError struct {
	Code    string   `json:"code"`
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

type mutationPayload struct {
	UserErrors []userError `json:"userErrors"`
}

// index returns the position in the input list a user error points at
// (["input","quantities","3","changeFromQuantity"] → 3).
func (e userError) index() (int, bool) {
	if len(e.Field) < 3 || e.Field[0] != "input" {
		return 0, false
	}
	i, err := strconv.Atoi(e.Field[2])
	return i, err == nil
}

type levelAnswer struct {
	ID             string `json:"id"`
	InventoryLevel *struct {
		Quantities []struct {
			Name     string `json:"name"`
			Quantity int64  `json:"quantity"`
		} `json:"quantities"`
	} `json:"inventoryLevel"`
}

type lookupAnswer struct {
	ProductVariants struct {
		Nodes []struct {
			SKU           string `json:"sku"`
			InventoryItem struct {
				ID string `json:"id"`
			} `json:"inventoryItem"`
		} `json:"nodes"`
	} `json:"productVariants"`
}

// newKey returns a random UUID (version 4) for @idempotent: one per
// logical write, reused by every retry of it.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
