package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// LedgerMove is one movement of a SKU's on-hand stock with the event
// behind it.
type LedgerMove struct {
	inventory.Move
	// Type is the source event's type ("" if the event is not in the log).
	Type event.Type
	// Source is the system that sent the event.
	Source string
}

// MovesOfSKU returns a SKU's ledger movements at every location, newest
// first, at most limit of them, each with the type and source of the event
// behind it.
func (s *Store) MovesOfSKU(ctx context.Context, sku string, limit int) ([]LedgerMove, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT m.seq, m.event_id, m.location, m.delta, m.at, COALESCE(e.type, ''), COALESCE(e.source, '')
		FROM moves m LEFT JOIN events e ON e.id = m.event_id WHERE m.sku = ? ORDER BY m.seq DESC, m.location LIMIT ?`), sku, limit)
	if err != nil {
		return nil, fmt.Errorf("store: ledger history of %s: %w", sku, err)
	}
	defer rows.Close()
	var out []LedgerMove
	for rows.Next() {
		var m LedgerMove
		var at int64
		var typ string
		if err := rows.Scan(&m.Seq, &m.EventID, &m.Location, &m.Delta, &at, &typ, &m.Source); err != nil {
			return nil, fmt.Errorf("store: ledger history of %s: %w", sku, err)
		}
		m.SKU, m.Type, m.At = sku, event.Type(typ), time.UnixMicro(at).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: ledger history of %s: %w", sku, err)
	}
	return out, nil
}

// RecentAudit returns audit lines newest first: those with an ID below
// beforeID (0: from the newest), optionally only one actor's, at most
// limit.
func (s *Store) RecentAudit(ctx context.Context, beforeID int64, actor string, limit int) ([]AuditEntry, error) {
	return s.auditLines(ctx, `WHERE (? = 0 OR id < ?) AND (? = '' OR actor = ?) ORDER BY id DESC LIMIT ?`, beforeID, beforeID, actor, actor, limit)
}
