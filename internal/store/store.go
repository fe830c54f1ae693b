package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect is the SQL engine behind a Store.
type Dialect int

// Supported engines.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is an open database: writer connections (SQLite allows one writer;
// PostgreSQL appends are serialised by an advisory lock anyway) and a pool
// of readers.
type Store struct {
	dialect Dialect
	w       *sql.DB
	r       *sql.DB
	// where is the database for messages, without credentials.
	where string
	// prepared holds the SQLite writer's prepared statements (nil on
	// PostgreSQL, where pgx caches statements itself).
	prepared *prepared
	// positions caches ledger positions between appends.
	positions *positionCache
}

// Open connects to a database named by a URL and runs pending migrations.
//
//	sqlite:/var/lib/tillsync/hub.db   (or a plain path)
//	postgres://user@host:5432/db?sslmode=disable
func Open(ctx context.Context, dsn string) (*Store, error) {
	var s *Store
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(dsn)
	default:
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(path string) (*Store, error) {
	w, r, err := OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	return &Store{dialect: SQLite, w: w, r: r, where: path, prepared: newPrepared(w), positions: newPositionCache(maxCachedPositions)}, nil
}

// OpenSQLite opens a SQLite database file the way every tillsync process
// does — WAL, synchronous=FULL, one writer connection with immediate
// transactions, and a small pool of query-only readers — creating its
// directory if needed. The edge's local log uses it too.
func OpenSQLite(path string) (writer, readers *sql.DB, err error) {
	if path == "" {
		return nil, nil, errors.New("store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	// synchronous=FULL: a commit returns only after the WAL is fsynced, so an
	// acknowledged event survives power loss. busy_timeout covers the moments
	// a checkpoint holds the lock.
	// temp_store and cache_size keep SQLite's statement journal and page
	// cache in memory: the multi-row upserts of a batch spill otherwise.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("store: open SQLite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(context.Background()); err != nil {
		_ = w.Close()
		return nil, nil, fmt.Errorf("store: open SQLite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, nil, fmt.Errorf("store: open SQLite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return w, r, nil
}

func openPostgres(dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL URL: %w", err)
	}
	// Writers get connections of their own: an append waiting for a
	// reader (a destination reading the log, a dashboard page) to hand back
	// a pooled connection holds up every event of its batch.
	w := stdlib.OpenDB(*cfg)
	w.SetMaxOpenConns(4)
	w.SetMaxIdleConns(4)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	ctx, cancel := context.WithTimeout(context.Background(), defaultConnectTimeout)
	defer cancel()
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		_ = db.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL at %s: %w", redactURL(dsn), err)
	}
	return &Store{dialect: Postgres, w: w, r: db, where: redactURL(dsn), positions: newPositionCache(maxCachedPositions)}, nil
}

// redactURL drops the password from a database URL for messages and logs.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// String names the database without credentials.
func (s *Store) String() string { return s.dialect.String() + ":" + s.where }

// Close closes every connection.
func (s *Store) Close() error {
	s.prepared.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Queries in this
// package never contain a literal question mark.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// values returns "(?,?,?),(?,?,?)" for rows × cols placeholders.
func values(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// chunkRows is how many rows go in one multi-row statement: under SQLite's
// 32,766 and PostgreSQL's 65,535 parameter limits for every table here.
const chunkRows = 400

// chunkEnd returns where the chunk of n rows that begins at start ends:
// chunkRows rows while that many are left, then the largest power of two
// that fits. Chunks of only these few sizes keep the set of statement
// texts small, so prepared statements (SQLite, below; pgx's statement cache
// on PostgreSQL) are reused instead of every batch size parsing anew.
func chunkEnd(start, n int) int {
	left := n - start
	if left >= chunkRows {
		return start + chunkRows
	}
	return start + 1<<(bits.Len(uint(left))-1)
}

// LightTx runs fn in a write transaction that SQLite does not fsync at
// commit (synchronous=NORMAL for this transaction only; WAL mode keeps it
// consistent, and the next fsynced commit makes it durable too). For
// bookkeeping whose loss in a power cut costs only a harmless redo — a
// cursor that re-delivers, health that is re-reported, synced marks that
// make an edge resend what the hub will call duplicates — never for
// events. On PostgreSQL it is an ordinary transaction.
func LightTx(ctx context.Context, db *sql.DB, sqlite bool, fn func(*sql.Tx) error) error {
	if !sqlite {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return err
	}
	// Back to FULL whatever happens: the next user of this connection may
	// append events.
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`) }()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// light runs fn in a LightTx on the store's writer.
func (s *Store) light(ctx context.Context, fn func(*sql.Tx) error) error {
	return LightTx(ctx, s.w, s.dialect == SQLite, fn)
}
