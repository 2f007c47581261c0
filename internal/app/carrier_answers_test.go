package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/message"
)

// A carrier's answer to a send is text Herald did not write: a broken or
// hostile Twilio-compatible API can put anything in it. Whatever it says,
// the message ends in a status of its own after one request: a result
// that cannot be stored must not fail the write of the batch, which would
// leave its messages claimed and send them again when the claim ran out.
func TestAnAnswerHeraldCannotKeepEndsTheMessageOnce(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 3000) // over the 2,704 bytes of a PostgreSQL index entry
	tests := []struct {
		name   string
		status int
		body   string
		reason string
		code   string
	}{
		{"a carrier id with a NUL", 201, `{"sid":"SM\u0000ab","status":"queued"}`, message.ReasonCarrierRejected, ""},
		{"a carrier id longer than any carrier's", 201, `{"sid":"SM` + long + `","status":"queued"}`, message.ReasonCarrierRejected, ""},
		{"a carrier id with spaces", 201, `{"sid":"SM 1; DROP","status":"queued"}`, message.ReasonCarrierRejected, ""},
		{"an error code that is not a code", 400, `{"code":"` + strings.Repeat("9", 400) + `","message":"no"}`, message.ReasonCarrierRejected, ""},
		{"an error code holding invalid UTF-8", 400, "{\"code\":\"21\xff\xfe\",\"message\":\"no\"}", message.ReasonCarrierRejected, ""},
		{"an error code as an object", 400, `{"code":{"a":1},"message":"no"}`, message.ReasonCarrierRejected, ""},
		{"an error message with a NUL", 400, `{"code":21408,"message":"no\u0000pe"}`, message.ReasonCarrierRejected, "21408"},
	}
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := *p
					p.t = t // fail this case, from its own goroutine
					var requests atomic.Int32
					carrier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						requests.Add(1)
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tt.status)
						_, _ = w.Write([]byte(tt.body))
					}))
					t.Cleanup(carrier.Close)
					p.useCarrier(carrier.URL)

					c := p.contact(phoneN(i), consent.OptedIn)
					m := p.waitStatus(p.send(c, i).ID, message.Failed, message.Sent, message.Delivered)
					require.Equal(t, message.Failed, m.Status, "history %+v", m.History)
					require.Equal(t, tt.reason, m.Reason)
					require.Equal(t, tt.code, m.ErrorCode)
					require.Nil(t, m.CarrierID)
					require.Equal(t, []message.Status{message.Queued, message.Sending, message.Failed}, statuses(m))
					time.Sleep(100 * time.Millisecond) // a second send would come now
					require.EqualValues(t, 1, requests.Load(), "sent once")
				})
			}
		})
	}
}

// useCarrier points the account's Twilio credentials at another carrier.
func (p *pipeline) useCarrier(baseURL string) {
	p.t.Helper()
	_, err := p.app.Accounts.Configure(context.Background(), p.acct, account.Setup{
		Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "sim-token", BaseURL: baseURL}})
	require.NoError(p.t, err)
}

// authCarrier is a carrier that takes a send when accept says so and
// otherwise refuses the sub-account's credentials as Twilio does: 401,
// code 20003.
func authCarrier(t *testing.T, accept func(*http.Request) bool) *httptest.Server {
	carrier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !accept(r) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code": 20003, "message": "Authenticate", "status": 401}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"sid": "SM` + id.New("x")[2:] + `", "status": "queued"}`))
	}))
	t.Cleanup(carrier.Close)
	return carrier
}

// A carrier that refuses the account's credentials (a token rotated at the
// carrier and not yet in Herald) refuses every send alike. The messages
// wait, their attempts given back, and go once the credentials work again;
// none fails for it.
func TestRefusedCredentialsHoldTheSendsUntilFixed(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50,
				app.WithDelivery(func(c *delivery.Config) { c.AuthPause = 300 * time.Millisecond }))
			var refused, fixed atomic.Int32
			carrier := authCarrier(t, func(*http.Request) bool {
				if fixed.Load() == 0 {
					refused.Add(1)
					return false
				}
				return true
			})
			p.useCarrier(carrier.URL)

			var msgs []*message.Message
			for i := range 3 {
				msgs = append(msgs, p.send(p.contact(phoneN(i), consent.OptedIn), i))
			}
			for _, m := range msgs {
				var got *message.Message
				require.Eventually(t, func() bool {
					var err error
					got, err = p.app.Messages.Get(context.Background(), p.acct, m.ID)
					require.NoError(t, err)
					return got.Reason != ""
				}, 10*time.Second, 10*time.Millisecond, "tried")
				require.Equal(t, message.Queued, got.Status, "history %+v", got.History)
				require.Equal(t, message.ReasonCarrierAuthFailed, got.Reason)
				require.Equal(t, "20003", got.ErrorCode)
			}
			refusedAt := func() *time.Time {
				a, err := p.app.Accounts.Get(context.Background(), p.acct)
				require.NoError(t, err)
				require.NotNil(t, a.Twilio)
				return a.Twilio.RefusedAt
			}
			first := refusedAt()
			require.NotNil(t, first, "the account shows the refusal")
			time.Sleep(time.Second) // a few pauses: still nothing fails
			for _, m := range msgs {
				got, err := p.app.Messages.Get(context.Background(), p.acct, m.ID)
				require.NoError(t, err)
				require.NotContains(t, statuses(got), message.Failed)
			}
			require.Equal(t, first, refusedAt(), "the refusal shown is the first of the run")

			fixed.Store(1)
			for _, m := range msgs {
				got := p.waitStatus(m.ID, message.Sent)
				require.Equal(t, 1, got.Attempts, "the refused attempts were given back")
			}
			require.Eventually(t, func() bool { return refusedAt() == nil }, 5*time.Second, 20*time.Millisecond,
				"a send that succeeds clears the refusal")
		})
	}
}

// A carrier that answers a message id it already gave another message (a
// faulty carrier or proxy) cannot hold up the results of the batch it is
// in: every message is recorded sent, once, and the id stays with the
// message that had it first.
func TestACarrierIDGivenTwiceDoesNotHoldUpTheBatch(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50,
				app.WithDelivery(func(c *delivery.Config) { c.ClaimFor = 4 * time.Second }))
			ctx := context.Background()
			const sid = "SM0000000000000000000000000000dupe"
			var requests atomic.Int32
			carrier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"sid": "` + sid + `", "status": "queued"}`))
			}))
			t.Cleanup(carrier.Close)
			p.useCarrier(carrier.URL)

			first := p.waitStatus(p.send(p.contact(phoneN(0), consent.OptedIn), 0).ID, message.Sent)
			require.Equal(t, sid, *first.CarrierID)
			var later []*message.Message
			for i := 1; i <= 4; i++ {
				later = append(later, p.send(p.contact(phoneN(i), consent.OptedIn), i))
			}
			for _, m := range later {
				got := p.waitStatus(m.ID, message.Sent)
				require.Nil(t, got.CarrierID, "the id stays with the message that had it")
			}
			time.Sleep(6 * time.Second) // past the claims: nothing goes again
			require.EqualValues(t, 5, requests.Load(), "each message sent once")
			for _, m := range later {
				got, err := p.app.Messages.Get(ctx, p.acct, m.ID)
				require.NoError(t, err)
				require.Equal(t, message.Sent, got.Status)
				require.Equal(t, 1, countStatus(got, message.Sending), "claimed once")
			}
			got, err := p.app.Messages.Get(ctx, p.acct, first.ID)
			require.NoError(t, err)
			require.Equal(t, sid, *got.CarrierID)
		})
	}
}

func countStatus(m *message.Message, s message.Status) int {
	n := 0
	for _, h := range m.History {
		if h.Status == s {
			n++
		}
	}
	return n
}

// The operator who sets the current credentials need not wait out the
// minute's hold: the held sends go at once.
func TestNewCredentialsReleaseTheHeldSendsAtOnce(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50) // the real hold: a minute
			ctx := context.Background()
			carrier := authCarrier(t, func(r *http.Request) bool {
				_, token, _ := r.BasicAuth()
				return token == "rotated-token"
			})
			p.useCarrier(carrier.URL)

			var held []*message.Message
			for i := range 3 {
				held = append(held, p.send(p.contact(phoneN(i), consent.OptedIn), i))
			}
			// The first refusal holds the number for a minute: the message
			// it refused waits for its retry, any others for the number.
			require.Eventually(t, func() bool {
				got, err := p.app.Messages.Get(ctx, p.acct, held[0].ID)
				require.NoError(t, err)
				return got.Reason == message.ReasonCarrierAuthFailed
			}, 10*time.Second, 10*time.Millisecond, "refused and held")

			_, err := p.app.Accounts.Configure(ctx, p.acct, account.Setup{
				Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "rotated-token", BaseURL: carrier.URL}})
			require.NoError(t, err)
			fixed := time.Now()
			for _, m := range held {
				got := p.waitStatus(m.ID, message.Sent)
				require.Equal(t, 1, got.Attempts)
			}
			require.Less(t, time.Since(fixed), 15*time.Second, "sent without waiting out the minute")
		})
	}
}

// A send that leaves with the old credentials and is refused after the
// operator set new ones holds nothing and shows nothing: it goes again at
// once, with the new credentials.
func TestARefusalOfReplacedCredentialsHoldsNothing(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50) // the real hold: a minute
			ctx := context.Background()
			arrived, release := make(chan struct{}, 1), make(chan struct{})
			carrier := authCarrier(t, func(r *http.Request) bool {
				if _, token, _ := r.BasicAuth(); token == "rotated-token" {
					return true
				}
				arrived <- struct{}{}
				<-release // answered once the operator has set new credentials
				return false
			})
			p.useCarrier(carrier.URL)

			m := p.send(p.contact(phoneN(1), consent.OptedIn), 1)
			<-arrived // on its way with the old token
			_, err := p.app.Accounts.Configure(ctx, p.acct, account.Setup{
				Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "rotated-token", BaseURL: carrier.URL}})
			require.NoError(t, err)
			close(release)
			fixed := time.Now()
			got := p.waitStatus(m.ID, message.Sent)
			require.Less(t, time.Since(fixed), 15*time.Second, "not held for the minute")
			require.Equal(t, 1, got.Attempts)
			a, err := p.app.Accounts.Get(ctx, p.acct)
			require.NoError(t, err)
			require.Nil(t, a.Twilio.RefusedAt, "no refusal of the current credentials")
		})
	}
}

// Each of the carrier's codes for a number that cannot take texts, 21635
// (a landline, split from 21614 in 2024) among them, fails the message and
// marks the contact's number, so the next message is skipped.
func TestNumberCodesMarkTheContactsNumber(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			for i, code := range []string{"21211", "21614", "21635"} {
				carrier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"code": ` + code + `, "message": "no", "status": 400}`))
				}))
				t.Cleanup(carrier.Close)
				p.useCarrier(carrier.URL)
				c := p.contact(phoneN(i), consent.OptedIn)
				m := p.waitStatus(p.send(c, i).ID, message.Failed)
				require.Equal(t, message.ReasonInvalidPhone, m.Reason, code)
				require.Equal(t, code, m.ErrorCode)
				require.Eventually(t, func() bool {
					got, err := p.app.Contacts.Get(context.Background(), p.acct, c.ID)
					require.NoError(t, err)
					return !got.SMSCapable
				}, 5*time.Second, 20*time.Millisecond, "%s marks the number", code)
				require.Equal(t, message.Skipped, p.send(c, 10+i).Status, code)
			}
		})
	}
}
