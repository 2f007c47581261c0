package db

import (
	"context"
	"database/sql/driver"
	"reflect"

	"modernc.org/sqlite"
)

// SQLite parses every statement it is handed, and database/sql hands the
// driver the SQL text on each call, so without a cache an insert spends
// more time in SQLite's parser than in its B-tree (a CPU profile of a
// contact import showed 36% in sqlite3_prepare). This connector keeps each
// connection's prepared statements by query text and reuses them.
// PostgreSQL needs none of this: pgx caches statements per connection.

// maxCachedStmts bounds a connection's cache. Herald's queries are
// constants, so it is never reached in practice; past it statements are
// prepared for one use.
const maxCachedStmts = 512

type cachingConnector struct {
	dsn string
	drv *sqlite.Driver
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// cachingConn wraps one SQLite connection. database/sql never uses a
// connection from two goroutines at once, so it needs no lock.
type cachingConn struct {
	conn  driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt driver.Stmt
	// busy is set while rows from the statement are open: the statement
	// cannot run again until they are closed, so a nested use of the same
	// query gets a statement of its own.
	busy bool
}

var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

// acquire returns a statement for query and whether it is a one-off that
// the caller must close.
func (c *cachingConn) acquire(ctx context.Context, query string) (*cachedStmt, bool, error) {
	if cs, ok := c.stmts[query]; ok && !cs.busy {
		return cs, false, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	cs := &cachedStmt{stmt: st}
	if _, taken := c.stmts[query]; taken || len(c.stmts) >= maxCachedStmts {
		return cs, true, nil
	}
	c.stmts[query] = cs
	return cs, false, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		// Scripts (migrations) and argument-free statements go straight
		// through; only a single statement can be kept prepared.
		return c.conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	cs, oneOff, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if oneOff {
		defer cs.stmt.Close()
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, oneOff, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if oneOff {
			cs.stmt.Close()
		}
		return nil, err
	}
	cs.busy = true
	return &releasingRows{Rows: rows, release: func() {
		cs.busy = false
		if oneOff {
			cs.stmt.Close()
		}
	}}, nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, anonymousParams(query))
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.conn.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.conn.(driver.Validator).IsValid() }

func (c *cachingConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.stmt.Close()
		delete(c.stmts, q)
	}
	return c.conn.Close()
}

// releasingRows frees its statement for reuse when closed.
type releasingRows struct {
	driver.Rows
	release func()
	closed  bool
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.release()
	}
	return err
}

// The column-type methods are passed through so sql.Rows.ColumnTypes works.

func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *releasingRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *releasingRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}
