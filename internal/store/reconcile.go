package store

import (
	"context"
	"fmt"
	"time"
)

// EventsOccurred returns a location's events that happened in [from, to),
// in log order: one store's business day for the completeness audit, the
// cash check and the end-of-day close.
func (s *Store) EventsOccurred(ctx context.Context, location string, from, to time.Time) ([]*Stored, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT seq, stored_at, body FROM events
		WHERE location = ? AND occurred_at >= ? AND occurred_at < ? ORDER BY seq`), location, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("store: read events of %s from %s to %s: %w", location, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []*Stored
	for rows.Next() {
		st, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read events of %s: %w", location, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// DeliveredIDs reports which of the external IDs a destination has
// delivered (the ERP confirmed them).
func (s *Store) DeliveredIDs(ctx context.Context, destination string, ids []string) (map[string]bool, error) {
	out, err := s.destinationIDs(ctx, `SELECT external_id FROM deliveries WHERE destination = ? AND external_id IN (`, destination, ids)
	if err != nil {
		return nil, fmt.Errorf("store: read deliveries of %s: %w", destination, err)
	}
	return out, nil
}

// RequestRedelivery asks a destination to deliver documents again that it
// passed without the ERP confirming them: each becomes a dead letter in
// the replay state, which the running destination picks up within a
// second like any replayed dead letter. A parked dead letter of the same
// external ID is switched to replay; one already replaying or resolved is
// left as it is. It returns how many rows were added or switched.
func (s *Store) RequestRedelivery(ctx context.Context, destination string, letters []DeadLetter) (int64, error) {
	var n int64
	for _, d := range letters {
		res, err := s.w.ExecContext(ctx, s.rebind(`INSERT INTO dead_letters (destination, external_id, thread, seq, kind, attempts, class, error,
			first_failed_at, last_failed_at, state, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (destination, external_id) DO UPDATE SET state = excluded.state WHERE dead_letters.state = ?`),
			destination, d.ExternalID, d.Thread, d.Seq, d.Kind, 0, d.Class, d.Error,
			d.FirstFailed.UnixMicro(), d.LastFailed.UnixMicro(), DeadReplay, d.Document, DeadParked)
		if err != nil {
			return n, fmt.Errorf("store: request redelivery of %s to %s: %w", d.ExternalID, destination, err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}
