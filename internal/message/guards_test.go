package message_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/guard"
	"github.com/heraldsms/herald/internal/message"
)

// Times below are UTC; in June, PDT is UTC-7, EDT UTC-4. 15 June 2026 is a
// Monday. Area codes: 213 Los Angeles, 212 New York, 305 Miami (Florida:
// 08:00–20:00 by state law).

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// contactAt makes an opted-in contact with a phone and, if given, a zone.
func (b *testBundle) contactAt(t *testing.T, phone, zone string) string {
	t.Helper()
	pref, name := string(consent.OptedIn), "Ada"
	in := contact.Input{Phone: &phone, FirstName: &name, SMSPreference: &pref}
	if zone != "" {
		in.TimeZone = &zone
	}
	c, _, err := b.contacts.Upsert(b.ctx, b.acct.ID, in, contact.Change{Source: consent.SourceAPI})
	require.NoError(t, err)
	return c.ID
}

func (b *testBundle) create(t *testing.T, contactID string, kind message.Kind) *message.Message {
	t.Helper()
	m, err := b.svc.Create(b.ctx, b.acct.ID, message.Request{ContactID: contactID, TemplateID: "tpl_1", Kind: kind})
	require.NoError(t, err)
	return m
}

func (b *testBundle) get(t *testing.T, id string) *message.Message {
	t.Helper()
	m, err := b.svc.Get(b.ctx, b.acct.ID, id)
	require.NoError(t, err)
	return m
}

func TestSendingWindowAtCreation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		now       string
		phone     string
		zone      string
		want      message.Status
		wantAfter string // next_attempt_at when scheduled
	}{
		{"07:59 in Los Angeles waits for 08:00", "2026-06-15T14:59:00Z", "+12135550123", "", message.Scheduled, "2026-06-15T15:00:00Z"},
		{"08:00 in Los Angeles goes", "2026-06-15T15:00:00Z", "+12135550123", "", message.Queued, ""},
		{"20:59 in New York goes", "2026-06-16T00:59:00Z", "+12125550123", "", message.Queued, ""},
		{"21:00 in New York waits for the morning", "2026-06-16T01:00:00Z", "+12125550123", "", message.Scheduled, "2026-06-16T12:00:00Z"},
		{"20:30 in Florida waits: the state's 20:00", "2026-06-16T00:30:00Z", "+13055550123", "", message.Scheduled, "2026-06-16T12:00:00Z"},
		{"the contact's own zone wins over the area code", "2026-06-15T14:30:00Z", "+12125550123", "America/Los_Angeles", message.Scheduled, "2026-06-15T15:00:00Z"},
		{"and lets a New York number go at 20:30 Pacific", "2026-06-16T03:30:00Z", "+12125550123", "America/Los_Angeles", message.Queued, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
				b := setup(t, d, 1000)
				b.clock.Set(at(t, tc.now))
				m := b.create(t, b.contactAt(t, tc.phone, tc.zone), "")
				require.Equal(t, tc.want, m.Status)
				got := b.get(t, m.ID)
				require.Equal(t, tc.want, got.Status, "as stored")
				if tc.want == message.Scheduled {
					require.Equal(t, at(t, tc.wantAfter), got.NextAttempt)
					require.Equal(t, message.ReasonSendingWindow, got.Reason)
				}
				require.Equal(t, tc.want, got.History[0].Status, "the log starts with it")
			})
		})
	}
}

func TestTransactionalIgnoresTheGuards(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		b.clock.Set(at(t, "2026-06-15T09:00:00Z")) // 02:00 in Los Angeles
		c := b.contactAt(t, "+12135550123", "")
		for range 3 {
			require.Equal(t, message.Queued, b.create(t, c, message.Transactional).Status)
		}
	})
}

func TestFrequencyCap(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		b.clock.Set(at(t, "2026-06-15T16:00:00Z")) // noon in New York
		c := b.contactAt(t, "+12125550123", "")
		require.Equal(t, message.Queued, b.create(t, c, message.Marketing).Status)

		b.clock.Advance(23 * time.Hour)
		second := b.create(t, c, message.Marketing)
		require.Equal(t, message.Skipped, second.Status, "a second within 24 hours")
		require.Equal(t, message.ReasonFrequencyCap, second.Reason)
		require.Equal(t, message.Queued, b.create(t, c, message.Transactional).Status, "transactional is not capped")

		b.clock.Advance(time.Hour)
		require.Equal(t, message.Queued, b.create(t, c, message.Marketing).Status, "24 hours after the first")

		counts, err := b.svc.CountOutcomes(b.ctx, b.acct.ID, message.Filter{})
		require.NoError(t, err)
		require.Equal(t, 1, counts["skipped"], "counted like other skips")
		require.Equal(t, 3, counts["processing"])
	})
}

// A message scheduled for the morning counts against the cap of the
// messages around it, and one that was skipped does not.
func TestFrequencyCapCountsScheduledNotSkipped(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		b.clock.Set(at(t, "2026-06-16T02:00:00Z")) // 22:00 in New York
		c := b.contactAt(t, "+12125550123", "")
		require.Equal(t, message.Scheduled, b.create(t, c, message.Marketing).Status)
		require.Equal(t, message.Skipped, b.create(t, c, message.Marketing).Status, "the scheduled one is on its way")

		other := b.contactAt(t, "+12125550124", "")
		_, err := b.contacts.SetPreference(b.ctx, b.acct.ID, other,
			contact.PreferenceChange{Preference: consent.OptedOut, Change: contact.Change{Source: consent.SourceAPI}})
		require.NoError(t, err)
		notOptedIn := b.create(t, other, message.Marketing)
		require.Equal(t, message.ReasonNotOptedIn, notOptedIn.Reason)
		_, err = b.contacts.SetPreference(b.ctx, b.acct.ID, other,
			contact.PreferenceChange{Preference: consent.OptedIn, Change: contact.Change{Source: consent.SourceAPI}})
		require.NoError(t, err)
		require.Equal(t, message.Scheduled, b.create(t, other, message.Marketing).Status, "a skipped message does not count")
	})
}

func TestTightenedGuardsApply(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		w, c := guard.Window{Start: 10 * 60, End: 18 * 60}, guard.Cap{Max: 1, Period: 48 * time.Hour}
		_, err := b.accounts.SetGuards(b.ctx, b.acct.ID, account.Guards{SendingWindow: &w, FrequencyCap: &c})
		require.NoError(t, err)

		b.clock.Set(at(t, "2026-06-15T13:30:00Z")) // 09:30 in New York
		early := b.create(t, b.contactAt(t, "+12125550123", ""), "")
		require.Equal(t, message.Scheduled, early.Status)
		require.Equal(t, at(t, "2026-06-15T14:00:00Z"), early.NextAttempt, "the account's 10:00")

		b.clock.Set(at(t, "2026-06-15T15:00:00Z")) // 11:00
		ct := b.contactAt(t, "+12125550199", "")
		require.Equal(t, message.Queued, b.create(t, ct, "").Status)
		b.clock.Advance(24 * time.Hour)
		require.Equal(t, message.ReasonFrequencyCap, b.create(t, ct, "").Reason, "one per 48 hours")
		b.clock.Advance(24 * time.Hour)
		require.Equal(t, message.Queued, b.create(t, ct, "").Status)
	})
}

// Two marketing messages made at once for one contact: one passes the cap.
func TestFrequencyCapUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		b.clock.Set(at(t, "2026-06-15T16:00:00Z"))
		for i := range 4 {
			c := b.contactAt(t, "+1212555013"+string(rune('0'+i)), "")
			var wg sync.WaitGroup
			got := make([]*message.Message, 2)
			for j := range got {
				wg.Go(func() {
					m, err := b.svc.Create(b.ctx, b.acct.ID, message.Request{ContactID: c, TemplateID: "tpl_1"})
					require.NoError(t, err)
					got[j] = m
				})
			}
			wg.Wait()
			require.ElementsMatch(t, []message.Status{message.Queued, message.Skipped}, []message.Status{got[0].Status, got[1].Status})
		}
	})
}

// Released from the limit queue at night, a marketing message waits for
// the morning instead of going out.
func TestReleasedAtNightIsScheduled(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1)
		b.clock.Set(at(t, "2026-06-15T16:00:00Z"))
		c := b.contactAt(t, "+12125550123", "")
		require.Equal(t, message.Queued, b.create(t, c, message.Transactional).Status)
		promo := b.create(t, c, message.Marketing)
		require.Equal(t, message.LimitQueued, promo.Status)

		b.clock.Set(at(t, "2026-06-16T02:00:00Z")) // 22:00 in New York
		res, err := b.svc.ReleaseQueued(b.ctx, b.acct.ID, []string{promo.ID}, false)
		require.NoError(t, err)
		require.Equal(t, 1, res.Released)
		got := b.get(t, promo.ID)
		require.Equal(t, message.Scheduled, got.Status)
		require.Equal(t, at(t, "2026-06-16T12:00:00Z"), got.NextAttempt)
	})
}
