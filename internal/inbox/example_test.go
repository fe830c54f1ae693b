package inbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

// A feed raises a problem twice (one exception, two occurrences), a person
// acknowledges and resolves it, and when it comes back it is reopened.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "inbox-example")
	defer func() { _ = os.RemoveAll(dir) }()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "hub.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = st.Close() }()
	in := inbox.Standard(st, inbox.Options{Zones: map[string]string{"s1": "Europe/Berlin"}})

	p := inbox.Problem{Key: "cash/s1/till-3/2025-11-28", Kind: inbox.CashVariance, Severity: inbox.SeverityWarning,
		Location: "s1", Subject: "till-3", Title: "till 3 is 12.40 EUR short",
		Evidence: map[string]any{"expected_minor": 51240, "counted_minor": 50000, "currency": "EUR"}}
	x, what, _ := in.Raise(ctx, p)
	fmt.Println(x.ID, what, x.State, x.Actions)
	x, what, _ = in.Raise(ctx, p)
	fmt.Println(x.ID, what, x.Occurrences)

	x, _ = in.Act(ctx, x.ID, inbox.Action{Name: "acknowledge", Actor: "alice"})
	x, _ = in.Act(ctx, x.ID, inbox.Action{Name: "resolve", Actor: "alice", Note: "recounted"})
	fmt.Println(x.State)
	_, err = in.Act(ctx, x.ID, inbox.Action{Name: "acknowledge", Actor: "bob"})
	fmt.Println(err)

	x, what, _ = in.Raise(ctx, p)
	fmt.Println(what, x.State)
	x, _ = in.Get(ctx, x.ID)
	for _, e := range x.Trail {
		fmt.Printf("%s %s %s→%s\n", e.Actor, e.Action, e.FromState, e.ToState)
	}
	// Output:
	// 1 created open [acknowledge assign resolve comment]
	// 1 recurred 2
	// resolved
	// inbox: exception 1: cannot acknowledge an exception that is resolved (acknowledge needs open)
	// reopened open
	// system raised →open
	// system recurred open→open
	// alice acknowledge open→acknowledged
	// alice resolve acknowledged→resolved
	// system reopened resolved→open
}
