package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/message"
)

// A send's result that cannot be written for a moment (a database
// restarting, say) is written when it can be, while the message's claim
// lasts: the message is not claimed and sent again when the claim runs
// out. A write that fails for longer is given up before the claim ends,
// and the message goes again, once.
func TestAResultWriteThatFailsForAMomentIsTriedAgain(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		for _, tc := range []struct {
			name   string
			away   time.Duration
			claims int
		}{
			{"for a second", time.Second, 1},
			{"past the claim", 6 * time.Second, 2},
		} {
			t.Run(string(e)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				p := startPipeline(t, dbtest.Options(t, e), 50,
					app.WithDelivery(func(c *delivery.Config) { c.ClaimFor = 4 * time.Second }))
				failSentWritesUntil(t, p.app.DB, time.Now().Add(tc.away))

				c := p.contact("+17346263333", consent.OptedIn)
				m := p.waitStatus(p.send(c, 1).ID, message.Delivered)
				want := []message.Status{message.Queued, message.Sending}
				for range tc.claims - 1 {
					want = append(want, message.Queued, message.Sending) // the claim expired
				}
				want = append(want, message.Sent, message.Delivered)
				require.Equal(t, want, statuses(m))
				require.Len(t, p.app.Sim.Inbox("+17346263333"), tc.claims, "sent once a claim")
			})
		}
	}
}

// failSentWritesUntil makes every write that moves a message to sent fail
// until the given time, as a database that is away would.
func failSentWritesUntil(t *testing.T, d *db.DB, until time.Time) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{`CREATE TRIGGER fail_sent BEFORE UPDATE OF status ON messages
		WHEN NEW.status = 'sent' AND julianday('now') < julianday('` + until.UTC().Format("2006-01-02 15:04:05.000") + `')
		BEGIN SELECT RAISE(ABORT, 'the database is away'); END`}
	if d.Engine == db.Postgres {
		stmts = []string{`CREATE FUNCTION fail_sent() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF clock_timestamp() < '` + until.UTC().Format(time.RFC3339Nano) + `'::timestamptz THEN
					RAISE EXCEPTION 'the database is away';
				END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER fail_sent BEFORE UPDATE ON messages FOR EACH ROW WHEN (NEW.status = 'sent')
				EXECUTE FUNCTION fail_sent()`}
	}
	for _, s := range stmts {
		_, err := d.Write().ExecContext(ctx, s)
		require.NoError(t, err)
	}
}
