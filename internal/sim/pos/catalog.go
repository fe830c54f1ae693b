// Package pos simulates a store's POS registers: realistic traffic (sales
// with discounts, taxes and split tenders, weighed goods, returns, voids,
// adjustments, deliveries, stock and drawer counts) posted to the store's
// edge exactly as a till would, retried with the same event IDs until
// acknowledged.
package pos

import (
	"fmt"
	"math/rand/v2"

	"github.com/tillsync/tillsync/internal/event"
)

// Item is one SKU of the simulated catalog.
type Item struct {
	SKU string
	// Price in minor units (per kilogram for weighed goods).
	Price   int64
	Weighed bool
	// Scarce items are stocked in ones and twos: where ghost inventory and
	// oversells happen.
	Scarce bool
	// Popularity weights how often the item sells.
	Popularity int
}

// Catalog is the simulated assortment.
type Catalog struct {
	Items []Item
	total int
}

// NewCatalog makes n items: mostly apparel and accessories, a few weighed
// goods, and some scarce items (the last jackets).
func NewCatalog(n int, rng *rand.Rand) *Catalog {
	c := &Catalog{}
	kinds := []string{"TEE", "JEANS", "SOCK", "CAP", "BELT", "SCARF", "BAG"}
	sizes := []string{"S", "M", "L", "XL"}
	for i := 0; i < n; i++ {
		var it Item
		switch {
		case i%25 == 0:
			it = Item{SKU: fmt.Sprintf("BULK-TEA-%03d", i), Price: 2490 + int64(rng.IntN(3000)), Weighed: true}
		case i%8 == 0:
			it = Item{SKU: fmt.Sprintf("JKT-%03d-%s", i, sizes[i%4]), Price: 12900 + int64(rng.IntN(10))*1000, Scarce: true}
		default:
			it = Item{SKU: fmt.Sprintf("%s-%03d-%s", kinds[i%len(kinds)], i, sizes[i%4]), Price: 990 + int64(rng.IntN(60))*100}
		}
		it.Popularity = 1 + rng.IntN(10)
		if it.Scarce {
			it.Popularity += 5 // everybody wants the jacket
		}
		c.total += it.Popularity
		c.Items = append(c.Items, it)
	}
	return c
}

// Pick returns an item, weighted by popularity.
func (c *Catalog) Pick(rng *rand.Rand) Item {
	n := rng.IntN(c.total)
	for _, it := range c.Items {
		n -= it.Popularity
		if n < 0 {
			return it
		}
	}
	return c.Items[len(c.Items)-1]
}

// InitialStock is the opening quantity of an item at a store.
func (c *Catalog) InitialStock(it Item, rng *rand.Rand) event.Qty {
	switch {
	case it.Scarce:
		return event.Units(int64(1 + rng.IntN(2)))
	case it.Weighed:
		return event.Qty(20_000 + rng.IntN(30_000)) // 20–50 kg
	}
	return event.Units(int64(20 + rng.IntN(40)))
}
