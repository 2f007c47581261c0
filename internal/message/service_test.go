package message_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/secret"
)

// oneTemplate serves a single approved template.
type oneTemplate struct{ compiled *msgtemplate.Compiled }

func (o oneTemplate) Approved(context.Context, string, string) (message.Template, error) {
	return message.Template{ID: "tpl_1", VersionID: "tpv_1", Kind: message.Marketing, Compiled: o.compiled}, nil
}

type testBundle struct {
	ctx      context.Context
	clock    *clock.Fake
	accounts *account.Store
	contacts *contact.Service
	svc      *message.Service
	acct     account.Account
	marks    []int
}

func setup(t testing.TB, d *db.DB, limit int64) *testBundle {
	t.Helper()
	ctx := context.Background()
	// 20:00 on 30 April in New York: the month ends in four hours.
	c := clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	box, err := secret.New("k")
	require.NoError(t, err)
	accounts := account.NewStore(d, c, account.WithSecrets(box))
	contacts := contact.NewService(d, c, accounts)
	compiled, err := msgtemplate.Parse("Acme: double points for {{first_name}}! Reply STOP to opt out.")
	require.NoError(t, err)
	svc := message.NewService(d, c, slog.New(slog.NewTextHandler(io.Discard, nil)), accounts, contacts, oneTemplate{compiled})
	a, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme", TimeZone: "America/New_York"})
	require.NoError(t, err)
	on, release := true, true
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth}}
	_, err = accounts.Configure(ctx, a.ID, account.Setup{SMSEnabled: &on, MonthlyLimit: &limit, AutoReleaseQueue: &release,
		Numbers: &nums, Twilio: &account.TwilioSetup{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "t"}})
	require.NoError(t, err)
	b := &testBundle{ctx: ctx, clock: c, accounts: accounts, contacts: contacts, svc: svc}
	b.acct, err = accounts.Get(ctx, a.ID)
	require.NoError(t, err)
	svc.OnMark = func(_ context.Context, _ string, mark int) { b.marks = append(b.marks, mark) }
	return b
}

func (b *testBundle) send(t *testing.T) *message.Message {
	t.Helper()
	pref := string(consent.OptedIn)
	ph := "+17346263333"
	c, _, err := b.contacts.Upsert(b.ctx, b.acct.ID, contact.Input{Phone: &ph, FirstName: &ph, SMSPreference: &pref},
		contact.Change{Source: consent.SourceAPI})
	require.NoError(t, err)
	// Transactional: these tests are about the monthly limit, which the
	// marketing guards (guards_test.go) would get in the way of.
	m, err := b.svc.Create(b.ctx, b.acct.ID, message.Request{ContactID: c.ID, TemplateID: "tpl_1", Kind: message.Transactional})
	require.NoError(t, err)
	return m
}

func TestUsageMarksAreAnnouncedOncePerMonth(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 10)
		for i := 0; i < 12; i++ {
			b.send(t)
		}
		require.Equal(t, []int{50, 80, 100}, b.marks, "each mark once, in order")
		u, err := b.svc.UsageOf(b.ctx, b.acct)
		require.NoError(t, err)
		require.Equal(t, int64(10), u.Used)
		require.Equal(t, "2026-04", u.Month, "the account's month: still April in New York")
		require.Equal(t, 100, u.Percent)
	})
}

func TestQueueReleasedWhenTheMonthBegins(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1)
		require.Equal(t, message.Queued, b.send(t).Status)
		aprilQueued := b.send(t)
		require.Equal(t, message.LimitQueued, aprilQueued.Status)

		n, err := b.svc.ReleaseForNewMonth(b.ctx)
		require.NoError(t, err)
		require.Zero(t, n, "April is not over in New York")

		b.clock.Advance(5 * time.Hour) // 01:00 on 1 May in New York
		require.Equal(t, message.Queued, b.send(t).Status, "a new month, a new allowance")
		mayQueued := b.send(t)
		require.Equal(t, message.LimitQueued, mayQueued.Status)

		n, err = b.svc.ReleaseForNewMonth(b.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		got, err := b.svc.Get(b.ctx, b.acct.ID, aprilQueued.ID)
		require.NoError(t, err)
		require.Equal(t, message.Queued, got.Status, "April's queue goes out")
		got, err = b.svc.Get(b.ctx, b.acct.ID, mayQueued.ID)
		require.NoError(t, err)
		require.Equal(t, message.LimitQueued, got.Status, "May's waits for an admin")
	})
}
