package message

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// The frequency cap reads the messages of the batch's contacts, not the
// account's, both when it re-checks a claimed batch and when it places new
// messages: on SQLite before the planner has statistics and with the
// sampled ones Herald gathers (analysis_limit, which can guess a contact's
// messages a hundred times too many), and on both engines with full
// statistics. A third of the messages are transactional, which the index by
// contact holds too.
func TestFrequencyCapReadsOnlyItsContacts(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := planAccount(t, d)
		planMessages(t, d, 20000, planned{contact: "'con_' || (i % 5000)",
			kind:   "CASE WHEN i % 3 = 1 THEN 'transactional' ELSE 'marketing' END",
			status: "CASE WHEN i % 3 = 0 THEN 'queued' ELSE 'delivered' END"})

		var contacts, batch []any
		for i := range 100 {
			contacts = append(contacts, fmt.Sprintf("con_%d", i))
			batch = append(batch, fmt.Sprintf("msg_%d", i))
		}
		recheck := append(append([]any{"acc_1", "2030-01-01T00:00:00Z"}, contacts...), batch...)
		place := append([]any{"acc_1", "2029-12-31T00:00:00Z", "2030-01-02T00:00:00Z"}, contacts...)
		// The index is entered by account and contact both: SQLite says
		// so in the step, PostgreSQL in the scan's Index Cond.
		seeks := "USING INDEX messages_contact (account_id=? AND contact_id=?)"
		if d.Engine == db.Postgres {
			seeks = "Index Cond: ((account_id = 'acc_1'::text) AND (contact_id = ANY"
		}
		check := func(when string) {
			for _, plan := range []string{
				dbtest.Plan(t, d, sentMarketingQuery(100, 100), recheck...),
				dbtest.Plan(t, d, marketingTimesQuery(100), place...),
			} {
				require.Contains(t, plan, seeks, "%s:\n%s", when, plan)
				require.NotContains(t, plan, "Seq Scan", "%s:\n%s", when, plan)
				require.NotContains(t, plan, "SCAN messages", "%s:\n%s", when, plan)
			}
		}
		if d.Engine == db.SQLite {
			check("without statistics")
			require.NoError(t, d.Optimize(ctx)) // sampled: analysis_limit
			check("with the statistics Herald gathers")
		}
		// PostgreSQL, with no statistics, takes the table for a few rows
		// and reads the account's messages of the counted statuses (by
		// messages_account_status, contacts filtered). Herald's Optimize
		// analyses a table within 10 s of its growing by a tenth; until
		// then the cap's re-check reads more than it needs.
		_, err := d.Write().ExecContext(ctx, `ANALYZE`)
		require.NoError(t, err)
		check("with full statistics")
	})
}
