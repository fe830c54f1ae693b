package store

import (
	"context"
	"database/sql"
	"sync"
)

// prepared keeps the statements of appends prepared on SQLite's single
// writer connection, so a commit binds and runs them instead of parsing its
// multi-row statements again (chunkEnd keeps their texts few). A statement
// first seen inside a transaction runs unprepared there and is prepared
// after it, once the writer connection is free again.
type prepared struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]bool
}

// maxPrepared bounds the statements kept: a few chunk sizes of the dozen
// statements an append runs.
const maxPrepared = 512

func newPrepared(db *sql.DB) *prepared {
	return &prepared{db: db, stmts: map[string]*sql.Stmt{}, missed: map[string]bool{}}
}

// in returns the statement for query bound to tx, or nil (then noted, to be
// prepared later) when it is not prepared yet.
func (p *prepared) in(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	st := p.stmts[query]
	if st == nil && len(p.stmts)+len(p.missed) < maxPrepared {
		p.missed[query] = true
	}
	p.mu.Unlock()
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// prepareMissed prepares the statements noted by in. It needs the writer
// connection: call it outside any transaction. It does not hold p.mu while
// it waits for the connection — an append holding the connection may be
// waiting for p.mu in in. A failure only leaves the statement unprepared.
func (p *prepared) prepareMissed(ctx context.Context) {
	if p == nil {
		return
	}
	p.mu.Lock()
	queries := make([]string, 0, len(p.missed))
	for q := range p.missed {
		queries = append(queries, q)
		delete(p.missed, q)
	}
	p.mu.Unlock()
	for _, q := range queries {
		st, err := p.db.PrepareContext(ctx, q) //nolint:sqlclosecheck // kept in p.stmts until close
		if err != nil {
			continue
		}
		p.mu.Lock()
		if p.stmts[q] == nil {
			p.stmts[q], st = st, nil
		}
		p.mu.Unlock()
		if st != nil { // prepared meanwhile by another append, or closed
			_ = st.Close()
		}
	}
}

func (p *prepared) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, st := range p.stmts {
		_ = st.Close()
		delete(p.stmts, q)
	}
}

// preparedTx runs a transaction's queries through prepared statements when
// there are some.
type preparedTx struct {
	*sql.Tx
	p *prepared
}

func (t preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.p.in(ctx, t.Tx, query); st != nil {
		defer func() { _ = st.Close() }()    // the transaction's handle only: the statement stays prepared
		return st.QueryContext(ctx, args...) //nolint:sqlclosecheck // the caller closes the rows
	}
	return t.Tx.QueryContext(ctx, query, args...) //nolint:sqlclosecheck // the caller closes the rows
}

func (t preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.p.in(ctx, t.Tx, query); st != nil {
		defer func() { _ = st.Close() }() // the transaction's handle only: the statement stays prepared
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.p.in(ctx, t.Tx, query); st != nil {
		defer func() { _ = st.Close() }() // the transaction's handle only: the statement stays prepared
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}
