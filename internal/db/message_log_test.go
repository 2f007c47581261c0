package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// Moving the transaction log to integer keys (migration 13) keeps every
// entry in its order, entries of the same moment included, keeps noting
// new entries for the metrics, and still goes with its account.
func TestMessageLogKeepsItsOrderThroughMigration(t *testing.T) {
	t.Parallel()
	eachEngineAt(t, 12, func(t *testing.T, ctx context.Context, d *db.DB) {
		w := d.Write()
		t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		t1 := t0.Add(time.Second)
		_, err := w.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('acc_1', 'Acme', $1, $1)`, t0)
		require.NoError(t, err)
		_, err = w.ExecContext(ctx, `INSERT INTO messages (id, account_id, to_phone, kind, priority, body, encoding,
				segments, status, next_attempt_at, created_at, updated_at)
			VALUES ('msg_1', 'acc_1', '+17345550100', 'transactional', 0, 'Hi', 'GSM-7', 1, 'delivered', $1, $1, $1)`, t0)
		require.NoError(t, err)
		// Written out of order: sent and delivered share a moment, and
		// only their ids told them apart.
		for _, ev := range []struct {
			id, status string
			at         time.Time
		}{{"mev_3", "delivered", t1}, {"mev_1", "queued", t0}, {"mev_2", "sent", t1}} {
			_, err = w.ExecContext(ctx, `INSERT INTO message_events (id, account_id, message_id, status, occurred_at)
				VALUES ($1, 'acc_1', 'msg_1', $2, $3)`, ev.id, ev.status, ev.at)
			require.NoError(t, err)
		}

		n, err := d.Migrate(ctx)
		require.NoError(t, err)
		require.Positive(t, n)

		statuses := func() []string {
			rows, err := d.Read().QueryContext(ctx, `SELECT status FROM message_events
				WHERE account_id = 'acc_1' AND message_id = 'msg_1' ORDER BY occurred_at, seq`)
			require.NoError(t, err)
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				require.NoError(t, rows.Scan(&s))
				out = append(out, s)
			}
			require.NoError(t, rows.Err())
			return out
		}
		require.Equal(t, []string{"queued", "sent", "delivered"}, statuses())

		// A new entry takes the next key and is noted for the metrics.
		_, err = w.ExecContext(ctx, `INSERT INTO message_events (account_id, message_id, status, occurred_at)
			VALUES ('acc_1', 'msg_1', 'failed', $1)`, t1)
		require.NoError(t, err)
		require.Equal(t, []string{"queued", "sent", "delivered", "failed"}, statuses())
		var noted int
		if d.Engine == db.Postgres { // past the cursor by transaction (migration 17)
			require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM message_events
				WHERE message_id = 'msg_1' AND status = 'failed' AND xid >= (SELECT xid FROM metrics_cursor)`).Scan(&noted))
		} else { // the fold reads the log past its cursor (migration 15)
			require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM message_events
				WHERE message_id = 'msg_1' AND status = 'failed' AND seq > (SELECT seq FROM metrics_cursor)`).Scan(&noted))
		}
		require.Equal(t, 1, noted)

		// An entry must name a message.
		_, err = w.ExecContext(ctx, `INSERT INTO message_events (account_id, message_id, status, occurred_at)
			VALUES ('acc_1', 'msg_none', 'sent', $1)`, t1)
		require.Error(t, err)

		_, err = w.ExecContext(ctx, `DELETE FROM accounts WHERE id = 'acc_1'`)
		require.NoError(t, err)
		require.Empty(t, statuses(), "the log goes with its account")
	})
}

// eachEngineAt runs fn, in parallel, on a fresh database of each engine
// migrated up to version, as an older Herald would have left it.
func eachEngineAt(t *testing.T, version int, fn func(t *testing.T, ctx context.Context, d *db.DB)) {
	t.Helper()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, err := db.Open(ctx, dbtest.Options(t, e))
			require.NoError(t, err)
			t.Cleanup(func() { _ = d.Close() })
			require.NoError(t, d.MigrateTo(ctx, version))
			fn(t, ctx, d)
		})
	}
}
