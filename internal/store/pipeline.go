package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// writer runs the writes of one transaction. On SQLite each statement runs
// at once (it is in-process: a round trip costs nothing). On PostgreSQL the
// statements are queued and sent as one pipelined batch at flush: a batch
// of a thousand events writes moves, positions, documents and voids in one
// round trip instead of a dozen.
type writer interface {
	exec(ctx context.Context, query string, args ...any) error
	flush(ctx context.Context) error
}

type txWriter struct {
	tx interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	}
}

func (w txWriter) exec(ctx context.Context, q string, args ...any) error {
	_, err := w.tx.ExecContext(ctx, q, args...)
	return err
}

func (txWriter) flush(context.Context) error { return nil }

// pipeWriter queues statements for one pgx batch on the connection the
// transaction runs on.
type pipeWriter struct {
	conn  *sql.Conn
	batch pgx.Batch
}

func (w *pipeWriter) exec(_ context.Context, q string, args ...any) error {
	w.batch.Queue(q, args...)
	return nil
}

func (w *pipeWriter) flush(ctx context.Context) error {
	if w.batch.Len() == 0 {
		return nil
	}
	n := w.batch.Len()
	err := w.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: PostgreSQL connection is not pgx")
		}
		br := c.Conn().SendBatch(ctx, &w.batch)
		var first error
		for i := 0; i < n; i++ {
			if _, err := br.Exec(); err != nil && first == nil {
				first = fmt.Errorf("statement %d of %d: %w", i+1, n, err)
			}
		}
		if err := br.Close(); err != nil && first == nil {
			first = err
		}
		return first
	})
	w.batch = pgx.Batch{}
	return err
}
