package metrics

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// Two folds that read the same batch of the log (two processes on one
// SQLite file) count it once: the second finds the cursor moved.
func TestTwoFoldsOfOneBatchCountItOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t, db.SQLite)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('acc_1', 'Acme', $1, $1)`,
		`INSERT INTO messages (id, account_id, to_phone, kind, priority, body, encoding, segments, status,
			next_attempt_at, created_at, updated_at)
		VALUES ('msg_1', 'acc_1', '+17345550100', 'transactional', 0, 'Hi', 'GSM-7', 1, 'sent', $1, $1, $1)`,
		`INSERT INTO message_events (account_id, message_id, status, occurred_at, created) VALUES ('acc_1', 'msg_1', 'queued', $1, 1)`,
		`INSERT INTO message_events (account_id, message_id, status, occurred_at) VALUES ('acc_1', 'msg_1', 'sending', $1)`,
		`INSERT INTO message_events (account_id, message_id, status, occurred_at) VALUES ('acc_1', 'msg_1', 'sent', $1)`,
	} {
		_, err := d.Write().ExecContext(ctx, q, t0)
		require.NoError(t, err)
	}
	first, err := readLog(ctx, d.Read())
	require.NoError(t, err)
	second, err := readLog(ctx, d.Read())
	require.NoError(t, err)
	require.Equal(t, 2, first.read, "the made entry and sent; sending is not counted")
	require.Equal(t, first.to, second.to)

	moved := []bool{}
	require.NoError(t, d.InTx(ctx, func(tx *sql.Tx) error {
		for _, b := range []logBatch{first, second} {
			ok, err := moveCursor(ctx, tx, b)
			if err != nil {
				return err
			}
			moved = append(moved, ok)
		}
		return nil
	}))
	require.Equal(t, []bool{true, false}, moved)

	again, err := readLog(ctx, d.Read())
	require.NoError(t, err)
	require.Zero(t, again.read, "nothing after the cursor")
}

// The fold reads the log from the cursor by seq and each entry's message
// by key, whatever the planner knows: never a scan of either table.
func TestFoldReadsTheLogFromTheCursor(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t, db.SQLite)
	plan := dbtest.Plan(t, d, selectLog, 0, foldBatch)
	require.Contains(t, plan, "SEARCH e USING INTEGER PRIMARY KEY (rowid>?)")
	require.Contains(t, plan, "SEARCH m USING INDEX sqlite_autoindex_messages_1 (id=?)")
	require.NotContains(t, plan, "SCAN")
}
