package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// steps runs the statements of an append (or of a read that shares its
// loaders). Statements are queued and run by flush, in the order queued:
// on PostgreSQL as one pipelined batch, one round trip for the lot; on
// SQLite each at once, in-process, where a round trip costs nothing. A read
// hands its rows to its callback during flush, so what it fills is ready
// when flush returns. After a failed statement the rest are skipped and
// flush returns the first error. A read's callback that fails does not stop
// what was already sent: callbacks in a step that ends in COMMIT must not
// fail.
//
// Round trips matter on PostgreSQL: while an append waits for one, the CPU
// is busy answering the requests of the previous commit, and each wait
// stretches. An append makes three (BEGIN, its events and what they refer
// to; the positions and counts they touch, none when all are cached; the
// ledger's changes and COMMIT).
type steps interface {
	query(query string, args []any, read func(rows) error)
	exec(query string, args ...any)
	// after queues f to run once the statements queued before it have.
	after(f func() error)
	flush(ctx context.Context) error
}

// rows is what a read callback sees: *sql.Rows or pgx.Rows.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// queryExecer is a *sql.DB, *sql.Tx or preparedTx.
type queryExecer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// sqlSteps runs each statement at once through database/sql.
type sqlSteps struct {
	ctx context.Context
	q   queryExecer
	err error
}

func newSQLSteps(ctx context.Context, q queryExecer) *sqlSteps { return &sqlSteps{ctx: ctx, q: q} }

func (s *sqlSteps) query(query string, args []any, read func(rows) error) {
	if s.err != nil {
		return
	}
	r, err := s.q.QueryContext(s.ctx, query, args...)
	if err != nil {
		s.err = err
		return
	}
	defer r.Close()
	if err := read(r); err != nil {
		s.err = err
		return
	}
	s.err = r.Err()
}

func (s *sqlSteps) exec(query string, args ...any) {
	if s.err != nil {
		return
	}
	_, s.err = s.q.ExecContext(s.ctx, query, args...)
}

func (s *sqlSteps) after(f func() error) {
	if s.err == nil {
		s.err = f()
	}
}

func (s *sqlSteps) flush(context.Context) error {
	err := s.err
	s.err = nil
	return err
}

// pipeSteps queues statements for one pgx batch on conn, sent by flush.
type pipeSteps struct {
	conn  *sql.Conn
	batch pgx.Batch
	ops   []pipeOp
}

// pipeOp is a queued statement (read nil for an exec) or an after func.
type pipeOp struct {
	stmt  bool
	read  func(rows) error
	after func() error
}

func (p *pipeSteps) query(query string, args []any, read func(rows) error) {
	p.batch.Queue(query, args...)
	p.ops = append(p.ops, pipeOp{stmt: true, read: read})
}

func (p *pipeSteps) exec(query string, args ...any) {
	p.batch.Queue(query, args...)
	p.ops = append(p.ops, pipeOp{stmt: true})
}

func (p *pipeSteps) after(f func() error) { p.ops = append(p.ops, pipeOp{after: f}) }

func (p *pipeSteps) flush(ctx context.Context) error {
	ops, n := p.ops, p.batch.Len()
	defer func() { p.batch, p.ops = pgx.Batch{}, nil }()
	if n == 0 {
		for _, op := range ops {
			if err := op.after(); err != nil {
				return err
			}
		}
		return nil
	}
	return withPgx(p.conn, func(c *pgx.Conn) error {
		br := c.SendBatch(ctx, &p.batch)
		var first error
		i := 0
		for _, op := range ops {
			if !op.stmt {
				if first == nil {
					first = op.after()
				}
				continue
			}
			i++
			var err error
			if op.read == nil {
				_, err = br.Exec()
			} else {
				var r pgx.Rows
				if r, err = br.Query(); err == nil {
					if first == nil {
						err = op.read(r)
					}
					r.Close()
					if err == nil {
						err = r.Err()
					}
				}
			}
			if err != nil && first == nil {
				first = fmt.Errorf("statement %d of %d: %w", i, n, err)
			}
		}
		if err := br.Close(); err != nil && first == nil {
			first = err
		}
		return first
	})
}

// withPgx runs f on the pgx connection under conn.
func withPgx(conn *sql.Conn, f func(*pgx.Conn) error) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: PostgreSQL connection is not pgx")
		}
		return f(c.Conn())
	})
}

// rollbackPgx ends conn's transaction after a failure. A connection that
// cannot even roll back is dropped from the pool rather than handed on in
// an unknown state.
func rollbackPgx(ctx context.Context, conn *sql.Conn) {
	_ = withPgx(conn, func(c *pgx.Conn) error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := c.Exec(rctx, "ROLLBACK"); err != nil {
			return driver.ErrBadConn
		}
		return nil
	})
}
