package edge

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

// outbox is the edge's local log. Each event gets the next store sequence
// number (store_seq) when it is first stored; it stays until the hub has it
// and the retention period has passed, so a POS retry of an old event is
// still answered "duplicate" locally.
type outbox struct {
	w, r *sql.DB
	// next is the next store_seq; the committer is the only writer.
	next int64
	// unsynced counts the events awaiting the hub (not synced, not
	// rejected): read on every uplink batch and health check, it is kept
	// here rather than counted over a backlog of maybe millions of rows.
	// It changes only after the transaction that changed the rows commits.
	unsynced atomic.Int64
	// rejected counts the events the hub refused (kept, never trimmed),
	// read by every health check.
	rejected atomic.Int64
}

const outboxSchema = `
CREATE TABLE IF NOT EXISTS outbox (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	fingerprint TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	body        TEXT NOT NULL,
	synced_at   BIGINT NOT NULL DEFAULT 0,
	hub_seq     BIGINT NOT NULL DEFAULT 0,
	rejected    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (synced_at, seq);
CREATE INDEX IF NOT EXISTS outbox_hub_seq ON outbox (hub_seq);
CREATE TABLE IF NOT EXISTS snapshot (
	sku TEXT PRIMARY KEY,
	body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);`

func openOutbox(path string) (*outbox, error) {
	w, r, err := store.OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	o := &outbox{w: w, r: r}
	for _, stmt := range strings.Split(outboxSchema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := w.ExecContext(context.Background(), stmt); err != nil {
			_ = o.close()
			return nil, fmt.Errorf("edge: prepare local log %s: %w", path, err)
		}
	}
	// store_seq never goes back, even when retention has trimmed every row.
	var maxSeq int64
	if err := w.QueryRowContext(context.Background(), `SELECT COALESCE(MAX(seq), 0) FROM outbox`).Scan(&maxSeq); err != nil {
		_ = o.close()
		return nil, fmt.Errorf("edge: read local log %s: %w", path, err)
	}
	if v, ok, err := o.meta(context.Background(), "max_seq"); err == nil && ok {
		var m int64
		if _, err := fmt.Sscan(v, &m); err == nil && m > maxSeq {
			maxSeq = m
		}
	}
	o.next = maxSeq + 1
	var unsynced, rejected int64
	if err := w.QueryRowContext(context.Background(), `SELECT COALESCE(SUM(synced_at = 0 AND rejected = ''), 0), COALESCE(SUM(rejected <> ''), 0) FROM outbox`).Scan(&unsynced, &rejected); err != nil {
		_ = o.close()
		return nil, fmt.Errorf("edge: read local log %s: %w", path, err)
	}
	o.unsynced.Store(unsynced)
	o.rejected.Store(rejected)
	return o, nil
}

func (o *outbox) close() error {
	err := o.w.Close()
	if e := o.r.Close(); err == nil {
		err = e
	}
	return err
}

// Commit implements intake.Sink: it stores new events with their store_seq
// and reports duplicates, all in one fsynced transaction.
func (o *outbox) Commit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	tx, err := o.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("edge: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	existing := map[string]struct {
		seq int64
		fp  string
	}{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, seq, fingerprint FROM outbox WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("edge: look up duplicates: %w", err)
		}
		for rows.Next() {
			var id, fp string
			var seq int64
			if err := rows.Scan(&id, &seq, &fp); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("edge: look up duplicates: %w", err)
			}
			existing[id] = struct {
				seq int64
				fp  string
			}{seq, fp}
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("edge: look up duplicates: %w", err)
		}
	}
	out := make([]intake.Outcome, len(events))
	next := o.next
	var args []any
	rowsN := 0
	flush := func() error {
		if rowsN == 0 {
			return nil
		}
		q := `INSERT INTO outbox (seq, id, fingerprint, received_at, body) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", rowsN), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("edge: store events: %w", err)
		}
		args, rowsN = args[:0], 0
		return nil
	}
	for i, e := range events {
		e.Normalize()
		fpb := e.Fingerprint()
		fp := hex.EncodeToString(fpb[:])
		if ex, ok := existing[e.ID]; ok {
			if ex.fp == fp {
				out[i] = intake.Outcome{Status: intake.StatusDuplicate, Seq: ex.seq}
			} else {
				out[i] = intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict,
					Message: fmt.Sprintf("event ID %q is already used by a different event (store_seq %d)", e.ID, ex.seq)}}
			}
			continue
		}
		e.StoreSeq = next
		body, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("edge: encode event %s: %w", e.ID, err)
		}
		existing[e.ID] = struct {
			seq int64
			fp  string
		}{next, fp}
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: next}
		args = append(args, next, e.ID, fp, e.ReceivedAt.UnixMicro(), string(body))
		rowsN++
		next++
		if rowsN == 400 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if next != o.next {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('max_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint(next-1)); err != nil {
			return nil, fmt.Errorf("edge: record sequence: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("edge: commit: %w", err)
	}
	o.unsynced.Add(next - o.next)
	o.next = next
	return out, nil
}

// pendingRow is an unsynced event ready for the uplink.
type pendingRow struct {
	seq        int64
	receivedAt time.Time
	body       []byte
}

// pending returns up to n unsynced events not in skip: the oldest, and
// when a backlog is larger than n, also the newest `live` ones so that
// fresh sales are not stuck behind hours of backlog.
func (o *outbox) pending(ctx context.Context, n, live int, skip map[int64]bool) ([]pendingRow, error) {
	take := func(order string, limit int) ([]pendingRow, error) {
		rows, err := o.r.QueryContext(ctx, `SELECT seq, received_at, body FROM outbox WHERE synced_at = 0 AND rejected = '' ORDER BY seq `+order+` LIMIT ?`, limit+len(skip))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []pendingRow
		for rows.Next() && len(out) < limit {
			var p pendingRow
			var rec int64
			var body string
			if err := rows.Scan(&p.seq, &rec, &body); err != nil {
				return nil, err
			}
			if skip[p.seq] {
				continue
			}
			p.receivedAt, p.body = time.UnixMicro(rec).UTC(), []byte(body)
			out = append(out, p)
		}
		return out, rows.Err()
	}
	old, err := take("ASC", n)
	if err != nil || len(old) < n || live <= 0 {
		return old, err
	}
	// A backlog: keep room for the newest events.
	fresh, err := take("DESC", live)
	if err != nil {
		return nil, err
	}
	cutoff := old[len(old)-1].seq
	var out []pendingRow
	for i := len(fresh) - 1; i >= 0; i-- { // ascending
		if fresh[i].seq > cutoff {
			out = append(out, fresh[i])
		}
	}
	keep := n - len(out)
	return append(old[:keep], out...), nil
}

// markSynced records the hub's answer: stored (with its hub seq) or
// rejected (kept locally, with the reason, never resent). Only rows still
// awaiting the hub change, so the unsynced count stays exact whatever the
// answer repeats.
func (o *outbox) markSynced(ctx context.Context, now time.Time, synced map[int64]int64, rejected map[int64]string) error {
	var done, refused int64
	// Not fsynced on its own: lost in a power cut, the marks only make
	// the edge resend events the hub answers "duplicate".
	err := store.LightTx(ctx, o.w, true, func(tx *sql.Tx) error {
		done, refused = 0, 0
		// One statement per chunk: UPDATE … FROM (VALUES (store_seq, hub_seq), …).
		pairs := make([][2]int64, 0, len(synced))
		for seq, hubSeq := range synced {
			pairs = append(pairs, [2]int64{seq, hubSeq})
		}
		for start := 0; start < len(pairs); start += 400 {
			chunk := pairs[start:min(start+400, len(pairs))]
			args := make([]any, 0, 1+2*len(chunk))
			args = append(args, now.UnixMicro())
			for _, p := range chunk {
				args = append(args, p[0], p[1])
			}
			q := `UPDATE outbox SET synced_at = ?, hub_seq = v.column2 FROM (VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?,?),", len(chunk)), ",") + `) AS v WHERE outbox.seq = v.column1` + stillUnsynced
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("edge: mark synced: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("edge: mark synced: %w", err)
			}
			done += n
		}
		for seq, why := range rejected {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET rejected = ? WHERE seq = ?`+stillUnsynced, why, seq)
			if err != nil {
				return fmt.Errorf("edge: mark rejected: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("edge: mark rejected: %w", err)
			}
			done += n
			refused += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	o.unsynced.Add(-done)
	o.rejected.Add(refused)
	return nil
}

// stillUnsynced limits an UPDATE of outbox rows to those awaiting the hub.
const stillUnsynced = ` AND outbox.synced_at = 0 AND outbox.rejected = ''`

// backlog returns how many events await the hub and when the oldest of
// them in store order was received (zero time when none).
func (o *outbox) backlog(ctx context.Context) (int64, time.Time, error) {
	n := o.unsynced.Load()
	if n == 0 {
		return 0, time.Time{}, nil
	}
	// The index on (synced_at, seq) finds it at once.
	var oldest int64
	err := o.r.QueryRowContext(ctx, `SELECT received_at FROM outbox WHERE synced_at = 0 AND rejected = '' ORDER BY seq LIMIT 1`).Scan(&oldest)
	if err == sql.ErrNoRows { // synced between the count and this read
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("edge: read backlog: %w", err)
	}
	return n, time.UnixMicro(oldest).UTC(), nil
}

// rejectedCount returns how many events the hub refused.
func (o *outbox) rejectedCount() int64 { return o.rejected.Load() }

// trim deletes synced events older than the retention.
func (o *outbox) trim(ctx context.Context, before time.Time) (int64, error) {
	res, err := o.w.ExecContext(ctx, `DELETE FROM outbox WHERE synced_at > 0 AND synced_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("edge: trim local log: %w", err)
	}
	return res.RowsAffected()
}

func (o *outbox) meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := o.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return v, err == nil, err
}

func (o *outbox) setMeta(ctx context.Context, key, value string) error {
	_, err := o.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func decodeRows(rows *sql.Rows) ([]*event.Event, error) {
	defer rows.Close()
	var out []*event.Event
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		e := new(event.Event)
		if err := json.Unmarshal([]byte(body), e); err != nil {
			return nil, fmt.Errorf("edge: local event does not decode: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
