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
// exception, and reopens it if someone had resolved it. Amount and At,
// when set, are kept in the inbox's evidence as "amount" and "at".
func (h Hub) Raise(ctx context.Context, e Exception) error {
	ev, err := evidence(e)
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

// evidence is e's evidence as a JSON object, with its Amount and At.
func evidence(e Exception) ([]byte, error) {
	ev, err := json.Marshal(e.Evidence)
	if err != nil || (e.Amount == nil && e.At.IsZero()) {
		return ev, err
	}
	obj := map[string]json.RawMessage{}
	if string(ev) != "null" {
		if err := json.Unmarshal(ev, &obj); err != nil {
			return nil, fmt.Errorf("amount and time need an object: %w", err)
		}
	}
	if e.Amount != nil {
		if obj["amount"], err = json.Marshal(e.Amount); err != nil {
			return nil, err
		}
	}
	if !e.At.IsZero() {
		if obj["at"], err = json.Marshal(e.At.UTC()); err != nil {
			return nil, err
		}
	}
	return json.Marshal(obj)
}

// Active returns the hub inbox's active (open or acknowledged) exceptions
// of a kind ("" for all), oldest first.
func (h Hub) Active(ctx context.Context, kind string) ([]Exception, error) {
	var out []Exception
	f := inbox.Filter{State: inbox.StateActive, Kind: kind, Limit: inbox.MaxLimit}
	for {
		p, err := h.In.List(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, x := range p.Exceptions {
			out = append(out, Exception{Key: x.Key, Kind: string(x.Kind), Severity: Severity(x.Severity), Location: x.Location,
				Zone: x.Zone, Subject: x.Subject, Title: x.Title, Evidence: x.Evidence})
		}
		if p.NextAfter == 0 {
			return out, nil
		}
		f.After = p.NextAfter
	}
}
