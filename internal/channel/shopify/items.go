package shopify

import (
	"context"
	"errors"
	"slices"
)

// resolve maps SKUs to inventory item GIDs ("" when unmapped): the static
// map first, then the lookup cache, then productVariants(query: "sku:…")
// for the rest, in batches. A SKU is mapped only when exactly one variant
// has it: Shopify does not require SKUs to be unique, and pushing one
// SKU's stock to two variants would promise it twice.
func (d *Destination) resolve(ctx context.Context, skus []string) (map[string]string, error) {
	out := make(map[string]string, len(skus))
	var missing []string
	now := d.now()
	for _, s := range skus {
		if _, done := out[s]; done {
			continue
		}
		if item, ok := d.cfg.Items[s]; ok {
			out[s] = item
			continue
		}
		out[s] = ""
		if !d.cfg.LookupSKUs {
			continue
		}
		if e, ok := d.skus[s]; ok && (e.item != "" || now.Before(e.retryAt)) {
			out[s] = e.item
			continue
		}
		missing = append(missing, s)
	}
	limit := lookupBatch
	for len(missing) > 0 {
		if err := d.overtake(ctx); err != nil {
			return nil, err
		}
		b := missing[:min(len(missing), d.chunk(limit, 2*costVariant, costConn))]
		first := min(MaxBatch, 2*len(b)) // room to see a SKU shared by two variants
		var data lookupAnswer
		err := d.call(ctx, request{op: "lookup", query: lookupQuery,
			vars: map[string]any{"query": skuQuery(b), "first": first}, cost: costConn + costVariant*float64(first)}, &data)
		if errors.Is(err, errTooCostly) && len(b) > 1 {
			limit = len(b) / 2
			continue
		}
		if err != nil {
			return nil, err
		}
		missing = missing[len(b):]
		found := map[string][]string{}
		for _, n := range data.ProductVariants.Nodes {
			if !slices.Contains(found[n.SKU], n.InventoryItem.ID) {
				found[n.SKU] = append(found[n.SKU], n.InventoryItem.ID)
			}
		}
		truncated := len(data.ProductVariants.Nodes) >= first
		for _, s := range b {
			switch items := found[s]; {
			case len(items) == 1:
				d.skus[s] = skuEntry{item: items[0]}
				out[s] = items[0]
			case len(items) > 1:
				d.skus[s] = skuEntry{retryAt: now.Add(d.cfg.LookupRetry)}
				d.skip("ambiguous-sku", s, "inventory_items", items)
			case !truncated:
				d.skus[s] = skuEntry{retryAt: now.Add(d.cfg.LookupRetry)}
			}
		}
	}
	return out, nil
}
