package message_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

func TestCreateMany(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		b.clock.Set(at(t, "2026-06-15T16:00:00Z")) // noon in New York, 09:00 in Los Angeles
		ny, la := b.contactAt(t, "+12125550123", ""), b.contactAt(t, "+12135550123", "")
		night := b.contactAt(t, "+12125550124", "Asia/Tokyo") // 01:00 in Tokyo
		ph, pref := "+12125550125", string(consent.OptedIn)
		nameless, _, err := b.contacts.Upsert(b.ctx, b.acct.ID, contact.Input{Phone: &ph, SMSPreference: &pref},
			contact.Change{Source: consent.SourceAPI})
		require.NoError(t, err)
		req := func(contactID, key string) message.Request {
			return message.Request{ContactID: contactID, TemplateID: "tpl_1", DedupeKey: key, Quiet: true}
		}
		reqs := []message.Request{
			req(ny, "a"), req(la, "b"), req(ny, "c"), req(night, "d"), req("ctc_gone", "e"),
			req(nameless.ID, "f"), req(la, "b"),
		}
		got, err := b.svc.CreateMany(b.ctx, b.acct.ID, reqs)
		require.NoError(t, err)
		require.Len(t, got, len(reqs))
		statuses := make([]string, len(got))
		for i, m := range got {
			statuses[i] = string(m.Status) + " " + m.Reason
		}
		require.Equal(t, []string{
			"queued ", "queued ", "skipped frequency_cap", "scheduled sending_window", "skipped contact_deleted",
			"skipped missing_merge_value: first_name", "queued ",
		}, statuses)
		require.Equal(t, got[1].ID, got[6].ID, "a key repeated in the batch is one message")
		require.Equal(t, at(t, "2026-06-15T23:00:00Z"), got[3].NextAttempt, "08:00 in Tokyo")

		// Again, with one new key: the old keys return their messages.
		again, err := b.svc.CreateMany(b.ctx, b.acct.ID, append(reqs, req(la, "g")))
		require.NoError(t, err)
		for i := range reqs {
			require.Equal(t, got[i].ID, again[i].ID, "request %d", i)
			require.Equal(t, got[i].Status, again[i].Status, "request %d", i)
		}
		require.Equal(t, message.ReasonFrequencyCap, again[len(reqs)].Reason, "the new key meets the cap")
		page, err := b.svc.List(b.ctx, b.acct.ID, message.Filter{Limit: 100})
		require.NoError(t, err)
		require.Len(t, page.Data, 7, "six from the first batch, one from the second")
		u, err := b.svc.UsageOf(b.ctx, b.acct)
		require.NoError(t, err)
		require.Equal(t, int64(3), u.Used, "queued and scheduled messages hold an allowance; skipped ones do not")
	})
}

// A batch that reaches the monthly limit takes what is left of the
// allowance, transactional messages first, and the rest wait in the limit
// queue; the usage counts only what was granted.
func TestCreateManyStopsAtTheMonthlyLimit(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 5)
		b.clock.Set(at(t, "2026-06-15T16:00:00Z")) // noon in New York: inside the sending window
		var reqs []message.Request
		for i := range 8 {
			kind := message.Marketing
			if i >= 5 {
				kind = message.Transactional
			}
			c := b.contactAt(t, fmt.Sprintf("+1212555%04d", i), "")
			reqs = append(reqs, message.Request{ContactID: c, TemplateID: "tpl_1", Kind: kind, Quiet: true})
		}
		got, err := b.svc.CreateMany(b.ctx, b.acct.ID, reqs)
		require.NoError(t, err)
		statuses := map[message.Kind][]message.Status{}
		for _, m := range got {
			statuses[m.Kind] = append(statuses[m.Kind], m.Status)
		}
		require.Equal(t, []message.Status{message.Queued, message.Queued, message.Queued}, statuses[message.Transactional])
		require.ElementsMatch(t, []message.Status{message.Queued, message.Queued,
			message.LimitQueued, message.LimitQueued, message.LimitQueued}, statuses[message.Marketing])
		u, err := b.svc.UsageOf(b.ctx, b.acct)
		require.NoError(t, err)
		require.Equal(t, int64(5), u.Used)
		require.Equal(t, []int{100}, b.marks, "a batch that passes several marks announces the highest")

		// With the allowance gone, a marketing batch waits whole and uses
		// nothing.
		later := []message.Request{
			{ContactID: b.contactAt(t, "+12125550100", ""), TemplateID: "tpl_1", Kind: message.Marketing, Quiet: true},
			{ContactID: b.contactAt(t, "+12125550101", ""), TemplateID: "tpl_1", Kind: message.Marketing, Quiet: true},
		}
		more, err := b.svc.CreateMany(b.ctx, b.acct.ID, later)
		require.NoError(t, err)
		for _, m := range more {
			require.Equal(t, message.LimitQueued, m.Status)
		}
		u, err = b.svc.UsageOf(b.ctx, b.acct)
		require.NoError(t, err)
		require.Equal(t, int64(5), u.Used)
	})
}

func TestCreateManyRefusesWhatFailsEveryRequest(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		_, err := b.svc.CreateMany(b.ctx, b.acct.ID, []message.Request{{TemplateID: "tpl_1"}})
		requireCode(t, err, "required")
		_, err = b.svc.CreateMany(b.ctx, b.acct.ID, []message.Request{{ContactID: "ctc_1"}})
		requireCode(t, err, "required")
		got, err := b.svc.CreateMany(b.ctx, b.acct.ID, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

// BenchmarkCreateMany makes 1,000 marketing messages per call, each to its
// own contact, on each engine.
func BenchmarkCreateMany(b *testing.B) {
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) { benchmarkCreateMany(b, dbtest.New(b, e)) })
	}
}

func benchmarkCreateMany(b *testing.B, d *db.DB) {
	const batch = 1000
	tb := setup(b, d, 1_000_000_000)
	ctx := context.Background()
	contacts := make([]string, 0, 10*batch)
	pref := string(consent.OptedIn)
	for i := range cap(contacts) {
		ph, name := fmt.Sprintf("+1212%07d", 2000000+i), "Ada"
		c, _, err := tb.contacts.Upsert(ctx, tb.acct.ID, contact.Input{Phone: &ph, FirstName: &name, SMSPreference: &pref},
			contact.Change{Source: consent.SourceImport})
		require.NoError(b, err)
		contacts = append(contacts, c.ID)
	}
	require.NoError(b, d.Optimize(ctx))
	n := 0
	for b.Loop() {
		reqs := make([]message.Request, batch)
		for i := range reqs {
			reqs[i] = message.Request{ContactID: contacts[(n*batch+i)%len(contacts)], TemplateID: "tpl_1",
				DedupeKey: fmt.Sprintf("bench:%d:%d", n, i), Quiet: true}
		}
		n++
		if _, err := tb.svc.CreateMany(ctx, tb.acct.ID, reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "messages/s")
}

// requireCode asserts err is a problem with the code.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "%v is not a problem", err)
	require.Equal(t, code, p.Code, p.Message)
}
