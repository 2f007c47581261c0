package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/webhook"
)

func TestPruneKeepsPendingAndRecentDeliveries(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		cfg := fastRetries
		cfg.FirstRetry, cfg.MaxRetryDelay = time.Hour, time.Hour
		b := setup(t, d, cfg)
		ctx := context.Background()
		ok, down := newReceiver(t, 200), newReceiver(t, 500)
		settled := b.endpoint(t, ok.URL, webhook.MessageDelivered)
		retrying := b.endpoint(t, down.URL, webhook.MessageDelivered)
		require.NoError(t, b.svc.Emit(ctx, nil, b.acct, webhook.MessageDelivered, map[string]any{"message_id": "msg_1"}))
		require.Len(t, b.waitSettled(t, settled.ID, 1), 1)
		require.Eventually(t, func() bool { return len(down.requests()) == 1 }, 10*time.Second, 5*time.Millisecond)
		// The failed attempt is written after the endpoint answers; wait for
		// both attempts to be on record before pruning.
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM webhook_attempts`).Scan(&n))
			return n == 2
		}, 10*time.Second, 5*time.Millisecond)

		n, err := b.svc.Prune(ctx, time.Now().Add(-time.Minute))
		require.NoError(t, err)
		require.Zero(t, n, "nothing is old enough")
		n, err = b.svc.Prune(ctx, time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "the settled delivery goes; the one still retrying stays")

		for id, want := range map[string]int{settled.ID: 0, retrying.ID: 1} {
			page, err := b.svc.Deliveries(ctx, b.acct, id, webhook.DeliveryFilter{})
			require.NoError(t, err)
			require.Len(t, page.Data, want)
		}
		var attempts int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM webhook_attempts`).Scan(&attempts))
		require.Equal(t, 1, attempts, "the pruned delivery's attempts went with it")
		require.Len(t, b.svc.PeriodicJobs(), 1)
	})
}
