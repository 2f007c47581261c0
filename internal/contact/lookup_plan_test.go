package contact

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// A gathered look-up by external id seeks contacts_external_id for each id,
// and reads no other contact of the account: before the planner has
// statistics (a new account importing its contacts) and with full ones.
func TestLookUpByExternalIDsSeeksEachID(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, err := d.Write().ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at)
			VALUES ('acc_1', 'Acme', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
		require.NoError(t, err)
		_, err = d.Write().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
			INSERT INTO contacts (id, account_id, external_id, sms_marketing, created_at, updated_at)
			SELECT 'ctc_' || i, 'acc_1', 'u' || i, 'opted_in', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n`)
		require.NoError(t, err)
		var ids []string
		for i := range 30 {
			ids = append(ids, fmt.Sprint("u", i*97))
		}
		query, args := externalIDsQuery(d.Engine, "acc_1", ids)
		seeks := "USING INDEX contacts_external_id (account_id=? AND external_id=?)"
		if d.Engine == db.Postgres {
			seeks = "Index Cond: ((account_id = 'acc_1'::text) AND (external_id = k.external_id))"
		}
		check := func(when string) {
			plan := dbtest.Plan(t, d, query, args...)
			require.Contains(t, plan, seeks, "%s:\n%s", when, plan)
			require.NotContains(t, plan, "Seq Scan", "%s:\n%s", when, plan)
			require.NotContains(t, plan, "SCAN contacts", "%s:\n%s", when, plan)
		}
		check("without statistics")
		_, err = d.Write().ExecContext(ctx, `ANALYZE`)
		require.NoError(t, err)
		check("with full statistics")
	})
}
