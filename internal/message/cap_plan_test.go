package message

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// The frequency cap reads the messages of the batch's contacts, not the
// account's, both when it re-checks a claimed batch and when it places new
// messages: on both engines before the planner has statistics and with
// full ones, and on SQLite with the sampled ones Herald gathers too
// (analysis_limit, which can guess a contact's messages a hundred times too
// many). PostgreSQL looks each contact up on its own, so that neither
// missing nor stale statistics can turn the look-ups into a read of the
// account's messages. A third of the messages are transactional, which the
// index by contact holds too.
func TestFrequencyCapReadsOnlyItsContacts(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := planAccount(t, d)
		planMessages(t, d, 20000, planned{contact: "'con_' || (i % 5000)",
			kind:   "CASE WHEN i % 3 = 1 THEN 'transactional' ELSE 'marketing' END",
			status: "CASE WHEN i % 3 = 0 THEN 'queued' ELSE 'delivered' END"})

		var contacts, batch []string
		for i := range 100 {
			contacts = append(contacts, fmt.Sprintf("con_%d", i))
			batch = append(batch, fmt.Sprintf("msg_%d", i))
		}
		since := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		recheck, recheckArgs := sentMarketingQuery(d.Engine, "acc_1", contacts, batch, since)
		place, placeArgs := marketingTimesQuery(d.Engine, "acc_1", contacts, since.Add(-24*time.Hour), since.Add(24*time.Hour))
		// The index is entered by account and contact both: SQLite says
		// so in the step, PostgreSQL in the scan's Index Cond, once per
		// contact.
		seeks := "USING INDEX messages_contact (account_id=? AND contact_id=?)"
		if d.Engine == db.Postgres {
			seeks = "Index Cond: ((account_id = 'acc_1'::text) AND (contact_id = c.id))"
		}
		check := func(when string) {
			for _, plan := range []string{
				dbtest.Plan(t, d, recheck, recheckArgs...),
				dbtest.Plan(t, d, place, placeArgs...),
			} {
				require.Contains(t, plan, seeks, "%s:\n%s", when, plan)
				require.NotContains(t, plan, "messages_account_status", "%s:\n%s", when, plan)
				require.NotContains(t, plan, "Seq Scan", "%s:\n%s", when, plan)
				require.NotContains(t, plan, "SCAN messages", "%s:\n%s", when, plan)
			}
		}
		check("without statistics")
		if d.Engine == db.SQLite {
			require.NoError(t, d.Optimize(ctx)) // sampled: analysis_limit
			check("with the statistics Herald gathers")
		}
		_, err := d.Write().ExecContext(ctx, `ANALYZE`)
		require.NoError(t, err)
		check("with full statistics")
	})
}
