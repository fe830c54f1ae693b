package inbox_test

import (
	"context"
	"testing"

	"github.com/tillsync/tillsync/internal/inbox"
)

// A destination blocked by its ERP (wrong credentials) shows in the inbox
// once, however often the feed looks, and resolves itself when the ERP
// accepts postings again.
func TestConnectorFeed(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		states := []inbox.ConnectorState{{Destination: "netsuite", Blocked: "401 INVALID_LOGIN: token rejected"}, {Destination: "sap"}}
		feed := &inbox.ConnectorFeed{Inbox: b.in, States: func() []inbox.ConnectorState { return states }}
		for range 2 {
			if err := feed.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		page, err := b.in.List(ctx, inbox.Filter{Kind: "connector_error"})
		if err != nil || len(page.Exceptions) != 1 {
			t.Fatalf("connector exceptions: %v %+v", err, page)
		}
		x := page.Exceptions[0]
		if x.Key != inbox.ConnectorKey("netsuite") || x.State != inbox.Open || x.Occurrences != 1 || x.Severity != inbox.SeverityCritical {
			t.Errorf("exception %+v: want one open critical connector_error for netsuite", x)
		}
		states[0].Blocked = ""
		if err := feed.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := b.in.Get(ctx, x.ID)
		if err != nil || got.State != inbox.AutoResolved {
			t.Errorf("after the ERP accepted postings again: %v, state %s; want auto_resolved", err, got.State)
		}
	})
}
