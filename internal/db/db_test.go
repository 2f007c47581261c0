package db_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		n, err := d.Migrate(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "a second run applies nothing")
	})
}

func TestBothEnginesHaveTheSameMigrations(t *testing.T) {
	t.Parallel()
	lite, err := db.Migrations(db.SQLite)
	require.NoError(t, err)
	pg, err := db.Migrations(db.Postgres)
	require.NoError(t, err)
	require.Equal(t, len(lite), len(pg))
	for i := range lite {
		require.Equal(t, lite[i].Version, pg[i].Version)
		require.Equal(t, lite[i].Name, pg[i].Name)
	}
}

// Timestamps must come back equal to what was written, and order correctly
// in SQL on both engines (SQLite keeps them as text).
func TestTimestampsRoundTripAndOrder(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		base := clock.Normalize(time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC))
		times := []time.Time{base.Add(150 * time.Millisecond), base, base.Add(time.Microsecond), base.Add(-time.Second), base.Add(100 * time.Millisecond)}
		for i, ts := range times {
			_, err := d.Write().ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
				string(rune('a'+i)), "x", ts)
			require.NoError(t, err)
		}
		rows, err := d.Read().QueryContext(ctx, `SELECT created_at FROM accounts WHERE created_at >= $1 ORDER BY created_at`, base)
		require.NoError(t, err)
		defer rows.Close()
		var got []time.Time
		for rows.Next() {
			var ts time.Time
			require.NoError(t, rows.Scan(&ts))
			got = append(got, ts)
		}
		require.NoError(t, rows.Err())
		require.Len(t, got, 4)
		want := []time.Time{base, base.Add(time.Microsecond), base.Add(100 * time.Millisecond), base.Add(150 * time.Millisecond)}
		for i := range want {
			require.True(t, want[i].Equal(got[i]), "row %d: want %s got %s", i, want[i], got[i])
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('a', 'x', $1, $1)`, now)
			require.NoError(t, err)
			_, err = tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('a', 'y', $1, $1)`, now)
			return err
		})
		require.Error(t, err)
		require.True(t, db.IsUniqueViolation(err))
		var n int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n))
		require.Zero(t, n, "nothing half-written")
	})
}

func TestConsentLedgerIsAppendOnly(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		w := d.Write()
		_, err := w.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('a', 'x', $1, $1)`, now)
		require.NoError(t, err)
		_, err = w.ExecContext(ctx, `INSERT INTO consents (id, account_id, contact_id, kind, from_pref, to_pref, source, occurred_at)
			VALUES ('c', 'a', 'con', 'marketing', 'unknown', 'opted_in', 'api', $1)`, now)
		require.NoError(t, err)
		_, err = w.ExecContext(ctx, `UPDATE consents SET to_pref = 'opted_out'`)
		require.ErrorContains(t, err, "append-only")
		_, err = w.ExecContext(ctx, `DELETE FROM consents`)
		require.ErrorContains(t, err, "append-only")
		// Deleting the whole account is the one way its records go.
		_, err = w.ExecContext(ctx, `DELETE FROM accounts WHERE id = 'a'`)
		require.NoError(t, err)
	})
}

// On SQLite a query whose rows are still open can run again (nested)
// without the two uses sharing one cached prepared statement. (PostgreSQL
// runs one query at a time per connection, so Herald never nests there.)
func TestNestedUseOfTheSameQueryOnSQLite(t *testing.T) {
	t.Parallel()
	func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		for _, id := range []string{"a", "b", "c"} {
			_, err := d.Write().ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, $1, $2, $2)`, id, now)
			require.NoError(t, err)
		}
		const q = `SELECT id FROM accounts WHERE id >= $1 ORDER BY id`
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			outer, err := tx.QueryContext(ctx, q, "a")
			require.NoError(t, err)
			defer outer.Close()
			var seen []string
			for outer.Next() {
				var id string
				require.NoError(t, outer.Scan(&id))
				var inner int
				require.NoError(t, tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+`) x`, id).Scan(&inner))
				var again string
				require.NoError(t, tx.QueryRowContext(ctx, q, id).Scan(&again))
				require.Equal(t, id, again)
				seen = append(seen, id)
			}
			require.Equal(t, []string{"a", "b", "c"}, seen)
			return outer.Err()
		})
		require.NoError(t, err)
	}(t, dbtest.New(t, db.SQLite))
}
