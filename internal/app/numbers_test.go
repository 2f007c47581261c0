package app_test

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/message"
)

// The operator may set an account's numbers again while messages wait for
// them. A number whose phone stays keeps its id and takes its new rate; a
// number replaced by another phone hands its waiting messages to the new
// one. Either way every message goes, once, from a number the account has.
func TestWaitingMessagesFollowTheAccountsNumbers(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		// Each case starts slow, with its worker's rate not yet raised by
		// an earlier case: one message goes, three wait.
		start := func(t *testing.T) (*pipeline, func(phone string) account.Number, []*message.Message) {
			p := startPipeline(t, dbtest.Options(t, e), 0.2) // one message in five seconds
			ctx := context.Background()
			setNumber := func(phone string) account.Number {
				nums := []account.NumberInput{{Phone: phone, Kind: account.NumberBoth, MPS: 50}}
				_, err := p.app.Accounts.Configure(ctx, p.acct, account.Setup{Numbers: &nums})
				require.NoError(t, err)
				got, err := p.app.Accounts.Numbers(ctx, p.acct)
				require.NoError(t, err)
				require.Len(t, got, 1)
				return got[0]
			}
			var msgs []*message.Message
			for i := range 4 {
				msgs = append(msgs, p.send(p.contact(phoneN(i), consent.OptedIn), i))
			}
			p.waitStatus(msgs[0].ID, message.Delivered)
			return p, setNumber, msgs
		}
		t.Run(string(e)+"/the same phone, faster", func(t *testing.T) {
			t.Parallel()
			p, setNumber, msgs := start(t)
			require.Equal(t, p.number, setNumber("+18885550100").ID, "the number keeps its id")
			for _, m := range msgs {
				require.Equal(t, "+18885550100", p.waitStatus(m.ID, message.Delivered).From)
			}
		})
		t.Run(string(e)+"/another phone", func(t *testing.T) {
			t.Parallel()
			p, setNumber, msgs := start(t)
			require.NotEqual(t, p.number, setNumber("+18885550111").ID)
			froms := map[string]int{}
			for i, m := range msgs {
				got := p.waitStatus(m.ID, message.Delivered)
				inbox := p.app.Sim.Inbox(phoneN(i))
				require.Len(t, inbox, 1, "sent once")
				require.Equal(t, inbox[0].From, got.From, "the message says where it went from")
				froms[got.From]++
			}
			// The first went before the change; one more may have been
			// claimed and on its way.
			require.GreaterOrEqual(t, froms["+18885550111"], 2, "%v", froms)
			require.Equal(t, 4, froms["+18885550100"]+froms["+18885550111"], "%v", froms)
		})
		t.Run(string(e)+"/a message made on a number just gone", func(t *testing.T) {
			t.Parallel()
			p, setNumber, msgs := start(t)
			gone := p.number
			setNumber("+18885550111")
			// Another process, its numbers cached from before the change,
			// makes a message on the number that is gone.
			stale := staleMessage(t, p.app.DB, msgs[1].ID, gone)
			got := p.waitStatus(stale, message.Delivered)
			require.Equal(t, "+18885550111", got.From)
			require.Len(t, p.app.Sim.Inbox(phoneN(1)), 2, "the message it was made from, and it")
		})
	}
}

// A process that made a message on a number it had cached, just after the
// operator replaced that number, may stop before any process moved the
// message; so may every other. The next process to start moves it to the
// account's number, and it goes.
func TestAMessageLeftOnANumberThatWentGoesAfterARestart(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			first := startPipeline(t, dbtest.Options(t, e), 50)
			sent := first.send(first.contact(phoneN(1), consent.OptedIn), 1)
			first.waitStatus(sent.ID, message.Delivered)
			first.stop()

			// No dispatcher runs while the number is replaced and the
			// stale message is made.
			first.open(nil)
			ctx := context.Background()
			gone := first.number
			nums := []account.NumberInput{{Phone: "+18885550111", Kind: account.NumberBoth, MPS: 50}}
			_, err := first.app.Accounts.Configure(ctx, first.acct, account.Setup{Numbers: &nums})
			require.NoError(t, err)
			stale := staleMessage(t, first.app.DB, sent.ID, gone)
			first.stop()

			ln, err := net.Listen("tcp", first.cfg.Addr)
			require.NoError(t, err)
			second := &pipeline{t: t, cfg: first.cfg, acct: first.acct}
			second.open(ln)
			got := second.waitStatus(stale, message.Delivered)
			require.Equal(t, "+18885550111", got.From)
			require.Len(t, second.app.Sim.Inbox(phoneN(1)), 1, "the stale message, from the new number")
		})
	}
}

// A short code is a sender number like any other: its messages go from it
// at a short code's rate, and a STOP sent to it opts the contact out.
func TestAShortCodeSendsAndHearsReplies(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			ctx := context.Background()
			nums := []account.NumberInput{{Phone: "87654", Kind: account.NumberBoth}}
			_, err := p.app.Accounts.Configure(ctx, p.acct, account.Setup{Numbers: &nums})
			require.NoError(t, err)
			got, err := p.app.Accounts.Numbers(ctx, p.acct)
			require.NoError(t, err)
			require.Equal(t, 100.0, got[0].MPS, "a short code's default rate")

			c := p.contact("+17346263333", consent.OptedIn)
			m := p.waitStatus(p.send(c, 1).ID, message.Delivered)
			require.Equal(t, "87654", m.From)
			inbox := p.app.Sim.Inbox("+17346263333")
			require.Len(t, inbox, 1)
			require.Equal(t, "87654", inbox[0].From)

			require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "87654", "STOP"))
			after, err := p.app.Contacts.Get(ctx, p.acct, c.ID)
			require.NoError(t, err)
			require.Equal(t, consent.OptedOut, after.SMSPreference)
			require.Equal(t, message.Skipped, p.waitStatus(p.send(c, 2).ID, message.Skipped).Status)
		})
	}
}

// staleMessage writes, as a process with the numbers cached from before a
// change would, a queued copy of message from on numberID, sent from the
// old phone, and returns its id.
func staleMessage(t *testing.T, d *db.DB, from, numberID string) string {
	t.Helper()
	stale := id.New(id.Message)
	_, err := d.Write().ExecContext(context.Background(), `INSERT INTO messages (id, account_id,
		program_id, contact_id, number_id, to_phone, from_phone, kind, priority, template_id, version_id, body,
		encoding, segments, status, next_attempt_at, created_at, updated_at)
		SELECT $1, account_id, program_id, contact_id, $2, to_phone, '+18885550100', kind, priority, template_id,
		version_id, body, encoding, segments, 'queued', next_attempt_at, created_at, updated_at
		FROM messages WHERE id = $3`, stale, numberID, from)
	require.NoError(t, err)
	return stale
}
