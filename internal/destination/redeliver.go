package destination

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/store"
)

// ClassMissing is the dead-letter class of a document re-delivered because
// the ERP never confirmed it (found by the completeness audit), rather than
// because a post failed.
const ClassMissing = "missing"

// Redeliver asks a running detail destination to post the documents of
// these events again: each is queued as a dead letter to replay, so it is
// delivered (and recorded) in its thread's order through the destination's
// own governor, or parked again with the ERP's error. target looks up the
// event a void reverses. It returns how many documents were queued; events
// that post nothing are skipped.
func Redeliver(ctx context.Context, st *store.Store, destination string, events []*store.Stored, target func(id string) *event.Event, why string) (int64, error) {
	now := time.Now().UTC()
	letters := make([]store.DeadLetter, 0, len(events))
	for _, s := range events {
		doc, ok, err := erp.Detail(s.Event, target)
		if err != nil {
			return 0, fmt.Errorf("redeliver %s to %s: %w", s.Event.ID, destination, err)
		}
		if !ok {
			continue
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return 0, fmt.Errorf("redeliver %s to %s: %w", s.Event.ID, destination, err)
		}
		letters = append(letters, store.DeadLetter{ExternalID: doc.ExternalID, Thread: erp.Thread(s.Event), Seq: s.Seq,
			Kind: string(doc.Kind), Class: ClassMissing, Error: why, FirstFailed: now, LastFailed: now, Document: string(body)})
	}
	return st.RequestRedelivery(ctx, destination, letters)
}
