package db_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/metrics"
)

// Migrations 15 and 17 move SQLite's metrics and then PostgreSQL's from
// the trigger-fed inbox to a cursor over the transaction log. What was
// noted before them, folded or not, and what is written after them are
// each counted once, on both engines (on PostgreSQL the entries written
// before read as transaction 0, below the cursor), and an account deleted
// at the head of the log does not make the next entries reuse its seqs
// below the cursor.
func TestMetricsCountEachChangeOnceAcrossTheMoveToTheLog(t *testing.T) {
	t.Parallel()
	eachEngineAt(t, 14, func(t *testing.T, ctx context.Context, d *db.DB) {
		folder := metrics.NewService(d, clock.System{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		fold := func() {
			t.Helper()
			_, err := folder.Fold(ctx)
			require.NoError(t, err)
		}

		w := d.Write()
		t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		exec := func(q string, args ...any) {
			t.Helper()
			_, err := w.ExecContext(ctx, q, args...)
			require.NoError(t, err)
		}
		account := func(id string) {
			exec(`INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, 'Acme', $2, $2)`, id, t0)
		}
		message := func(acct, id, status string) {
			exec(`INSERT INTO messages (id, account_id, to_phone, kind, priority, body, encoding,
					segments, status, next_attempt_at, created_at, updated_at)
				VALUES ($1, $2, '+17345550100', 'transactional', 0, 'Hi', 'GSM-7', 2, $3, $4, $4, $4)`, id, acct, status, t0)
		}
		logged := func(acct, msg, status string, first bool) {
			if first {
				exec(`INSERT INTO message_events (account_id, message_id, status, occurred_at, created)
					VALUES ($1, $2, $3, $4, $5)`, acct, msg, status, t0, true)
				return
			}
			exec(`INSERT INTO message_events (account_id, message_id, status, occurred_at)
				VALUES ($1, $2, $3, $4)`, acct, msg, status, t0)
		}
		account("acc_1")
		account("acc_gone")

		// Before: two messages made and sent. The old Herald folded
		// msg_1 (its changes left the inbox, into rollups this test
		// does not keep); msg_2 is still in the inbox when the new
		// Herald starts.
		for _, id := range []string{"msg_1", "msg_2"} {
			message("acc_1", id, "queued")
			exec(`INSERT INTO message_events (account_id, message_id, status, occurred_at) VALUES ('acc_1', $1, 'queued', $2)`, id, t0)
			exec(`INSERT INTO message_events (account_id, message_id, status, occurred_at) VALUES ('acc_1', $1, 'sent', $2)`, id, t0)
		}
		exec(`DELETE FROM metrics_inbox WHERE message_id = 'msg_1'`)

		n, err := d.Migrate(ctx)
		require.NoError(t, err)
		require.Positive(t, n)

		// After: msg_1 is delivered, a third message is made and
		// skipped at once, and another account's message is made and
		// folded; that account is deleted, its entries the newest,
		// before msg_4 is written.
		logged("acc_1", "msg_1", "delivered", false)
		message("acc_1", "msg_3", "skipped")
		logged("acc_1", "msg_3", "skipped", true)
		message("acc_gone", "msg_gone", "queued")
		logged("acc_gone", "msg_gone", "queued", true)
		fold()
		exec(`DELETE FROM accounts WHERE id = 'acc_gone'`)
		message("acc_1", "msg_4", "queued")
		logged("acc_1", "msg_4", "queued", true)
		logged("acc_1", "msg_4", "sending", false)
		logged("acc_1", "msg_4", "sent", false)
		fold()
		fold() // nothing new: counts nothing twice

		var created, sent, delivered, skipped, segments int64
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT sum(created), sum(sent), sum(delivered), sum(skipped),
				sum(segments_sent) FROM sms_metrics_daily WHERE account_id = 'acc_1'`).
			Scan(&created, &sent, &delivered, &skipped, &segments))
		// msg_2, msg_3 and msg_4 made; msg_2 and msg_4 sent, two
		// segments each; msg_1 delivered; msg_3 skipped.
		require.Equal(t, []int64{3, 2, 1, 1, 4}, []int64{created, sent, delivered, skipped, segments},
			"created, sent, delivered, skipped, segments sent")
	})
}
