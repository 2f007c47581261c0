package metrics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
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
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/secret"
)

// templates serves any template id as an approved transactional template
// (marketing has caps and sending windows of its own, not counted here).
type templates struct{ compiled *msgtemplate.Compiled }

func (s templates) Approved(_ context.Context, _, id string) (message.Template, error) {
	return message.Template{ID: id, VersionID: id + "_v1", Kind: message.Transactional, Compiled: s.compiled}, nil
}

type testBundle struct {
	ctx      context.Context
	d        *db.DB
	clock    *clock.Fake
	accounts *account.Store
	contacts *contact.Service
	messages *message.Service
	metrics  *metrics.Service
	acct     string
	number   string
	programs []string
}

// setup makes an account in New York with one number for both kinds, a
// monthly limit and two programs.
func setup(t testing.TB, d *db.DB, limit int64) *testBundle {
	t.Helper()
	ctx := context.Background()
	// 22:00 on 11 May in New York.
	c := clock.NewFake(time.Date(2026, 5, 12, 2, 0, 0, 0, time.UTC))
	box, err := secret.New("k")
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := account.NewStore(d, c, account.WithSecrets(box))
	contacts := contact.NewService(d, c, accounts)
	compiled, err := msgtemplate.Parse("Acme: double points for {{first_name}}! Reply STOP to opt out.")
	require.NoError(t, err)
	b := &testBundle{ctx: ctx, d: d, clock: c, accounts: accounts, contacts: contacts,
		messages: message.NewService(d, c, log, accounts, contacts, templates{compiled}), metrics: metrics.NewService(d, c, log)}
	a, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme", TimeZone: "America/New_York"})
	require.NoError(t, err)
	b.acct = a.ID
	on := true
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth}}
	_, err = accounts.Configure(ctx, a.ID, account.Setup{SMSEnabled: &on, MonthlyLimit: &limit, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "t"}})
	require.NoError(t, err)
	got, err := accounts.Numbers(ctx, a.ID)
	require.NoError(t, err)
	b.number = got[0].ID
	for _, name := range []string{"Referrals", "Loyalty"} {
		p, err := accounts.CreateProgram(ctx, a.ID, account.NewProgram{Name: name})
		require.NoError(t, err)
		b.programs = append(b.programs, p.ID)
	}
	return b
}

func (b *testBundle) contact(t testing.TB, n int, pref consent.Preference) contact.Contact {
	t.Helper()
	phone, p := fmt.Sprintf("+1734626%04d", 3300+n), string(pref)
	c, _, err := b.contacts.Upsert(b.ctx, b.acct, contact.Input{Phone: &phone, FirstName: &phone, SMSPreference: &p},
		contact.Change{Source: consent.SourceAPI})
	require.NoError(t, err)
	return c
}

func (b *testBundle) send(t *testing.T, c contact.Contact, program, tmpl string) *message.Message {
	t.Helper()
	m, err := b.messages.Create(b.ctx, b.acct, message.Request{ContactID: c.ID, TemplateID: tmpl, ProgramID: program})
	require.NoError(t, err)
	return m
}

func (b *testBundle) fold(t *testing.T) {
	t.Helper()
	_, err := b.metrics.Fold(b.ctx)
	require.NoError(t, err)
}

func (b *testBundle) dashboard(t *testing.T, q metrics.Query) *metrics.Report {
	t.Helper()
	r, err := b.metrics.Dashboard(b.ctx, b.acct, q)
	require.NoError(t, err)
	return r
}

func TestRollupsEqualACountOfTheMessages(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 6)
		stopped := b.contact(t, 99, consent.OptedOut)
		var people []contact.Contact
		for i := 0; i < 10; i++ {
			people = append(people, b.contact(t, i, consent.OptedIn))
		}
		// Ten messages 40 minutes apart, across New York's midnight, over
		// two programs and two templates; the last four pass the limit.
		var made []*message.Message
		for i, c := range people {
			made = append(made, b.send(t, c, b.programs[i%2], []string{"tpl_a", "tpl_b"}[i/5]))
			b.clock.Advance(40 * time.Minute)
		}
		b.send(t, stopped, b.programs[0], "tpl_a") // skipped: not opted in
		b.fold(t)                                  // a first fold part-way, as the worker would

		claimed, err := b.messages.Claim(b.ctx, b.number, 100, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 6)
		acct, err := b.accounts.Get(b.ctx, b.acct)
		require.NoError(t, err)
		b.clock.Advance(time.Minute)
		require.NoError(t, b.messages.Record(b.ctx, acct, []message.Outcome{
			{Message: claimed[0], Status: message.Sent, Carrier: "twilio", CarrierID: "SM0"},
			{Message: claimed[1], Status: message.Sent, Carrier: "twilio", CarrierID: "SM1"},
			{Message: claimed[2], Status: message.Sent, Carrier: "twilio", CarrierID: "SM2"},
			{Message: claimed[3], Status: message.Failed, Reason: message.ReasonCarrierRejected, ErrorCode: "21408"},
			{Message: claimed[4], Status: message.Queued, Reason: "retry"},
			{Message: claimed[5], Status: message.Skipped, Reason: message.ReasonContactDeleted},
		}))
		b.clock.Advance(time.Hour)
		for _, cs := range []message.CarrierStatus{
			{CarrierID: "SM0", Status: "delivered", Token: "t0"},
			{CarrierID: "SM0", Status: "delivered", Token: "t0"}, // a repeat changes nothing
			{CarrierID: "SM1", Status: "undelivered", ErrorCode: "30007", Token: "t1"},
			{CarrierID: "SM2", Status: "failed", ErrorCode: "30007", Token: "t2"},
		} {
			require.NoError(t, b.messages.ApplyCarrierStatus(b.ctx, b.acct, cs))
		}
		res, err := b.messages.ReleaseQueued(b.ctx, b.acct, []string{made[6].ID}, false)
		require.NoError(t, err)
		require.Equal(t, 1, res.Released)
		res, err = b.messages.CancelQueued(b.ctx, b.acct, []string{made[7].ID}, false)
		require.NoError(t, err)
		require.Equal(t, 1, res.Cancelled)
		// One number: opting out writes a record per kind, and is one opt-out.
		out := string(consent.OptedOut)
		_, _, err = b.contacts.Upsert(b.ctx, b.acct, contact.Input{Phone: people[0].PhoneE164, SMSPreference: &out},
			contact.Change{Source: consent.SourceKeyword})
		require.NoError(t, err)
		b.fold(t)

		r := b.dashboard(t, metrics.Query{From: date("2026-05-11"), To: date("2026-05-12"), Interval: metrics.Hour})
		want := directCounts(t, b)
		require.Equal(t, want.totals, r.Totals.Counts.WithoutRate())
		// The same figures, worked out from the scenario above.
		require.Equal(t, metrics.Counts{Created: 11, Sent: 3, Delivered: 1, Undelivered: 1, Failed: 2, Skipped: 2,
			LimitQueued: 4, Cancelled: 1, SegmentsSent: 3}, r.Totals.Counts.WithoutRate())
		require.InDelta(t, 0.25, *r.Totals.DeliveryRate, 1e-9, "1 delivered of 4 outcomes")
		require.Equal(t, int64(2), r.Totals.OptOuts, "the contact who never opted in, and the one who opted out")
		for _, row := range r.ByProgram {
			require.Equal(t, want.byProgram[deref(row.ProgramID)], row.Counts.WithoutRate(), "program %v", row.ProgramID)
		}
		require.Len(t, r.ByProgram, len(want.byProgram))
		for _, row := range r.ByTemplate {
			require.Equal(t, want.byTemplate[deref(row.TemplateID)], row.Counts.WithoutRate(), "template %v", row.TemplateID)
		}
		require.Len(t, r.ByTemplate, len(want.byTemplate))
		// Each hour's messages created, against their created_at.
		for _, p := range r.Series {
			require.Equal(t, want.createdIn(p.Start, p.End), p.Created, "hour %s", p.Start)
		}
		require.Len(t, r.Series, 48)
	})
}

// TestFoldCountsEachChangeOnceUnderLoad writes messages from several
// goroutines while folds run alongside: transactions commit out of order
// (on PostgreSQL), and every change must still be counted exactly once.
func TestFoldCountsEachChangeOnceUnderLoad(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		var people []contact.Contact
		for i := 0; i < 4; i++ {
			people = append(people, b.contact(t, i, consent.OptedIn))
		}
		stopped := b.contact(t, 50, consent.OptedOut)
		second := metrics.NewService(d, b.clock, slog.New(slog.NewTextHandler(io.Discard, nil))) // another process
		done := make(chan struct{})
		var folders sync.WaitGroup
		for _, m := range []*metrics.Service{b.metrics, second} {
			folders.Add(1)
			go func() {
				defer folders.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					if _, err := m.Fold(b.ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		var writers sync.WaitGroup
		for w := 0; w < 4; w++ {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for i := 0; i < 30; i++ {
					c := people[w]
					if i%10 == 0 {
						c = stopped
					}
					_, err := b.messages.Create(b.ctx, b.acct, message.Request{ContactID: c.ID, TemplateID: "tpl_a",
						ProgramID: b.programs[w%2]})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		writers.Wait()
		close(done)
		folders.Wait()
		b.fold(t)
		r := b.dashboard(t, metrics.Query{From: date("2026-05-11"), To: date("2026-05-11")})
		require.Equal(t, int64(120), r.Totals.Created)
		require.Equal(t, int64(12), r.Totals.Skipped)
		require.Equal(t, directCounts(t, b).totals, r.Totals.Counts.WithoutRate())
	})
}

func TestFilters(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		c := b.contact(t, 1, consent.OptedIn)
		b.send(t, c, b.programs[0], "tpl_a")
		b.send(t, c, b.programs[0], "tpl_b")
		b.send(t, c, b.programs[1], "tpl_b")
		b.send(t, c, "", "tpl_b")
		out := string(consent.OptedOut)
		_, _, err := b.contacts.Upsert(b.ctx, b.acct, contact.Input{Phone: c.PhoneE164, SMSPreference: &out},
			contact.Change{Source: consent.SourceKeyword})
		require.NoError(t, err)
		b.fold(t)
		day := metrics.Query{From: date("2026-05-11"), To: date("2026-05-11"), Interval: metrics.Day}
		q := day
		q.ProgramID = b.programs[0]
		r := b.dashboard(t, q)
		require.Equal(t, int64(2), r.Totals.Created)
		require.Equal(t, int64(1), r.Totals.OptOuts, "opt-outs are the account's, whatever the filter")
		require.Len(t, r.ByTemplate, 2)
		require.Len(t, r.ByProgram, 1)
		require.Equal(t, "Referrals", r.ByProgram[0].ProgramName)

		r = b.dashboard(t, day)
		require.Equal(t, int64(4), r.Totals.Created)
		require.Len(t, r.ByProgram, 3, "two programs and no program")
		require.Equal(t, "tpl_b", *r.ByTemplate[0].TemplateID, "busiest first")
		require.Equal(t, int64(3), r.ByTemplate[0].Created)
		require.Nil(t, r.Series[0].DeliveryRate, "nothing reached an outcome")

		// Another account's program is refused, with its own code.
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		p, err := b.accounts.CreateProgram(b.ctx, other.ID, account.NewProgram{Name: "Theirs"})
		require.NoError(t, err)
		q.ProgramID = p.ID
		_, err = b.metrics.Dashboard(b.ctx, b.acct, q)
		require.ErrorContains(t, err, "unknown_program")
	})
}

func date(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// counted is what a direct count over the messages (and, for entries into
// the limit queue, their log) says.
type counted struct {
	totals                metrics.Counts
	byProgram, byTemplate map[string]metrics.Counts
	created               []time.Time
}

func (c counted) createdIn(from, to time.Time) int64 {
	n := int64(0)
	for _, at := range c.created {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// sentCase says a message reached the carrier: it is sent or has an
// outcome from the carrier (a failure with a carrier id came back later).
const sentCase = `(status IN ('sent', 'delivered', 'undelivered') OR (status = 'failed' AND carrier_id IS NOT NULL))`

func directCounts(t *testing.T, b *testBundle) counted {
	t.Helper()
	out := counted{byProgram: map[string]metrics.Counts{}, byTemplate: map[string]metrics.Counts{}}
	rows, err := b.d.Read().QueryContext(b.ctx, `SELECT COALESCE(program_id, ''), COALESCE(template_id, ''), created_at,
		CASE WHEN `+sentCase+` THEN 1 ELSE 0 END, status, segments,
		(SELECT COUNT(*) FROM message_events e WHERE e.message_id = m.id AND e.status = 'limit_queued')
		FROM messages m WHERE account_id = $1`, b.acct)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var (
			program, tmpl, status string
			at                    time.Time
			sent                  bool
			segments, queued      int64
		)
		require.NoError(t, rows.Scan(&program, &tmpl, &at, &sent, &status, &segments, &queued))
		c := metrics.Counts{Created: 1, LimitQueued: queued}
		if sent {
			c.Sent, c.SegmentsSent = 1, segments
		}
		switch message.Status(status) {
		case message.Delivered:
			c.Delivered = 1
		case message.Undelivered:
			c.Undelivered = 1
		case message.Failed:
			c.Failed = 1
		case message.Skipped:
			c.Skipped = 1
		case message.Cancelled:
			c.Cancelled = 1
		}
		out.totals = plus(out.totals, c)
		out.byProgram[program] = plus(out.byProgram[program], c)
		out.byTemplate[tmpl] = plus(out.byTemplate[tmpl], c)
		out.created = append(out.created, at)
	}
	require.NoError(t, rows.Err())
	return out
}

func plus(a, b metrics.Counts) metrics.Counts {
	return metrics.Counts{Created: a.Created + b.Created, Sent: a.Sent + b.Sent, Delivered: a.Delivered + b.Delivered,
		Undelivered: a.Undelivered + b.Undelivered, Failed: a.Failed + b.Failed, Skipped: a.Skipped + b.Skipped,
		LimitQueued: a.LimitQueued + b.LimitQueued, Cancelled: a.Cancelled + b.Cancelled,
		SegmentsSent: a.SegmentsSent + b.SegmentsSent}
}

// On PostgreSQL the inbox is vacuumed once enough changes have been folded
// out of it, so its dead rows do not pile up for the next fold to read.
func TestFoldVacuumsTheInboxOnPostgres(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t, db.Postgres)
	b := setup(t, d, 1_000_000)
	vacuums := func() (n int) {
		require.NoError(t, d.Read().QueryRowContext(b.ctx, `SELECT vacuum_count FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'metrics_inbox'`).Scan(&n))
		return n
	}
	note := func(n int) {
		_, err := d.Write().ExecContext(b.ctx, `INSERT INTO metrics_inbox (account_id, message_id, what, at)
			SELECT $1, 'msg_gone_' || i, 'sent', now() FROM generate_series(1, $2::int) AS i`, b.acct, n)
		require.NoError(t, err)
	}
	note(15000)
	b.fold(t)
	require.Zero(t, vacuums(), "not yet: 15,000 folded")
	note(6000)
	b.fold(t)
	require.Equal(t, 1, vacuums(), "21,000 folded")
	var left int
	require.NoError(t, d.Read().QueryRowContext(b.ctx, `SELECT count(*) FROM metrics_inbox`).Scan(&left))
	require.Zero(t, left)
}
