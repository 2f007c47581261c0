package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// Commits only append to the WAL; the background checkpointer copies them
// into the database file soon after, without a commit having to.
func TestCheckpointsRunInTheBackground(t *testing.T) {
	t.Parallel()
	opts := dbtest.Options(t, db.SQLite)
	ctx := context.Background()
	d, err := db.Open(ctx, opts)
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Migrate(ctx)
	require.NoError(t, err)

	var auto int
	require.NoError(t, d.Write().QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto))
	require.Zero(t, auto, "commits never checkpoint")

	file := filepath.Join(opts.DataDir, "herald.db")
	before := size(t, file)
	err = d.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 200 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
				fmt.Sprintf("acc_%03d", i), strings.Repeat("n", 4000), time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return size(t, file) > before+500_000 }, 5*time.Second, 20*time.Millisecond,
		"800 kB written reach the database file")
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}
