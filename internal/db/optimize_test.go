package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// TestKeyedLookupUsesTheKey checks the query shape Herald uses to find an
// account's rows by primary key: without planner statistics SQLite walks
// every contact of the account through the account index when the account
// column is plain; written with KeyedBy it looks each key up.
func TestKeyedLookupUsesTheKey(t *testing.T) {
	d := dbtest.New(t, db.SQLite)
	ctx := context.Background()
	_, err := d.Write().ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at)
		VALUES ('acc_1', 'Acme', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
	require.NoError(t, err)
	err = d.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 5000 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (id, account_id, phone_e164, phone_country, created_at, updated_at)
				VALUES ($1, 'acc_1', $2, 'US', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
				fmt.Sprintf("con_%05d", i), fmt.Sprintf("+1734%07d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	args := []any{"acc_1"}
	for i := range 100 {
		args = append(args, fmt.Sprintf("con_%05d", i*50))
	}
	plan := func(accountCol string) string {
		return dbtest.Plan(t, d, `SELECT id, phone_e164 FROM contacts
			WHERE `+accountCol+` = $1 AND id IN (`+db.Placeholders(2, 100)+`)`, args...)
	}
	const byKey = "USING INDEX sqlite_autoindex_contacts_1 (id=?)"
	require.NotContains(t, plan("account_id"), byKey, "the plain form walks the account")
	require.Contains(t, plan(d.KeyedBy("account_id")), byKey)

	// Optimize gathers the statistics the planner lacked.
	require.NoError(t, d.Optimize(ctx))
	var n int
	require.NoError(t, d.Write().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'contacts'`).Scan(&n))
	require.Positive(t, n)
	require.Contains(t, plan(d.KeyedBy("account_id")), byKey)
}

// On PostgreSQL the same happens while a table has grown since autovacuum
// last analysed it: finding messages by carrier id, the planner joins the
// carrier index with the whole account's entries in an account index.
// Written with KeyedBy, it reads the carrier index alone.
func TestKeyedByOnPostgres(t *testing.T) {
	d := dbtest.New(t, db.Postgres)
	addMessages(t, d.Write(), "msg_", "sent", 20000)
	plan := func(accountCol string) string {
		return dbtest.Plan(t, d, `SELECT id FROM messages
			WHERE `+accountCol+` = $1 AND carrier_id IN ($2, $3, $4)`, "acc_1", "SMmsg_7", "SMmsg_70", "SMmsg_700")
	}
	const byAccount = "Index Cond: (account_id = "
	require.Contains(t, plan("account_id"), byAccount, "the plain form reads an account index")
	keyed := plan(d.KeyedBy("account_id"))
	require.Contains(t, keyed, "messages_carrier_id")
	require.NotContains(t, keyed, byAccount)
}

// On PostgreSQL, Optimize analyses the tables that changed by more than a
// tenth since their last analysis, and only those, whether or not
// autovacuum runs; within a minute of the last analysis, only those that
// grew by half and by 10,000 rows.
//
// Every change is made on one connection that then has the server publish
// its statistics at once (see publish), so each Optimize sees exactly the
// changes before it: no waiting, and no step that passes because the
// server had not yet published what it was meant to judge.
func TestOptimizeAnalysesChangedTablesOnPostgres(t *testing.T) {
	d := dbtest.New(t, db.Postgres)
	ctx := context.Background()
	conn, err := d.Write().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	change := func(query string, args ...any) {
		t.Helper()
		_, err := conn.ExecContext(ctx, query, args...)
		require.NoError(t, err)
		publish(t, conn)
	}
	analyses := func(table string) (n int) {
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT analyze_count FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = $1`, table).Scan(&n))
		return n
	}

	addMessages(t, conn, "msg_", "queued", 5000)
	publish(t, conn)
	require.NoError(t, d.Optimize(ctx))
	require.Equal(t, 1, analyses("messages"), "a new table of 5,000 rows is analysed")
	var estimate float64
	require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT reltuples FROM pg_class
		WHERE oid = 'messages'::regclass`).Scan(&estimate))
	require.InDelta(t, 5000, estimate, 1, "the planner knows the table's size")

	// A change of under a tenth leaves the statistics as they are.
	change(`UPDATE messages SET status = 'sent' WHERE id IN ('msg_1', 'msg_2')`)
	require.NoError(t, d.Optimize(ctx))
	require.Equal(t, 1, analyses("messages"))
	require.Zero(t, analyses("webhook_endpoints"), "an unchanged table is not analysed")

	// Every row changed, but the table is the same size and was analysed
	// moments ago: it waits for the minute to pass.
	change(`UPDATE messages SET status = 'delivered'`)
	require.NoError(t, d.Optimize(ctx))
	require.Equal(t, 1, analyses("messages"))
	var modified int
	require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT n_mod_since_analyze FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname = 'messages'`).Scan(&modified))
	require.GreaterOrEqual(t, modified, 5000, "the server had published the change it waits on")

	// Grown by half and by 10,000 rows: analysed again at once.
	addMessages(t, conn, "msg_more_", "queued", 15000)
	publish(t, conn)
	require.NoError(t, d.Optimize(ctx))
	require.Equal(t, 2, analyses("messages"))
}

// publish has the server publish the statistics of conn's finished
// transactions now. A backend publishes them at most once a second, and
// one that then sits idle only ten seconds later (PostgreSQL 15), which is
// how this test once failed when it waited for them instead.
func publish(t *testing.T, conn *sql.Conn) {
	t.Helper()
	_, err := conn.ExecContext(context.Background(), `SELECT pg_stat_force_next_flush()`)
	require.NoError(t, err)
}

// Herald's statements reach PostgreSQL as the unnamed statement, planned
// for its values at every run, and not as named prepared statements, whose
// plans go generic (bulk inserts, whose plan is the same for any values,
// are the exception: TestPostgresPreparesInsertsOnce); the server's own
// cached plans (the foreign-key checks) stay cached. A database URL can
// choose another mode.
func TestPostgresPlansEachStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// check runs one statement ten times on one connection, then reads that
	// connection's named prepared statements and its plan cache mode.
	check := func(d *db.DB) (prepared int, mode string) {
		conn, err := d.Read().Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		for i := range 10 {
			var n int
			require.NoError(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_class WHERE relname = $1`, fmt.Sprint(i)).Scan(&n))
		}
		require.NoError(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements`).Scan(&prepared))
		require.NoError(t, conn.QueryRowContext(ctx, `SHOW plan_cache_mode`).Scan(&mode))
		return prepared, mode
	}
	opts := dbtest.Options(t, db.Postgres)
	d, err := db.Open(ctx, opts)
	require.NoError(t, err)
	defer d.Close()
	prepared, mode := check(d)
	require.Zero(t, prepared, "no statement is prepared by name")
	require.Equal(t, "auto", mode, "the server's own plans are cached as it chooses")

	opts.URL += "&default_query_exec_mode=cache_statement"
	d2, err := db.Open(ctx, opts)
	require.NoError(t, err)
	defer d2.Close()
	prepared, _ = check(d2)
	require.Positive(t, prepared, "the URL's mode prepares statements by name")

	// A mode pgx does not know is refused when the database is opened.
	bad := dbtest.Options(t, db.Postgres)
	bad.URL += "&default_query_exec_mode=sometimes"
	_, err = db.Open(ctx, bad)
	require.ErrorContains(t, err, "default_query_exec_mode")
}

// addMessages writes n messages of account acc_1 (made by the first call)
// with the given status, ids prefix1 to prefixN, and carrier ids "SM" and
// the id.
func addMessages(t *testing.T, q execer, prefix, status string, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := q.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at)
		VALUES ('acc_1', 'Acme', now(), now()) ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	_, err = q.ExecContext(ctx, `INSERT INTO messages (id, account_id, to_phone, kind, priority, body,
			encoding, segments, status, carrier_id, next_attempt_at, created_at, updated_at)
		SELECT $1 || i, 'acc_1', '+17345550100', 'transactional', 0, 'Hi', 'GSM-7', 1, $2, 'SM' || $1 || i, now(), now(), now()
		FROM generate_series(1, $3::int) AS i`, prefix, status, n)
	require.NoError(t, err)
}

// execer runs a statement: a pool, or one of its connections.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
