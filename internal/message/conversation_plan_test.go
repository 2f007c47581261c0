package message

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// A conversation's notices are found by their number: the query seeks the
// notices index rather than reading every notice of the account, of which
// a busy enrolment page sends thousands, and its page is the one the
// simpler query with an OR gives.
func TestConversationSeeksItsNotices(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := planAccount(t, d)
		// 6,000 messages: every third a notice to a number of its own, the
		// rest to 400 contacts.
		planMessages(t, d, 6000, planned{contact: "CASE WHEN i % 3 = 0 THEN NULL ELSE 'ct_' || (i % 400) END",
			to: "'+1734555' || (1000 + i)"})
		require.NoError(t, d.Optimize(ctx)) // Herald keeps statistics so

		query, args := Filter{ContactID: "ct_7", NoticesTo: "+17345551003", Limit: 50}.query("acc_1")
		plan := dbtest.Plan(t, d, query, args...)
		require.Contains(t, plan, "messages_notices", plan)
		require.Contains(t, plan, "messages_contact", plan)
		require.NotContains(t, plan, "messages_account ", plan)

		// The merged halves give the page the one query with an OR gave:
		// newest first, cut at the page's size, at every size and from a
		// cursor.
		ids := func(query string, args ...any) []string {
			rows, err := d.Read().QueryContext(ctx, query, args...)
			require.NoError(t, err)
			msgs, err := scanMessages(rows)
			require.NoError(t, err)
			out := []string{}
			for _, m := range msgs {
				out = append(out, m.ID)
			}
			return out
		}
		const withOr = `SELECT ` + messageColumns + ` FROM messages WHERE account_id = $1
			AND (contact_id = $2 OR (contact_id IS NULL AND to_phone = $3)) AND id < $4 ORDER BY id DESC LIMIT $5`
		for _, limit := range []int{1, 4, 10, 50} {
			for _, cursor := range []string{"", "msg_5"} {
				f := Filter{ContactID: "ct_7", NoticesTo: "+17345551003", Limit: limit}
				before := "~" // sorts after every id
				if cursor != "" {
					f.Cursor, before = base64.RawURLEncoding.EncodeToString([]byte(cursor)), cursor
				}
				query, args := f.query("acc_1")
				want := ids(withOr, "acc_1", "ct_7", "+17345551003", before, limit+1)
				require.NotEmpty(t, want)
				require.Equal(t, want, ids(query, args...), "limit %d, cursor %q", limit, cursor)
			}
		}
	})
}
