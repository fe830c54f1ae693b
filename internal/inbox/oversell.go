package inbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
)

// OversellEvidence is the evidence of an oversell exception: one per SKU
// and store, gathering every oversell of it.
type OversellEvidence struct {
	SKU      string `json:"sku"`
	Location string `json:"location"`
	// Count is how many oversells of the SKU at the store were detected.
	Count int64 `json:"count"`
	// Latest is the most recent oversell; Recent the last few, newest
	// last (at most RecentOversells).
	Latest store.OversellRow   `json:"latest"`
	Recent []store.OversellRow `json:"recent"`
}

// RecentOversells bounds OversellEvidence.Recent.
const RecentOversells = 20

// OversellKey is the dedup key of a SKU's oversells at a store.
func OversellKey(location, sku string) string { return "oversell/" + location + "/" + sku }

// OversellCursor is the feed's position in the oversells the ledger
// records, kept in the cursors table.
const OversellCursor = "inbox:oversells"

// OversellFeed raises an oversell exception for the oversells the
// inventory ledger records (store.Oversells), and auto-resolves it once
// the store's on hand covers every reservation of the SKU again. It reads
// what the event path already committed, and moves its cursor in the
// same transaction as the exceptions it raises: each oversell is counted
// once, even across crashes.
type OversellFeed struct {
	Inbox *Inbox

	// head is the log head at the last resolving pass: positions change
	// only when the log grows.
	head int64
}

// Name implements Feed.
func (f *OversellFeed) Name() string { return "oversells" }

// Sync raises new oversells and resolves covered ones.
func (f *OversellFeed) Sync(ctx context.Context) error {
	// The head before raising: a later pass sees the log grown past it
	// and checks again whatever this pass raised.
	head, err := f.Inbox.store.Head(ctx)
	if err != nil {
		return err
	}
	if err := f.raise(ctx); err != nil {
		return err
	}
	return f.resolve(ctx, head)
}

func (f *OversellFeed) raise(ctx context.Context) error {
	st := f.Inbox.store
	for {
		cursor, err := st.Cursor(ctx, OversellCursor)
		if err != nil {
			return err
		}
		rows, err := st.OversellsAfter(ctx, cursor, feedPage)
		if err != nil || len(rows) == 0 {
			return err
		}
		err = st.Inbox(ctx, func(tx *store.InboxTx) error {
			for _, o := range rows {
				if _, _, err := f.Inbox.RaiseTx(ctx, tx, oversellProblem(o)); err != nil {
					return err
				}
			}
			return tx.SetCursor(ctx, OversellCursor, rows[len(rows)-1].Seq)
		})
		if err != nil {
			return err
		}
	}
}

func oversellProblem(o store.OversellRow) Problem {
	var title string
	if o.Kind == inventory.OversellOrder {
		title = fmt.Sprintf("%s oversold at %s: order %s asked for %s, only %s unpromised", o.SKU, o.Location, o.OrderID,
			o.Requested, max(o.OnHand-o.Reserved, 0))
	} else {
		title = fmt.Sprintf("%s oversold at %s: a store sale took %s already promised to orders (on hand %s, reserved %s)",
			o.SKU, o.Location, o.Requested, o.OnHand, o.Reserved)
	}
	sugg := []Suggestion{
		{Label: fmt.Sprintf("Count %s at %s: the shelf may hold what the ledger does not", o.SKU, o.Location), Confidence: 0.5},
		{Label: "Source the order from another store, or tell the customer", Confidence: 0.4},
	}
	return Problem{
		Key: OversellKey(o.Location, o.SKU), Kind: Oversell, Severity: SeverityError, Location: o.Location, Subject: o.SKU,
		Title: title, Suggestions: sugg, Observation: o.EventID, At: o.At,
		Merge: func(prev json.RawMessage) (any, error) {
			var ev OversellEvidence
			if prev != nil {
				if err := json.Unmarshal(prev, &ev); err != nil {
					return nil, err
				}
			}
			ev.SKU, ev.Location, ev.Latest = o.SKU, o.Location, o
			ev.Count++
			ev.Recent = append(ev.Recent, o)
			if len(ev.Recent) > RecentOversells {
				ev.Recent = ev.Recent[len(ev.Recent)-RecentOversells:]
			}
			return ev, nil
		},
	}
}

func (f *OversellFeed) resolve(ctx context.Context, head int64) error {
	if head == f.head {
		return nil
	}
	if err := f.resolveAll(ctx); err != nil {
		return err
	}
	f.head = head
	return nil
}

func (f *OversellFeed) resolveAll(ctx context.Context) error {
	return f.Inbox.resolveSettled(ctx, Oversell, func(ctx context.Context, page []Exception) ([]settled, error) {
		keys := make([]inventory.Key, 0, len(page))
		byKey := map[inventory.Key]Exception{}
		for _, x := range page {
			var ev OversellEvidence
			if json.Unmarshal(x.Evidence, &ev) != nil || ev.SKU == "" {
				continue
			}
			k := inventory.Key{SKU: ev.SKU, Location: ev.Location}
			keys, byKey[k] = append(keys, k), x
		}
		pos, err := f.Inbox.store.PositionsByKey(ctx, keys)
		if err != nil {
			return nil, err
		}
		var done []settled
		for k, p := range pos {
			if p.OnHand() >= p.Reserved {
				done = append(done, settled{byKey[k].Key,
					fmt.Sprintf("on hand %s now covers every reservation (%s)", p.OnHand(), p.Reserved),
					map[string]string{"on_hand": p.OnHand().String(), "reserved": p.Reserved.String()}})
			}
		}
		return done, nil
	})
}
