// Package storetest opens real databases for tests: a fresh SQLite file, and
// a fresh schema in the PostgreSQL named by TILLSYNC_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test). Without PostgreSQL the
// PostgreSQL cases skip with a message, unless TILLSYNC_REQUIRE_SERVICES=1,
// as in CI, makes them fail.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/tillsync/tillsync/internal/store"
)

// DefaultPostgres is used when TILLSYNC_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// RequireServices reports whether tests must fail, not skip, when a service
// they need is unreachable.
func RequireServices() bool { return os.Getenv("TILLSYNC_REQUIRE_SERVICES") == "1" }

// Unavailable skips the test, or fails it when services are required.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if RequireServices() {
		t.Fatalf("%s is required (TILLSYNC_REQUIRE_SERVICES=1) but unreachable: %v", service, err)
	}
	t.Skipf("skipping: %s unreachable (%v); start it or set TILLSYNC_TEST_POSTGRES", service, err)
}

// Engine is one database engine to run a suite against.
type Engine struct {
	Name string
	// DSN returns a URL for a fresh, empty database of this engine.
	DSN func(t testing.TB) string
}

// Engines returns SQLite and PostgreSQL.
func Engines() []Engine {
	return []Engine{
		{Name: "sqlite", DSN: SQLiteDSN},
		{Name: "postgres", DSN: PostgresDSN},
	}
}

// SQLiteDSN returns a fresh SQLite database file in the test's temp dir.
func SQLiteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "tillsync.db")
}

// PostgresDSN creates a fresh schema, dropped after the test, and returns a
// URL whose search_path points at it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TILLSYNC_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", base)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			_ = db.Close()
		}
		Unavailable(t, "PostgreSQL", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		_ = db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TILLSYNC_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens a fresh store of the engine, closed after the test.
func Open(t testing.TB, e Engine) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), e.DSN(t))
	if err != nil {
		t.Fatalf("open %s store: %v", e.Name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
