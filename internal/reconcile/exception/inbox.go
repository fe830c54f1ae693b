package exception

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/tillsync/tillsync/internal/inbox"
)

// Hub is the Inbox on the hub's exceptions inbox.
type Hub struct {
	In *inbox.Inbox
}

// Raise implements Inbox. Raising the same evidence again changes
// nothing (it is the same observation); new evidence updates the
// exception, and reopens it if someone had resolved it.
func (h Hub) Raise(ctx context.Context, e Exception) error {
	ev, err := json.Marshal(e.Evidence)
	if err != nil {
		return fmt.Errorf("exception %s: evidence: %w", e.Key, err)
	}
	sum := sha256.Sum256(ev)
	_, _, err = h.In.Raise(ctx, inbox.Problem{Key: e.Key, Kind: inbox.Kind(e.Kind), Severity: inbox.Severity(e.Severity),
		Location: e.Location, Subject: e.Subject, Title: e.Title, Evidence: json.RawMessage(ev),
		Observation: hex.EncodeToString(sum[:16])})
	return err
}

// Resolve implements Inbox: the active exception with the key, if any, is
// auto-resolved with the note.
func (h Hub) Resolve(ctx context.Context, key, note string) error {
	_, err := h.In.AutoResolve(ctx, key, note, nil)
	return err
}

// CountOpen counts a store's active (open or acknowledged) exceptions.
func (h Hub) CountOpen(ctx context.Context, location string) (int, error) {
	n := 0
	f := inbox.Filter{State: inbox.StateActive, Location: location, Limit: inbox.MaxLimit}
	for {
		p, err := h.In.List(ctx, f)
		if err != nil {
			return 0, err
		}
		n += len(p.Exceptions)
		if p.NextAfter == 0 {
			return n, nil
		}
		f.After = p.NextAfter
	}
}
