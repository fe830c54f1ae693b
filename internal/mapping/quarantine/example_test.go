package quarantine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/mapping/quarantine"
	"github.com/tillsync/tillsync/internal/store"
)

// A sale with a code the catalog does not know is held and acknowledged;
// a person's mapping releases it into the log.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "quarantine-example-")
	defer func() { _ = os.RemoveAll(dir) }()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "hub.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = st.Close() }()

	cat := mapping.New()
	_ = cat.Add(mapping.Item{SKU: "MUG-RED", Description: "Mug red"})
	q, err := quarantine.New(ctx, quarantine.Config{Store: st, Next: &logSink{st: st}, Resolver: mapping.NewResolver(cat, mapping.Options{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := q.Commit(ctx, []*event.Event{et.Sale("sale-1", "s1", et.Base, et.L("HOUSE-7", 1))})
	fmt.Println(out[0].Status, "quarantined:", out[0].Quarantined)

	m, _ := q.Map(ctx, "pos", "HOUSE-7", "MUG-RED", "cli:alice")
	fmt.Println("released:", m.Released.Events)
	logged, _ := st.EventsByID(ctx, []string{"sale-1"})
	l := logged["sale-1"].Event.Body.(*event.Sale).Lines[0]
	fmt.Println("in the log:", l.SKU, "scanned as", l.Code)
	// Output:
	// accepted quarantined: true
	// released: [sale-1]
	// in the log: MUG-RED scanned as HOUSE-7
}
