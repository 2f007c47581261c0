// Package db opens Herald's database, SQLite (the embedded default) or
// PostgreSQL (for more than one process), and hides the few places where the
// two differ. Both engines take the same SQL text with $1-style placeholders;
// the schema is kept parallel, one migration directory per engine.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

// The engines Herald runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Querier is what *sql.DB and *sql.Tx have in common, so store methods can
// run inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. On SQLite, writes go through a single connection
// (SQLite has one writer; queuing in Go is cheaper than busy-waiting in the
// engine) and reads through a pool. On PostgreSQL both are the same pool.
type DB struct {
	Engine Engine
	write  *sql.DB
	read   *sql.DB
	// prepareInserts says inserts are prepared by name on PostgreSQL
	// (see insert); not when the database URL chose its own query mode.
	prepareInserts bool
}

// Options says where the data lives.
type Options struct {
	// URL selects PostgreSQL when it starts with postgres:// or postgresql://.
	URL string
	// DataDir holds the SQLite file when URL is empty or a sqlite path.
	DataDir string
	// MaxConns caps the PostgreSQL pool (0: 32).
	MaxConns int
}

// Open connects to the database named by opts. It does not migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	var (
		d   *DB
		err error
	)
	if IsPostgresURL(opts.URL) {
		d, err = openPostgres(opts)
	} else {
		d, err = openSQLite(opts)
	}
	if err != nil {
		return nil, err
	}
	if err := d.write.PingContext(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("db: ping %s: %w", d.Engine, err)
	}
	return d, nil
}

// IsPostgresURL reports whether u names a PostgreSQL server.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

func openPostgres(opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	// Plan each statement for its own values, as SQLite always does: send
	// it as the unnamed statement, which the server plans at every run,
	// keeping only its description on our side. A named prepared statement
	// settles on one generic plan after five runs, and a plan made while a
	// table was nearly empty scans it whole once it is not: an import of
	// 100,000 contacts into a new account looked each row's phone number up
	// by reading every contact imported before it, and had not finished
	// after ten minutes.
	//
	// This is done per statement and not with plan_cache_mode =
	// force_custom_plan, which also re-plans the server's own cached
	// queries: the foreign-key checks behind every insert, planned anew
	// for every row, took a fifth of the server's CPU in a promotion. Bulk
	// inserts, whose plan does not depend on their values, are prepared
	// (see insert). A database URL that names its own
	// default_query_exec_mode keeps it for every statement.
	ownMode := strings.Contains(opts.URL, "default_query_exec_mode=")
	if !ownMode {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	pool := stdlib.OpenDB(*cfg)
	n := opts.MaxConns
	if n <= 0 {
		n = 32
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{Engine: Postgres, write: pool, read: pool, prepareInserts: !ownMode}, nil
}

// sqlitePragmas are set on every SQLite connection. synchronous=FULL because
// an accepted message must survive a power cut; with group commits it costs
// nothing measurable (see docs/benchmarks.md). temp_store=MEMORY keeps the
// statement journal of every savepoint (each piece of a group commit runs
// in one) in memory: in a file, its writes took 2 s of the writer's 3 s of
// file writes in a 100,000-message promotion.
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"foreign_keys(ON)",
	"synchronous(FULL)",
	"temp_store(MEMORY)",
}

func openSQLite(opts Options) (*DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(opts.URL, "sqlite://"), "file:")
	if path == "" {
		dir := opts.DataDir
		if dir == "" {
			dir = "herald-data"
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: data dir: %w", err)
		}
		path = filepath.Join(dir, "herald.db")
	}
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	q.Set("_time_format", "sqlite")
	base := "file:" + path + "?" + q.Encode()

	drv := &sqlite.Driver{}
	write := sql.OpenDB(cachingConnector{dsn: base + "&_txlock=immediate", drv: drv})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)

	read := sql.OpenDB(cachingConnector{dsn: base + "&mode=ro", drv: drv})
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return &DB{Engine: SQLite, write: write, read: read}, nil
}

// Close closes every connection.
func (d *DB) Close() error {
	err := d.write.Close()
	if d.read != d.write {
		err = errors.Join(err, d.read.Close())
	}
	return err
}

// Optimize refreshes the query planner's statistics where tables have
// changed enough to need it; it costs next to nothing when nothing changed.
// Herald runs it every few seconds and after large imports, because plans
// made without statistics can read a whole account's rows where a few were
// wanted. SQLite keeps none until told. PostgreSQL's autovacuum keeps them,
// but it wakes once a minute, may be switched off, and a promotion can
// write 100,000 messages before it looks: without statistics the planner
// took the account's 98,000 messages for one, and the frequency cap's check
// read them all for every batch of a hundred (120 ms each, measured).
func (d *DB) Optimize(ctx context.Context) error {
	if d.Engine == Postgres {
		return d.analyzeStale(ctx)
	}
	// analysis_limit samples large indexes instead of reading them whole;
	// 0x10002 looks at every table, analysing those that need it.
	for _, q := range []string{`PRAGMA analysis_limit = 1000`, `PRAGMA optimize = 0x10002`} {
		if _, err := d.write.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("db: optimize: %w", err)
		}
	}
	return nil
}

// analyzeStale analyses the tables of Herald's schema that have changed by
// more than a tenth since they were last analysed (autovacuum's own rule),
// at most once a minute unless they have grown by half and by 10,000 rows
// since: a table under a promotion's status updates changes by a tenth
// every few seconds, and analysing messages every ten took a tenth of a
// core; the metrics inbox swings between hundreds and thousands of rows.
func (d *DB) analyzeStale(ctx context.Context) error {
	rows, err := d.read.QueryContext(ctx, `SELECT quote_ident(s.relname) FROM pg_stat_user_tables s
		JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
		AND (coalesce(greatest(s.last_analyze, s.last_autoanalyze), '-infinity') < now() - interval '1 minute'
			OR s.n_live_tup > 10000 + 1.5 * greatest(c.reltuples, 0))`)
	if err != nil {
		return fmt.Errorf("db: optimize: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("db: optimize: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: optimize: %w", err)
	}
	for _, t := range tables {
		if _, err := d.write.ExecContext(ctx, "ANALYZE "+t); err != nil {
			return fmt.Errorf("db: optimize %s: %w", t, err)
		}
	}
	return nil
}

// KeyedBy returns a tenancy column for a query that picks rows by a key
// of their own (primary key, carrier id), written so the planner cannot
// choose an index on it. With an account index on hand, SQLite may walk
// every row of the account and test each against the key list instead of
// looking the keys up (100 of an account's 20,000 contacts: 11 ms instead
// of 0.3 ms, measured). PostgreSQL does the same while a table has grown
// since autovacuum last analysed it: finding three messages by carrier id
// it read 13,000 entries of the account index first (2.5 ms instead of
// 0.05 ms, measured on a table filled in the last 20 seconds).
func (d *DB) KeyedBy(col string) string {
	if d.Engine == SQLite {
		return "+" + col // unary plus: the same value, no index
	}
	return "(" + col + " || '')" // the same text, no index
}

// Write is the handle for statements that change data.
func (d *DB) Write() *sql.DB { return d.write }

// Read is the handle for queries. On SQLite it never waits for the writer.
func (d *DB) Read() *sql.DB { return d.read }

// InTx runs fn in a write transaction and commits when fn returns nil. On
// SQLite the transaction starts IMMEDIATE, so it never fails half-way for
// want of the write lock.
func (d *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	// Roll back on every way out but a commit, a panic included, so a
	// failed caller never leaves the write lock held.
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine. Callers that must say which value was taken look it up in
// the same transaction first; this is the backstop for a concurrent writer.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
