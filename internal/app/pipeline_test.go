package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/sim"
)

// pipeline is a whole Herald serving on a loopback port, with the built-in
// simulator as its carrier, and one account set up to send.
type pipeline struct {
	t        *testing.T
	app      *app.App
	cfg      config.Config
	acct     string
	number   string
	template string
	stop     func()
}

const simSID = "AC11111111111111111111111111111111"

func fastDelivery(c *delivery.Config) { c.Poll = 20 * time.Millisecond }

// startPipeline runs Herald on opts (a database from dbtest.Options).
func startPipeline(t *testing.T, dbOpts db.Options, mps float64, opts ...app.Option) *pipeline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := config.Config{Addr: ln.Addr().String(), PublicURL: "http://" + ln.Addr().String(),
		DataDir: dbOpts.DataDir, DatabaseURL: dbOpts.URL, SecretKey: "pipeline test", Simulator: true,
		LogLevel: "error", LogFormat: "text"}
	p := &pipeline{t: t, cfg: cfg}
	p.open(ln, opts...)
	ctx := context.Background()
	a, _, err := p.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme", BrandName: "Acme"})
	require.NoError(t, err)
	p.acct = a.ID
	on := true
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth, MPS: mps}}
	_, err = p.app.Accounts.Configure(ctx, a.ID, account.Setup{SMSEnabled: &on, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "sim-token", BaseURL: cfg.PublicURL + "/sim"}})
	require.NoError(t, err)
	got, err := p.app.Accounts.Numbers(ctx, a.ID)
	require.NoError(t, err)
	p.number = got[0].ID
	p.template = p.approvedTemplate("Receipt", "Hi {{first_name}}, order {{event.data.n}} is on its way.")
	return p
}

// approvedTemplate makes a transactional template, submits it and has the
// operator approve it, and returns its id.
func (p *pipeline) approvedTemplate(name, body string) string {
	p.t.Helper()
	ctx := context.Background()
	tpl, err := p.app.Templates.Create(ctx, p.acct, msgtemplate.NewTemplate{Name: name, Kind: "transactional", Body: body}, "test")
	require.NoError(p.t, err)
	_, err = p.app.Templates.Submit(ctx, p.acct, tpl.ID, "test")
	require.NoError(p.t, err)
	_, err = p.app.Templates.Decide(ctx, p.acct, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator"})
	require.NoError(p.t, err)
	return tpl.ID
}

func (p *pipeline) open(ln net.Listener, opts ...app.Option) {
	p.t.Helper()
	opts = append([]app.Option{app.WithDelivery(fastDelivery)}, opts...)
	a, err := app.Open(context.Background(), p.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	require.NoError(p.t, err)
	p.app = a
	if ln == nil {
		p.stop = func() { _ = a.Close() }
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.ServeListener(ctx, ln, nil)
	}()
	p.stop = func() {
		cancel()
		<-done
		_ = a.Close()
	}
	p.t.Cleanup(func() { p.stop() })
}

func (p *pipeline) contact(phone string, pref consent.Preference) contact.Contact {
	p.t.Helper()
	ps := string(pref)
	c, _, err := p.app.Contacts.Upsert(context.Background(), p.acct, contact.Input{Phone: &phone, FirstName: strp("Ava"),
		SMSPreference: &ps}, contact.Change{Source: consent.SourceAPI})
	require.NoError(p.t, err)
	return c
}

func strp(s string) *string { return &s }

func (p *pipeline) send(c contact.Contact, n int) *message.Message {
	p.t.Helper()
	m, err := p.app.Messages.Create(context.Background(), p.acct, message.Request{ContactID: c.ID, TemplateID: p.template,
		Data: map[string]any{"n": n}})
	require.NoError(p.t, err)
	return m
}

// waitStatus waits until a message has one of the statuses.
func (p *pipeline) waitStatus(id string, want ...message.Status) *message.Message {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := p.app.Messages.Get(context.Background(), p.acct, id)
		require.NoError(p.t, err)
		for _, w := range want {
			if m.Status == w {
				return m
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("message %s never reached %v: it is %s (%s), history %+v", id, want, m.Status, m.Reason, m.History)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statuses(m *message.Message) []message.Status {
	var out []message.Status
	for _, e := range m.History {
		out = append(out, e.Status)
	}
	return out
}

// lastClaim is when a dispatcher last claimed m: the audience rules are
// re-checked after each claim, before the send.
func lastClaim(t *testing.T, m *message.Message) time.Time {
	t.Helper()
	var at time.Time
	for _, e := range m.History {
		if e.Status == message.Sending {
			at = e.OccurredAt
		}
	}
	require.False(t, at.IsZero(), "never claimed: %+v", m.History)
	return at
}

func TestMessageLifeThroughTheSimulator(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			ctx := context.Background()

			ok := p.contact("+17346263333", consent.OptedIn)
			m := p.waitStatus(p.send(ok, 1).ID, message.Delivered)
			require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}, statuses(m))
			require.NotNil(t, m.CarrierID)
			inbox := p.app.Sim.Inbox("+17346263333")
			require.Len(t, inbox, 1)
			require.Equal(t, "Hi Ava, order 1 is on its way.", inbox[0].Body, "what was sent is what is shown")
			require.Equal(t, "+18885550100", inbox[0].From)

			// The carrier says the recipient unsubscribed: the contact is opted out.
			gone := p.contact("+14155550142", consent.OptedIn)
			p.app.Sim.SetUnsubscribed("+14155550142", true)
			m = p.waitStatus(p.send(gone, 2).ID, message.Failed)
			require.Equal(t, "21610", m.ErrorCode)
			require.Eventually(t, func() bool {
				c, err := p.app.Contacts.Get(ctx, p.acct, gone.ID)
				require.NoError(t, err)
				return c.SMSPreference == consent.OptedOut
			}, 5*time.Second, 20*time.Millisecond)
			records, err := p.app.Contacts.Consents(ctx, p.acct, gone.ID)
			require.NoError(t, err)
			require.Equal(t, consent.SourceCarrier, records[len(records)-1].Source)

			// A landline: the number is marked unusable, and the next message is skipped.
			land := p.contact("+13125550199", consent.OptedIn)
			p.app.Sim.SetLandline("+13125550199", true)
			m = p.waitStatus(p.send(land, 3).ID, message.Failed)
			require.Equal(t, "21614", m.ErrorCode)
			require.Eventually(t, func() bool {
				c, _ := p.app.Contacts.Get(ctx, p.acct, land.ID)
				return !c.SMSCapable
			}, 5*time.Second, 20*time.Millisecond)
			require.Equal(t, message.Skipped, p.send(land, 4).Status)
		})
	}
}

func TestUndeliveredReportsMarkAnUnreachableNumber(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, dbtest.Options(t, db.SQLite), 50, app.WithSimulator(func(c *sim.Config) {
		c.Mix = sim.Mix{Undelivered: 1, ErrorCodes: []string{"30003"}}
	}))
	c := p.contact("+17346263333", consent.OptedIn)
	for i := 0; i < 3; i++ {
		m := p.waitStatus(p.send(c, i).ID, message.Undelivered)
		require.Equal(t, "30003", m.ErrorCode)
	}
	require.Eventually(t, func() bool {
		got, _ := p.app.Contacts.Get(context.Background(), p.acct, c.ID)
		return !got.SMSCapable
	}, 5*time.Second, 20*time.Millisecond, "three unreachable reports mark the number")
}

// A carrier that posts every status callback twice, and the final status
// before "sent", as Twilio may: each message still ends where the carrier
// last put it, its history holds each status once and in the order of its
// life, and the dashboard counts each outcome once.
func TestRepeatedAndOvertakingCallbacksApplyOnce(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50, app.WithSimulator(func(c *sim.Config) {
				c.DuplicateCallbacks, c.ShuffleCallbacks = true, true
				c.Mix = sim.Mix{Delivered: 1, Undelivered: 1, ErrorCodes: []string{"30007"}}
				c.Seed = 7
			}))
			const n = 12
			var ids []string
			for i := 0; i < n; i++ {
				ids = append(ids, p.send(p.contact(phoneN(i), consent.OptedIn), i).ID)
			}
			for _, id := range ids {
				p.waitStatus(id, message.Delivered, message.Undelivered)
			}
			require.Eventually(t, func() bool { return p.app.Sim.Pending() == 0 }, 10*time.Second, 20*time.Millisecond,
				"the carrier posted every callback and its repeat")

			outcomes := map[message.Status]int64{}
			for _, id := range ids {
				m, err := p.app.Messages.Get(context.Background(), p.acct, id)
				require.NoError(t, err)
				outcomes[m.Status]++
				require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, m.Status}, statuses(m),
					"each status once, in the order of the message's life")
				if m.Status == message.Undelivered {
					require.Equal(t, "30007", m.ErrorCode)
				} else {
					require.Equal(t, message.Delivered, m.Status)
					require.Empty(t, m.ErrorCode)
				}
			}
			require.Equal(t, int64(n), outcomes[message.Delivered]+outcomes[message.Undelivered])

			last := p.dashboardOnceTotals(func(c metrics.Totals) bool { return c.Delivered+c.Undelivered == n })
			require.Equal(t, int64(n), last.Totals.Sent, "each send counted once")
			require.Equal(t, outcomes[message.Delivered], last.Totals.Delivered)
			require.Equal(t, outcomes[message.Undelivered], last.Totals.Undelivered)
		})
	}
}

// A STOP recorded while messages wait for a slow number stops them: none
// claimed after the STOP leaves for that contact. (One claimed and
// re-checked just before it may be on its way to the carrier then.)
func TestStopWhileWaitingStopsTheMessage(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 2)
			ctx := context.Background()
			other := p.contact("+14155550142", consent.OptedIn)
			quitter := p.contact("+17346263333", consent.OptedIn)
			var theirs []string
			for i := 0; i < 6; i++ {
				p.send(other, i)
				theirs = append(theirs, p.send(quitter, i).ID)
			}
			_, err := p.app.Contacts.SetPreference(ctx, p.acct, quitter.ID, contact.PreferenceChange{
				Preference: consent.OptedOut, Change: contact.Change{Source: consent.SourceKeyword}})
			require.NoError(t, err)
			stoppedAt := time.Now()
			skipped := 0
			for _, id := range theirs {
				m := p.waitStatus(id, message.Delivered, message.Skipped)
				if m.Status == message.Skipped {
					require.Equal(t, message.ReasonNotOptedIn, m.Reason)
					skipped++
					continue
				}
				require.True(t, lastClaim(t, m).Before(stoppedAt), "a message claimed after the STOP went: %+v", m.History)
			}
			require.GreaterOrEqual(t, skipped, 4, "at 2 per second, most were still waiting")
			require.Len(t, p.app.Sim.Inbox("+17346263333"), len(theirs)-skipped, "the carrier got only the messages that went")
		})
	}
}

// A 429 storm ends with every message sent exactly once, and the number's
// rate never exceeded, measured from the simulator's receive times.
func TestRateLimitStorm(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			const mps, n = 10, 40
			p := startPipeline(t, dbtest.Options(t, e), mps)
			p.app.Sim.SetFailure(sim.Failure{Status: 429, Probability: 0.4, For: 2 * time.Second, RetryAfter: time.Second})
			var ids []string
			for i := 0; i < n; i++ {
				c := p.contact(phoneN(i), consent.OptedIn)
				ids = append(ids, p.send(c, i).ID)
			}
			rateLimited := 0
			for _, id := range ids {
				m := p.waitStatus(id, message.Delivered)
				for _, s := range statuses(m) {
					if s == message.RateLimited {
						rateLimited++
					}
				}
			}
			require.Positive(t, rateLimited, "the storm hit some messages")
			got := p.app.Sim.Received()
			require.Len(t, got, n, "each message reached the carrier once")
			seen := map[string]bool{}
			for _, r := range got {
				require.False(t, seen[r.Body], "sent twice: %s", r.Body)
				seen[r.Body] = true
			}
			// Herald starts sends at 90 % of the rate, each once the one before
			// it is on the wire; what the carrier receives can still bunch by
			// the carrier's own delay. Over two seconds the rate holds exactly;
			// in one second at most one send of jitter shows.
			require.LessOrEqual(t, sim.MostInWindow(got, 2*time.Second), 2*mps, "the number's rate was exceeded")
			require.LessOrEqual(t, sim.MostInWindow(got, time.Second), mps+1, "the number's rate was exceeded")
		})
	}
}

func phoneN(i int) string {
	return "+1734626" + string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

// A process that dies after accepting messages, and one that dies after
// claiming some, lose nothing: the next process sends them all, once.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			dbOpts := dbtest.Options(t, e)
			first := startPipeline(t, dbOpts, 100)
			first.stop() // the server is gone; the account is set up
			// A process that accepts messages, claims some, and dies.
			first.open(nil)
			var ids []string
			for i := 0; i < 30; i++ {
				ids = append(ids, first.send(first.contact(phoneN(i), consent.OptedIn), i).ID)
			}
			claimed, err := first.app.Messages.Claim(context.Background(), first.number, 10, 300*time.Millisecond)
			require.NoError(t, err)
			require.Len(t, claimed, 10)
			first.stop() // no outcomes recorded: it died holding the claims

			ln, err := net.Listen("tcp", first.cfg.Addr)
			require.NoError(t, err)
			second := &pipeline{t: t, cfg: first.cfg, acct: first.acct}
			second.open(ln)
			for _, id := range ids {
				second.waitStatus(id, message.Delivered)
			}
			require.Len(t, second.app.Sim.Received(), 30, "every accepted message sent, none twice")
		})
	}
}

func TestSimulatorInboxThroughTheAPI(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, dbtest.Options(t, db.SQLite), 50)
	ctx := context.Background()
	c := p.contact("+17346263333", consent.OptedIn)
	p.waitStatus(p.send(c, 7).ID, message.Delivered)
	_, key, err := p.app.Accounts.CreateKey(ctx, p.acct, account.RoleViewer, "viewer")
	require.NoError(t, err)
	other, otherKey, err := p.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Other"})
	require.NoError(t, err)
	_ = other

	get := func(key, handset string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", p.cfg.PublicURL+"/api/v1/sim/inbox?handset="+url.QueryEscape(handset), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return res.StatusCode, body
	}
	status, body := get(key, "+17346263333")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, body["data"], 1)
	require.Equal(t, "Hi Ava, order 7 is on its way.", body["data"].([]any)[0].(map[string]any)["body"])
	status, body = get(otherKey, "+17346263333")
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body["data"], "another account sees none of it")
	status, _ = get(key, "7346263333")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	post := func(key string, v map[string]any) int {
		raw, _ := json.Marshal(v)
		req, _ := http.NewRequest("POST", p.cfg.PublicURL+"/api/v1/sim/reply", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusUnprocessableEntity, post(otherKey, map[string]any{"from": "+17346263333", "to": "+18885550100", "body": "STOP"}),
		"an account answers only to its own numbers")
}

func contactFilter() contact.Filter { return contact.Filter{Limit: 100} }

// Send Test goes through the real path, to the simulator, marked a test.
func TestSendTestReachesTheHandset(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, dbtest.Options(t, db.SQLite), 50)
	ctx := context.Background()
	draft, err := p.app.Templates.Create(ctx, p.acct, msgtemplate.NewTemplate{Name: "Draft", Kind: "marketing",
		Body: "Acme: {{first_name | default: \"friend\"}}, 2x points today! Reply STOP to opt out."}, "test")
	require.NoError(t, err)
	_, err = p.app.Templates.SendTest(ctx, p.acct, draft.ID, msgtemplate.TestInput{To: "(415) 555-0142"}, "test")
	require.Error(t, err, "not in +[country code][number] form")
	rec, err := p.app.Templates.SendTest(ctx, p.acct, draft.ID, msgtemplate.TestInput{To: "+14155550142",
		Data: map[string]any{"first_name": "Sam"}}, "test")
	require.NoError(t, err, "a draft can be tested")
	m := p.waitStatus(rec.MessageID, message.Delivered)
	require.Equal(t, message.Test, m.Kind)
	inbox := p.app.Sim.Inbox("+14155550142")
	require.Len(t, inbox, 1)
	require.Equal(t, "Acme: Sam, 2x points today! Reply STOP to opt out.", inbox[0].Body)
}

// The carrier counts a three-segment message as three against the
// number's rate, at any rate: on a number of 20 a second, whose bucket
// holds one token, long messages go a third as fast as short ones.
func TestLongMessagesArePacedBySegment(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			const mps, n = 20, 18
			p := startPipeline(t, dbtest.Options(t, e), mps)
			ctx := context.Background()
			tpl := p.approvedTemplate("Long receipt",
				"Hi {{first_name}}, order {{event.data.n}}: "+strings.Repeat("thanks for shopping with us. ", 11))
			var ids []string
			for i := 0; i < n; i++ {
				c := p.contact(phoneN(i), consent.OptedIn)
				m, err := p.app.Messages.Create(ctx, p.acct, message.Request{ContactID: c.ID, TemplateID: tpl,
					Data: map[string]any{"n": i}})
				require.NoError(t, err)
				require.Equal(t, 3, m.Segments)
				ids = append(ids, m.ID)
			}
			for _, id := range ids {
				p.waitStatus(id, message.Delivered)
			}
			got := p.app.Sim.Received()
			require.Len(t, got, n)
			// Herald starts them at 90 % of the rate: 39 segments in any two
			// seconds. What the carrier receives can bunch by one message's
			// transport delay, as in TestRateLimitStorm.
			require.LessOrEqual(t, 3*sim.MostInWindow(got, 2*time.Second), 2*mps+3, "the number's rate in segments was exceeded")
		})
	}
}
