package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// bulkColumns cover every kind of value Herald inserts in bulk: text that
// may be NULL, integers that may be NULL, times and booleans.
var bulkColumns = db.Cols("id text", "note text", "n integer", "at timestamptz", "flag boolean")

func createBulkTable(t *testing.T, d *db.DB) {
	t.Helper()
	ddl := `CREATE TABLE bulk (id text PRIMARY KEY, note text, n integer, at timestamptz NOT NULL, flag boolean NOT NULL)`
	if d.Engine == db.SQLite {
		ddl = `CREATE TABLE bulk (id TEXT PRIMARY KEY, note TEXT, n INTEGER, at TIMESTAMP NOT NULL, flag INTEGER NOT NULL)`
	}
	_, err := d.Write().ExecContext(context.Background(), ddl)
	require.NoError(t, err)
}

func bulkRow(i int, at time.Time) []any {
	var note *string
	var n *int
	if i%3 != 0 {
		s := fmt.Sprintf("it's row %d, with 'quotes' and, commas", i)
		note, n = &s, &i
	}
	return []any{fmt.Sprintf("r%05d", i), note, n, at.Add(time.Duration(i) * time.Microsecond), i%2 == 0}
}

// Rows come back as they went in, NULLs included, across more rows than
// one PostgreSQL statement takes.
func TestInsertWritesEveryRowAsGiven(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createBulkTable(t, d)
		at := clock.Normalize(time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC))
		const n = 2345
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = bulkRow(i, at)
		}
		require.NoError(t, d.InTx(ctx, func(tx *sql.Tx) error {
			return d.Insert(ctx, tx, "bulk", bulkColumns, rows, "")
		}))

		got, err := d.Read().QueryContext(ctx, `SELECT id, note, n, at, flag FROM bulk ORDER BY id`)
		require.NoError(t, err)
		defer got.Close()
		i := 0
		for got.Next() {
			var (
				id   string
				note sql.NullString
				num  sql.NullInt64
				ts   time.Time
				flag bool
			)
			require.NoError(t, got.Scan(&id, &note, &num, &ts, &flag))
			want := bulkRow(i, at)
			require.Equal(t, want[0], id)
			if p := want[1].(*string); p == nil {
				require.False(t, note.Valid, "row %d: note is NULL", i)
				require.False(t, num.Valid, "row %d: n is NULL", i)
			} else {
				require.Equal(t, *p, note.String)
				require.Equal(t, int64(*want[2].(*int)), num.Int64)
			}
			require.True(t, want[3].(time.Time).Equal(ts), "row %d: want %s got %s", i, want[3], ts)
			require.Equal(t, want[4], flag)
			i++
		}
		require.NoError(t, got.Err())
		require.Equal(t, n, i)
	})
}

// A suffix applies to every statement, and what it returns is scanned.
func TestInsertReturningScansWhatWasWritten(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createBulkTable(t, d)
		at := time.Now().UTC()
		var first [][]any
		for i := 0; i < 1500; i += 2 {
			first = append(first, bulkRow(i, at))
		}
		require.NoError(t, d.Insert(ctx, d.Write(), "bulk", bulkColumns, first, ""))

		all := make([][]any, 1500)
		for i := range all {
			all[i] = bulkRow(i, at)
		}
		returned := map[string]bool{}
		require.NoError(t, d.InsertReturning(ctx, d.Write(), "bulk", bulkColumns, all, "ON CONFLICT (id) DO NOTHING RETURNING id",
			func(rows *sql.Rows) error {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				returned[id] = true
				return nil
			}))
		require.Len(t, returned, 750, "only the odd rows were new")
		for i := 1; i < 1500; i += 2 {
			require.True(t, returned[fmt.Sprintf("r%05d", i)], "row %d was returned", i)
		}
		var count int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM bulk`).Scan(&count))
		require.Equal(t, 1500, count)
	})
}

// A row of the wrong width is refused before anything of its statement is
// sent, and the caller's transaction writes nothing.
func TestInsertRefusesARowOfTheWrongWidth(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createBulkTable(t, d)
		rows := [][]any{bulkRow(1, time.Now()), {"short", nil}}
		err := d.InTx(ctx, func(tx *sql.Tx) error { return d.Insert(ctx, tx, "bulk", bulkColumns, rows, "") })
		require.ErrorContains(t, err, "row 1 has 2 values for 5 columns")
		var count int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM bulk`).Scan(&count))
		require.Zero(t, count)

		require.NoError(t, d.Insert(ctx, d.Write(), "bulk", bulkColumns, nil, ""), "no rows is no statement")
	})
}

func TestColsNeedATypeForEachColumn(t *testing.T) {
	t.Parallel()
	require.Equal(t, []db.Column{{Name: "id", Type: "text"}, {Name: "at", Type: "timestamptz"}}, db.Cols("id text", "at timestamptz"))
	require.Panics(t, func() { db.Cols("id") })
}

// A statement can join the bound rows and take parameters of its own
// after them, on every chunk.
func TestBindRowsJoinsAnUpdate(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		createBulkTable(t, d)
		at := time.Now().UTC()
		rows := make([][]any, 700)
		for i := range rows {
			rows[i] = bulkRow(i, at)
		}
		require.NoError(t, d.Insert(ctx, d.Write(), "bulk", bulkColumns, rows, ""))

		var changes [][]any
		for i := 0; i < 700; i += 2 {
			changes = append(changes, []any{fmt.Sprintf("r%05d", i), fmt.Sprintf("changed %d", i)})
		}
		statements, updated := 0, int64(0)
		err := d.BindRows(db.Cols("id text", "note text"), changes, func(table string, args []any) error {
			statements++
			args = append(args, -1)
			res, err := d.Write().ExecContext(ctx, `WITH v (id, note) AS (`+table+`)
				UPDATE bulk SET note = v.note, n = $`+fmt.Sprint(len(args))+` FROM v WHERE bulk.id = v.id`, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			updated += n
			return err
		})
		require.NoError(t, err)
		require.EqualValues(t, 350, updated)
		if d.Engine == db.Postgres {
			require.Equal(t, 1, statements, "one array per column takes every row")
		} else {
			require.Equal(t, 3, statements, "VALUES lists of up to 300 parameters")
		}
		var note string
		var n int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT note, n FROM bulk WHERE id = 'r00698'`).Scan(&note, &n))
		require.Equal(t, "changed 698", note)
		require.Equal(t, -1, n)
		var untouched int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM bulk WHERE n IS NULL OR n >= 0`).Scan(&untouched))
		require.Equal(t, 350, untouched, "the odd rows kept their values")
	})
}

// On PostgreSQL an insert from unnest is prepared by name once per
// connection and run by that name after, its plan being the same for any
// values; other statements stay unnamed (TestPostgresPlansEachStatement).
// A database URL that chooses its own query mode keeps it for inserts too.
func TestPostgresPreparesInsertsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := clock.Normalize(time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC))
	// inserts writes ten batches of different sizes on one connection
	// and returns that connection's named statements.
	inserts := func(d *db.DB) []string {
		createBulkTable(t, d)
		conn, err := d.Write().Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		for i := range 10 {
			rows := make([][]any, i+1)
			for j := range rows {
				rows[j] = bulkRow(i*100+j, at)
			}
			require.NoError(t, d.Insert(ctx, conn, "bulk", bulkColumns, rows, "ON CONFLICT DO NOTHING"))
		}
		var n int
		require.NoError(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM bulk`).Scan(&n))
		require.Equal(t, 55, n, "every row of every batch was written")
		rows, err := conn.QueryContext(ctx, `SELECT statement FROM pg_prepared_statements`)
		require.NoError(t, err)
		defer rows.Close()
		var named []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			named = append(named, s)
		}
		require.NoError(t, rows.Err())
		return named
	}

	named := inserts(dbtest.New(t, db.Postgres))
	require.Len(t, named, 1, "one statement for the ten inserts")
	require.Contains(t, named[0], "INSERT INTO bulk")

	opts := dbtest.Options(t, db.Postgres)
	opts.URL += "&default_query_exec_mode=describe_exec"
	d, err := db.Open(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	require.Empty(t, inserts(d), "the URL's mode is kept")
}
