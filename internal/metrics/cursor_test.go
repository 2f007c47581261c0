package metrics

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/clock"
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

// On PostgreSQL an entry can commit after one written later. The fold
// counts both, once: it reads only below the oldest transaction still
// running, and Fold waits for those running when it was called.
func TestFoldCountsAnEntryThatCommitsLateOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t, db.Postgres)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	exec := func(q db.Querier, query string) {
		t.Helper()
		_, err := q.ExecContext(ctx, query, t0)
		require.NoError(t, err)
	}
	exec(d.Write(), `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('acc_1', 'Acme', $1, $1)`)
	for _, id := range []string{"msg_1", "msg_2"} {
		exec(d.Write(), `INSERT INTO messages (id, account_id, to_phone, kind, priority, body, encoding, segments, status,
				next_attempt_at, created_at, updated_at)
			VALUES ('`+id+`', 'acc_1', '+17345550100', 'transactional', 0, 'Hi', 'GSM-7', 1, 'sending', $1, $1, $1)`)
	}
	folder := NewService(d, clock.System{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sent := func() (n int64) {
		t.Helper()
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT COALESCE(sum(sent), 0) FROM sms_metrics_daily
			WHERE account_id = 'acc_1'`).Scan(&n))
		return n
	}

	// msg_1's entry is written first and committed last.
	late, err := d.Write().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = late.Rollback() }()
	exec(late, `INSERT INTO message_events (account_id, message_id, status, occurred_at) VALUES ('acc_1', 'msg_1', 'sent', $1)`)
	exec(d.Write(), `INSERT INTO message_events (account_id, message_id, status, occurred_at) VALUES ('acc_1', 'msg_2', 'sent', $1)`)

	// A fold as Run makes it, which does not wait, takes nothing at or
	// above the late transaction, msg_2's entry included, so the cursor
	// stays below msg_1's.
	n, err := folder.foldAll(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, sent())

	// Fold waits for the late transaction, however long it takes.
	folded := make(chan error, 1)
	go func() {
		_, err := folder.Fold(ctx)
		folded <- err
	}()
	select {
	case err := <-folded:
		t.Fatalf("Fold returned (%v) while a transaction it must wait for was running", err)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, late.Commit())
	require.NoError(t, <-folded)
	require.Equal(t, int64(2), sent())

	n, err = folder.Fold(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing new")
	require.Equal(t, int64(2), sent(), "nothing counted twice")
}

// On PostgreSQL the fold reads a batch of the log from its cursor, in the
// order of the transaction index, on tables the planner has no statistics
// for (a promotion fills them faster than they are gathered): never a scan
// or a sort of the log, which only grows, however far behind the fold is.
func TestFoldReadsTheLogToTheHorizonByIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t, db.Postgres)
	for _, q := range []string{
		`INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('acc_1', 'Acme', now(), now())`,
		`INSERT INTO messages (id, account_id, to_phone, kind, priority, body, encoding, segments, status,
			next_attempt_at, created_at, updated_at)
		SELECT 'msg_' || i, 'acc_1', '+17345550100', 'transactional', 0, 'Hi', 'GSM-7', 1, 'delivered', now(), now(), now()
		FROM generate_series(1, 5000) AS i`,
		`INSERT INTO message_events (account_id, message_id, status, occurred_at, created)
		SELECT 'acc_1', 'msg_' || i, s, now(), s = 'queued'
		FROM generate_series(1, 5000) AS i, unnest(ARRAY['queued', 'sending', 'sent', 'delivered']) AS s`,
	} {
		_, err := d.Write().ExecContext(ctx, q)
		require.NoError(t, err)
	}
	var written, horizon string
	require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT min(xid)::text, pg_snapshot_xmax(pg_current_snapshot())::text
		FROM message_events`).Scan(&written, &horizon))
	for _, tc := range []struct{ name, from, to string }{
		{"far behind: every entry to read", written, horizon},
		{"caught up: nothing to read", horizon, horizon},
	} {
		plan := planInFold(t, d, tc.from, tc.to)
		require.Contains(t, plan, "Index Scan using message_events_xid on message_events", tc.name+"\n"+plan)
		require.NotContains(t, plan, "Seq Scan on message_events", tc.name+"\n"+plan)
		require.NotContains(t, plan, "Sort", tc.name+"\n"+plan)
		require.Contains(t, plan, "Index Scan using messages_pkey on messages", tc.name+"\n"+plan)
	}
}

// planInFold is the plan of the fold's read of the log from one xid to
// another, as the fold's transaction plans it.
func planInFold(t *testing.T, d *db.DB, from, to string) string {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Write().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, inIndexOrder)
	require.NoError(t, err)
	return dbtest.PlanOn(t, tx, db.Postgres, selectLogToHorizon, from, 0, to, foldBatch)
}
