package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
		rows, err := d.Read().QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id, phone_e164 FROM contacts
			WHERE `+accountCol+` = $1 AND id IN (`+db.Placeholders(2, 100)+`)`, args...)
		require.NoError(t, err)
		defer rows.Close()
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			steps = append(steps, detail)
		}
		return strings.Join(steps, "; ")
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

func TestKeyedByOnPostgres(t *testing.T) {
	d := dbtest.New(t, db.Postgres)
	require.Equal(t, "account_id", d.KeyedBy("account_id"))
	require.NoError(t, d.Optimize(context.Background()), "a no-op: autovacuum analyses")
}
