// Package dbtest gives each test a fresh, migrated database on every engine:
// a new SQLite file, and a new PostgreSQL schema when a server is configured.
//
// PostgreSQL comes from HERALD_TEST_POSTGRES_URL. Without it the PostgreSQL
// half of a test is skipped, unless HERALD_REQUIRE_POSTGRES=1, in which case
// the test fails: CI sets both, so a missing server can never pass quietly.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/heraldsms/herald/internal/db"
)

// EachEngine runs fn as a parallel subtest once per engine, each with its
// own fresh database.
func EachEngine(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, e))
		})
	}
}

// New returns a fresh, migrated database of engine e, closed and removed
// when the test ends.
func New(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, Options(t, e))
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", e, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatalf("dbtest: migrate %s: %v", e, err)
	}
	return d
}

// Options names a fresh, empty database of engine e for one test: a new
// SQLite directory, or a new PostgreSQL schema dropped at cleanup.
func Options(t testing.TB, e db.Engine) db.Options {
	t.Helper()
	var opts db.Options
	switch e {
	case db.SQLite:
		opts.DataDir = t.TempDir()
	case db.Postgres:
		opts.URL = freshSchema(t)
		opts.MaxConns = 8
	}
	return opts
}

// PostgresURL returns the server to test against, skipping or failing the
// test when there is none (see the package comment).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("HERALD_REQUIRE_POSTGRES") == "1" {
			t.Fatal("dbtest: HERALD_REQUIRE_POSTGRES=1 but HERALD_TEST_POSTGRES_URL is not set")
		}
		t.Skip("dbtest: set HERALD_TEST_POSTGRES_URL to run against PostgreSQL")
	}
	return u
}

// freshSchema creates a schema of its own for one test and returns a URL
// whose connections use it; the schema is dropped at cleanup.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("dbtest: open postgres: %v", err)
	}
	defer admin.Close()
	ctx := context.Background()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("dbtest: postgres at HERALD_TEST_POSTGRES_URL is not answering: %v", err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "herald_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("dbtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: HERALD_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
