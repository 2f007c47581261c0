package msgtemplate_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

func TestSendTestSendsTheCurrentVersion(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, "{{brand}}: Hi {{first_name}}, your {{reward_amount}} reward is ready.")
		in := msgtemplate.TestInput{To: "+1 734-626-3333", Data: map[string]any{"first_name": "Sam"}}
		rec, err := b.svc.SendTest(b.ctx, b.acct, tpl.ID, in, actor)
		require.NoError(t, err, "a draft can be tested")
		want := "Acme Coffee: Hi Sam, your $25 reward is ready."
		require.Equal(t, want, rec.Body)
		require.Equal(t, "+17346263333", rec.To)
		require.Equal(t, "sent", rec.Status)
		require.True(t, rec.Test)
		require.Equal(t, len(want), rec.Characters)
		require.Equal(t, tpl.VersionID, rec.VersionID)
		require.Equal(t, b.clock.Now(), rec.CreatedAt)

		calls := b.sender.calls()
		require.Len(t, calls, 1)
		require.Equal(t, msgtemplate.TestSend{AccountID: b.acct, TemplateID: tpl.ID, VersionID: tpl.VersionID,
			To: "+17346263333", Body: want, Actor: actor, Kind: msgtemplate.KindTransactional}, calls[0])
		require.Equal(t, calls[0].To, rec.To)

		var stored struct{ body, status, messageID, actor string }
		require.NoError(t, d.Read().QueryRowContext(b.ctx, `SELECT body, status, message_id, actor FROM template_test_sends
			WHERE account_id = $1 AND id = $2`, b.acct, rec.ID).Scan(&stored.body, &stored.status, &stored.messageID, &stored.actor))
		require.Equal(t, want, stored.body)
		require.Equal(t, "sent", stored.status)
		require.Equal(t, rec.MessageID, stored.messageID)
		require.NotEmpty(t, stored.messageID)
		require.Equal(t, actor, stored.actor)

		var logged map[string]any
		line, _, _ := strings.Cut(b.logs.String(), "\n")
		require.NoError(t, json.Unmarshal([]byte(line), &logged))
		require.Equal(t, true, logged["test"], "test sends are marked as tests in the log")
		require.Equal(t, rec.ID, logged["test_send_id"])
		require.NotContains(t, b.logs.String(), "7346263333", "the number is not logged")
	})
}

func TestSendTestIsLimitedPerRollingHour(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		send := func() error {
			_, err := b.svc.SendTest(b.ctx, b.acct, tpl.ID, msgtemplate.TestInput{To: "+17346263333"}, actor)
			return err
		}
		for range 10 {
			require.NoError(t, send())
		}
		b.clock.Advance(30 * time.Minute)
		for range 10 {
			require.NoError(t, send())
		}
		p := requireProblem(t, send(), problem.TooMany, "rate_limited")
		require.Equal(t, 30*60, p.Detail["retry_after_seconds"], "the first ten leave the window in 30 minutes")
		b.clock.Advance(29 * time.Minute)
		requireProblem(t, send(), problem.TooMany, "rate_limited")

		// Another account has its own hour.
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Beta"})
		require.NoError(t, err)
		theirs, err := b.svc.Create(b.ctx, other.ID, msgtemplate.NewTemplate{Name: "t", Kind: "transactional", Body: "Hi"}, actor)
		require.NoError(t, err)
		_, err = b.svc.SendTest(b.ctx, other.ID, theirs.ID, msgtemplate.TestInput{To: "+17346263333"}, actor)
		require.NoError(t, err)

		b.clock.Advance(time.Minute + time.Second)
		for range 10 {
			require.NoError(t, send(), "the first ten are more than an hour old")
		}
		requireProblem(t, send(), problem.TooMany, "rate_limited")
		require.Len(t, b.sender.calls(), 31)
	})
}

func TestSendTestRefusals(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		cases := []struct {
			name  string
			in    msgtemplate.TestInput
			code  string
			field string
		}{
			{"no plus sign", msgtemplate.TestInput{To: "7346263333"}, "invalid_phone", "to"},
			{"parentheses", msgtemplate.TestInput{To: "+1 (734) 626-3333"}, "invalid_phone", "to"},
			{"empty", msgtemplate.TestInput{}, "invalid_phone", "to"},
			{"not a real number", msgtemplate.TestInput{To: "+1 555 010"}, "invalid_phone", "to"},
			{"a landline", msgtemplate.TestInput{To: "+44 20 7946 0018"}, "invalid_phone", "to"},
			{"value made missing", msgtemplate.TestInput{To: "+17346263333", Data: map[string]any{"first_name": nil}}, "missing_merge_value", "data"},
			{"unknown data key", msgtemplate.TestInput{To: "+17346263333", Data: map[string]any{"frist_name": "x"}}, "unknown_merge_tag", "data.frist_name"},
			{"object value", msgtemplate.TestInput{To: "+17346263333", Data: map[string]any{"first_name": map[string]any{}}}, "invalid_merge_value", "data.first_name"},
			{"too long with data", msgtemplate.TestInput{To: "+17346263333", Data: map[string]any{"first_name": strings.Repeat("a", 1600)}}, "body_too_long", "data"},
		}
		for _, tc := range cases {
			_, err := b.svc.SendTest(b.ctx, b.acct, tpl.ID, tc.in, actor)
			p := requireProblem(t, err, problem.Invalid, tc.code)
			require.Equal(t, tc.field, p.Field, tc.name)
		}
		require.Empty(t, b.sender.calls())

		_, err := b.svc.SendTest(b.ctx, b.acct, "tpl_nothing", msgtemplate.TestInput{To: "+17346263333"}, actor)
		requireProblem(t, err, problem.NotFound, "not_found")
		require.NoError(t, b.svc.Archive(b.ctx, b.acct, tpl.ID, actor))
		_, err = b.svc.SendTest(b.ctx, b.acct, tpl.ID, msgtemplate.TestInput{To: "+17346263333"}, actor)
		requireProblem(t, err, problem.Conflict, "template_archived")
	})
}

func TestSendTestWithoutASenderIsKeptAsFailed(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	svc := msgtemplate.NewService(b.db, b.clock, b.accounts, msgtemplate.UnconfiguredSender{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
	_, err := svc.SendTest(b.ctx, b.acct, tpl.ID, msgtemplate.TestInput{To: "+17346263333"}, actor)
	requireProblem(t, err, problem.Unavailable, "sending_not_configured")
	var status, reason string
	require.NoError(t, b.db.Read().QueryRowContext(b.ctx,
		`SELECT status, error FROM template_test_sends WHERE account_id = $1`, b.acct).Scan(&status, &reason))
	require.Equal(t, "failed", status)
	require.Contains(t, reason, "sending_not_configured")
}

// Sends racing for the last places of the hour: exactly the limit get
// through, on PostgreSQL too, where the account row lock makes them take
// turns.
func TestSendTestLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		errs := make([]error, msgtemplate.MaxTestSendsPerHour+10)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = b.svc.SendTest(b.ctx, b.acct, tpl.ID, msgtemplate.TestInput{To: "+17346263333"}, actor)
			})
		}
		wg.Wait()
		sent := 0
		for _, err := range errs {
			if err == nil {
				sent++
				continue
			}
			requireProblem(t, err, problem.TooMany, "rate_limited")
		}
		require.Equal(t, msgtemplate.MaxTestSendsPerHour, sent)
		require.Len(t, b.sender.calls(), msgtemplate.MaxTestSendsPerHour)
	})
}
