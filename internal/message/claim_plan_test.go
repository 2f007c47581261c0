package message

import (
	"cmp"
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
		planAccount(t, d)
		planMessages(t, d, 6000, planned{kind: "'marketing'",
			status: "CASE WHEN i % 2 = 0 THEN 'queued' ELSE 'delivered' END"})

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

// planned says how planMessages writes each message, as SQL expressions of
// i, the message's number from 1; those left empty take the defaults: no
// contact, one phone, transactional, delivered.
type planned struct{ contact, to, kind, status string }

// planMessages writes n messages of acc_1 on number num_1 in one
// statement, msg_1 to msg_n.
func planMessages(t *testing.T, d *db.DB, n int, p planned) {
	t.Helper()
	p.contact = cmp.Or(p.contact, "NULL")
	p.to = cmp.Or(p.to, "'+17345550100'")
	p.kind = cmp.Or(p.kind, "'transactional'")
	p.status = cmp.Or(p.status, "'delivered'")
	_, err := d.Write().ExecContext(context.Background(), fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		INSERT INTO messages (id, account_id, number_id, contact_id, to_phone, kind, priority, body, encoding, segments,
			status, next_attempt_at, created_at, updated_at)
		SELECT 'msg_' || i, 'acc_1', 'num_1', %s, %s, %s, 0, 'Hi', 'GSM-7', 1, %s,
			CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
		FROM n`, n, p.contact, p.to, p.kind, p.status))
	require.NoError(t, err)
}
