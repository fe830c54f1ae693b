package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one stored line of the audit trail.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Remote string    `json:"remote"`
	Result string    `json:"result"`
	Status int       `json:"status,omitempty"`
}

// AppendAudit adds a line to the audit trail. The trail is append-only:
// there is no update, and DeleteAuditBefore only applies the retention.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.w.ExecContext(ctx, s.rebind(`INSERT INTO audit_log (at, actor, role, action, target, remote, result, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), e.At.UnixMicro(), e.Actor, e.Role, e.Action, e.Target, e.Remote, e.Result, e.Status)
	if err != nil {
		return fmt.Errorf("store: append to the audit trail: %w", err)
	}
	return nil
}

// AuditLog returns audit lines after an ID, oldest first, optionally only
// one actor's or one action's.
func (s *Store) AuditLog(ctx context.Context, afterID int64, actor, action string, limit int) ([]AuditEntry, error) {
	return s.auditLines(ctx, `WHERE id > ? AND (? = '' OR actor = ?) AND (? = '' OR action = ?) ORDER BY id LIMIT ?`,
		afterID, actor, actor, action, action, limit)
}

// auditLines reads audit lines; tail is the query's WHERE, ORDER BY and
// LIMIT.
func (s *Store) auditLines(ctx context.Context, tail string, args ...any) ([]AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT id, at, actor, role, action, target, remote, result, status FROM audit_log `+tail), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read the audit trail: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Target, &e.Remote, &e.Result, &e.Status); err != nil {
			return nil, fmt.Errorf("store: read the audit trail: %w", err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read the audit trail: %w", err)
	}
	return out, nil
}

// DeleteAuditBefore applies the retention: lines older than before go.
func (s *Store) DeleteAuditBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.rebind(`DELETE FROM audit_log WHERE at < ?`), before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("store: apply audit retention: %w", err)
	}
	return res.RowsAffected()
}
