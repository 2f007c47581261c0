package message

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// The claim reads the claimable messages of its number in claim order and
// stops at its limit, on a table the planner has no statistics for (a
// promotion fills it faster than they are gathered): no sort of everything
// waiting, and sent messages are not read at all.
func TestClaimReadsOnlyWhatItTakes(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := planAccount(t, d)
		_, err := d.Write().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
			INSERT INTO messages (id, account_id, number_id, to_phone, kind, priority, body, encoding, segments,
				status, next_attempt_at, created_at, updated_at)
			SELECT 'msg_' || i, 'acc_1', 'num_1', '+17345550100', 'marketing', 1, 'Hi', 'GSM-7', 1,
				CASE WHEN i % 2 = 0 THEN 'queued' ELSE 'delivered' END, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
			FROM n`)
		require.NoError(t, err)

		plan := dbtest.Plan(t, d, fmt.Sprintf(claimQuery, d.SkipLocked()),
			"num_1", "2030-01-01T00:00:00Z", "2030-01-01T00:01:00Z", 100)
		require.Contains(t, plan, "messages_claimable", plan)
		require.NotContains(t, plan, "Sort", plan)
		require.NotContains(t, plan, "TEMP B-TREE", plan)
	})
}

// planAccount makes account acc_1, whose messages a plan test writes with
// SQL of its own.
func planAccount(t *testing.T, d *db.DB) context.Context {
	t.Helper()
	ctx := context.Background()
	_, err := d.Write().ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at)
		VALUES ('acc_1', 'Acme', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
	require.NoError(t, err)
	return ctx
}
