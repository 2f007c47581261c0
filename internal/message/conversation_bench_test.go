package message_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// BenchmarkConversationPage reads the first page of one contact's
// conversation (its messages and the notices to its number) in an account
// of 200,000 messages, one in fifty a notice, with the statistics Herald
// gathers: go test -run X -bench ConversationPage ./internal/message
func BenchmarkConversationPage(b *testing.B) {
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) { benchmarkConversationPage(b, dbtest.New(b, e)) })
	}
}

func benchmarkConversationPage(b *testing.B, d *db.DB) {
	tb := setup(b, d, 1_000_000_000)
	ctx := context.Background()
	_, err := d.Write().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
		INSERT INTO messages (id, account_id, contact_id, to_phone, kind, priority, body, encoding, segments,
			status, next_attempt_at, created_at, updated_at)
		SELECT 'msg_' || (1000000 + i), $1, CASE WHEN i % 50 = 0 THEN NULL ELSE 'con_' || (i % 20000) END,
			'+1734' || (1000000 + CASE WHEN i % 50 = 0 THEN (i / 50) % 20000 ELSE i % 20000 END), 'marketing', 1, 'Hi', 'GSM-7', 1, 'delivered',
			CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
		FROM n`, tb.acct.ID)
	require.NoError(b, err)
	require.NoError(b, d.Optimize(ctx))
	f := message.Filter{ContactID: "con_7", NoticesTo: "+17341000007", Limit: 50}
	for b.Loop() {
		page, err := tb.svc.List(ctx, tb.acct.ID, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Data) != 11 { // ten to the contact, one notice
			b.Fatalf("page of %d messages", len(page.Data))
		}
	}
}
