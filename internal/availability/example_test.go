package availability_test

import (
	"fmt"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

func ExampleChannel_ATP() {
	web := availability.Channel{Name: "web", Buffer: event.Units(2)}
	fmt.Println(web.ATP(inventory.Position{Delta: event.Units(10), Reserved: event.Units(3)}))
	fmt.Println(web.ATP(inventory.Position{Delta: event.Units(1)})) // never below zero
	// Output:
	// 5
	// 0
}

func ExampleBroker() {
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{Channel: "web"})
	defer sub.Close()

	// Three changes while the subscriber is busy: it gets the latest value,
	// with every cause.
	for i, id := range []string{"sale-1", "sale-2", "sale-3"} {
		b.Publish([]availability.Update{{Channel: "web", SKU: "JKT-M", Location: "berlin",
			Available: event.Units(int64(5 - i)), Seq: int64(i + 1), Events: []string{id}}})
	}
	for _, u := range sub.Take() {
		fmt.Println(u.SKU, u.Available, u.Seq, u.Events)
	}
	// Output:
	// JKT-M 3 3 [sale-1 sale-2 sale-3]
}
