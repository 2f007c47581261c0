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
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
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
		want   message.Status
		reason string
		code   string
	}{
		{"a carrier id with a NUL", 201, `{"sid":"SM\u0000ab","status":"queued"}`, message.Failed, message.ReasonCarrierRejected, ""},
		{"a carrier id longer than any carrier's", 201, `{"sid":"SM` + long + `","status":"queued"}`, message.Failed, message.ReasonCarrierRejected, ""},
		{"a carrier id with spaces", 201, `{"sid":"SM 1; DROP","status":"queued"}`, message.Failed, message.ReasonCarrierRejected, ""},
		{"an error code that is not a code", 400, `{"code":"` + strings.Repeat("9", 400) + `","message":"no"}`, message.Failed, message.ReasonCarrierRejected, ""},
		{"an error code holding invalid UTF-8", 400, "{\"code\":\"21\xff\xfe\",\"message\":\"no\"}", message.Failed, message.ReasonCarrierRejected, ""},
		{"an error code as an object", 400, `{"code":{"a":1},"message":"no"}`, message.Failed, message.ReasonCarrierRejected, ""},
		{"an error message with a NUL", 400, `{"code":21408,"message":"no\u0000pe"}`, message.Failed, message.ReasonCarrierRejected, "21408"},
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
					require.Equal(t, tt.want, m.Status, "history %+v", m.History)
					require.Equal(t, tt.reason, m.Reason)
					require.Equal(t, tt.code, m.ErrorCode)
					require.Nil(t, m.CarrierID)
					require.Equal(t, []message.Status{message.Queued, message.Sending, tt.want}, statuses(m))
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
