package delivery_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
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
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/guard"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/secret"
)

// carrier accepts every message and remembers where each went, in the
// order the requests reached it, and the status callback it was given;
// each answer takes delay, after onSend (when set) has run.
type carrier struct {
	delay     time.Duration
	onSend    func(m provider.Message)
	mu        sync.Mutex
	sent      []string
	callbacks []string
}

func (c *carrier) Send(_ context.Context, m provider.Message) (provider.Result, error) {
	c.mu.Lock()
	c.sent = append(c.sent, m.ID)
	c.callbacks = append(c.callbacks, m.StatusCallback)
	c.mu.Unlock()
	if c.onSend != nil {
		c.onSend(m)
	}
	time.Sleep(c.delay)
	return provider.Result{CarrierID: "SM" + m.ID, Status: "queued"}, nil
}

// promo serves one approved marketing template.
type promo struct{ compiled *msgtemplate.Compiled }

func (p promo) Approved(context.Context, string, string) (message.Template, error) {
	return message.Template{ID: "tpl_1", VersionID: "tpv_1", Kind: message.Marketing, Compiled: p.compiled}, nil
}

type testBundle struct {
	ctx      context.Context
	clock    *clock.Fake
	accounts *account.Store
	contacts *contact.Service
	messages *message.Service
	acct     string
	carrier  *carrier
	provider provider.Provider // what start sends through: carrier when nil
	cfg      delivery.Config   // what start runs the dispatcher with
	start    func()            // runs the dispatcher until the test ends
}

// setup runs a dispatcher with a fake clock and carrier on d. The clock
// decides the sending window; the dispatcher still polls in real time.
func setup(t *testing.T, d *db.DB, now time.Time) *testBundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := clock.NewFake(now)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	box, err := secret.New("k")
	require.NoError(t, err)
	accounts := account.NewStore(d, c, account.WithSecrets(box))
	contacts := contact.NewService(d, c, accounts)
	compiled, err := msgtemplate.Parse("Acme: double points this week! Reply STOP to opt out.")
	require.NoError(t, err)
	messages := message.NewService(d, c, log, accounts, contacts, promo{compiled})
	a, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme"})
	require.NoError(t, err)
	on, limit := true, int64(1000)
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth, MPS: 100}}
	_, err = accounts.Configure(ctx, a.ID, account.Setup{SMSEnabled: &on, MonthlyLimit: &limit, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "t"}})
	require.NoError(t, err)
	b := &testBundle{ctx: ctx, clock: c, accounts: accounts, contacts: contacts, messages: messages, acct: a.ID,
		carrier: &carrier{}, cfg: delivery.Config{Holder: "test", Poll: 10 * time.Millisecond}}
	b.start = func() {
		var send provider.Provider = b.carrier
		if b.provider != nil {
			send = b.provider
		}
		disp := delivery.New(b.cfg, d, messages, accounts, send, c, log)
		messages.SetWaker(disp)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = disp.Run(ctx)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(cancel)
	return b
}

func (b *testBundle) contact(t *testing.T, phone, zone string) string {
	t.Helper()
	pref, name := string(consent.OptedIn), "Ada"
	in := contact.Input{Phone: &phone, FirstName: &name, SMSPreference: &pref}
	if zone != "" {
		in.TimeZone = &zone
	}
	c, _, err := b.contacts.Upsert(b.ctx, b.acct, in, contact.Change{Source: consent.SourceAPI})
	require.NoError(t, err)
	return c.ID
}

func (b *testBundle) create(t *testing.T, contactID string) *message.Message {
	t.Helper()
	m, err := b.messages.Create(b.ctx, b.acct, message.Request{ContactID: contactID, TemplateID: "tpl_1"})
	require.NoError(t, err)
	return m
}

// waitFor waits for a message to reach a status, failing after 10 s.
func (b *testBundle) waitFor(t *testing.T, id string, want message.Status) *message.Message {
	t.Helper()
	var m *message.Message
	require.Eventually(t, func() bool {
		var err error
		m, err = b.messages.Get(b.ctx, b.acct, id)
		require.NoError(t, err)
		return m.Status == want
	}, 10*time.Second, 5*time.Millisecond, "waiting for %s", want)
	return m
}

// stays checks that a message keeps its status while the dispatcher polls.
func (b *testBundle) stays(t *testing.T, id string, want message.Status) {
	t.Helper()
	time.Sleep(150 * time.Millisecond) // many polls
	m, err := b.messages.Get(b.ctx, b.acct, id)
	require.NoError(t, err)
	require.Equal(t, want, m.Status)
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// 15 June 2026 is a Monday; PDT is UTC-7, EDT UTC-4.
func TestScheduledMarketingGoesWhenTheWindowOpens(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, utc(t, "2026-06-15T14:59:00Z")) // 07:59 in Los Angeles
		b.start()
		la := b.create(t, b.contact(t, "+12135550123", ""))
		require.Equal(t, message.Scheduled, la.Status)
		florida := b.create(t, b.contact(t, "+13055550123", "America/Los_Angeles")) // 10:59 in Miami; the contact is in LA
		require.Equal(t, message.Scheduled, florida.Status, "the contact's own zone wins")
		b.stays(t, la.ID, message.Scheduled)

		b.clock.Set(utc(t, "2026-06-15T15:00:00Z")) // 08:00 in Los Angeles
		got := b.waitFor(t, la.ID, message.Sent)
		var path []message.Status
		for _, e := range got.History {
			path = append(path, e.Status)
		}
		require.Equal(t, []message.Status{message.Scheduled, message.Queued, message.Sending, message.Sent}, path)
		b.waitFor(t, florida.ID, message.Sent)

		b.clock.Set(utc(t, "2026-06-16T00:59:00Z")) // 20:59 in New York
		ny := b.create(t, b.contact(t, "+12125550123", ""))
		require.Equal(t, message.Queued, ny.Status)
		b.waitFor(t, ny.ID, message.Sent)

		b.clock.Set(utc(t, "2026-06-16T00:30:00Z")) // 20:30 in Miami: Florida stops at 20:00
		fl := b.create(t, b.contact(t, "+13055550124", ""))
		require.Equal(t, message.Scheduled, fl.Status)
		require.Equal(t, utc(t, "2026-06-16T12:00:00Z"), fl.NextAttempt)
		b.stays(t, fl.ID, message.Scheduled)
	})
}

// A message queued inside the window but claimed after it closed (a
// backlog ran past the evening, or the account narrowed its window) goes
// back to scheduled, without spending an attempt.
func TestClaimedAfterTheWindowClosedWaitsAgain(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, utc(t, "2026-06-15T20:59:00Z")) // 16:59 in New York
		w := guard.Window{Start: 9 * 60, End: 17 * 60}
		_, err := b.accounts.SetGuards(b.ctx, b.acct, account.Guards{SendingWindow: &w})
		require.NoError(t, err)
		m := b.create(t, b.contact(t, "+12125550123", ""))
		require.Equal(t, message.Queued, m.Status)

		b.clock.Set(utc(t, "2026-06-15T21:05:00Z")) // 17:05: the account's window has closed
		b.start()
		got := b.waitFor(t, m.ID, message.Scheduled)
		require.Equal(t, utc(t, "2026-06-16T13:00:00Z"), got.NextAttempt, "09:00 tomorrow")
		require.Zero(t, got.Attempts, "the attempt is given back")
		require.Equal(t, message.ReasonSendingWindow, got.Reason)

		b.clock.Set(utc(t, "2026-06-16T13:00:00Z"))
		b.waitFor(t, m.ID, message.Sent)
	})
}

// Two marketing messages for one contact can both be waiting (one came back
// from the limit queue); the cap is checked again at the send, and only one
// goes.
func TestFrequencyCapAtTheSend(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, utc(t, "2026-06-15T16:00:00Z")) // noon in New York
		limit := int64(1)
		_, err := b.accounts.Configure(b.ctx, b.acct, account.Setup{MonthlyLimit: &limit})
		require.NoError(t, err)
		receipt, err := b.messages.Create(b.ctx, b.acct, message.Request{ContactID: b.contact(t, "+12125550100", ""),
			TemplateID: "tpl_1", Kind: message.Transactional})
		require.NoError(t, err)
		require.Equal(t, message.Queued, receipt.Status)
		c := b.contact(t, "+12125550123", "")
		first := b.create(t, c)
		require.Equal(t, message.LimitQueued, first.Status, "waits in the limit queue, not counted by the cap")

		limit = 1000
		_, err = b.accounts.Configure(b.ctx, b.acct, account.Setup{MonthlyLimit: &limit})
		require.NoError(t, err)
		second := b.create(t, c)
		require.Equal(t, message.Queued, second.Status)
		res, err := b.messages.ReleaseQueued(b.ctx, b.acct, []string{first.ID}, false)
		require.NoError(t, err)
		require.Equal(t, 1, res.Released, "the other is queued, not yet sent")

		b.start()
		b.waitFor(t, receipt.ID, message.Sent)
		var statuses []string
		require.Eventually(t, func() bool {
			statuses = statuses[:0]
			for _, id := range []string{first.ID, second.ID} {
				m, err := b.messages.Get(b.ctx, b.acct, id)
				require.NoError(t, err)
				statuses = append(statuses, string(m.Status)+" "+m.Reason)
			}
			settled := 0
			for _, st := range statuses {
				if st == "sent " || strings.HasPrefix(st, "skipped") {
					settled++
				}
			}
			return settled == len(statuses)
		}, 10*time.Second, 5*time.Millisecond)
		slices.Sort(statuses)
		require.Equal(t, []string{"sent ", "skipped frequency_cap"}, statuses)
	})
}
