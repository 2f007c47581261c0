package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/heraldsms/herald/internal/jobs"
	"github.com/heraldsms/herald/internal/webhook"
)

// TestUsageMarkReachesTheAccountsWebhook runs the whole of Herald: a send
// that uses half the monthly limit is announced to the account's endpoint
// as usage.threshold, signed with the endpoint's secret.
func TestUsageMarkReachesTheAccountsWebhook(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			usageMarkReachesWebhook(t, e)
		})
	}
}

func usageMarkReachesWebhook(t *testing.T, e db.Engine) {
	bodies := make(chan []byte, 8)
	var secret atomic.Value // the endpoint's, once it is made
	secret.Store("")
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if webhook.Verify(secret.Load().(string), r.Header.Get("Herald-Signature"), raw, 0, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		bodies <- raw
	}))
	t.Cleanup(rcv.Close)

	p := startPipeline(t, dbtest.Options(t, e), 100,
		app.WithJobs(func(c *jobs.Config) { c.FetchPollInterval = 20 * time.Millisecond }))
	ctx := context.Background()
	limit := int64(2)
	_, err := p.app.Accounts.Configure(ctx, p.acct, account.Setup{MonthlyLimit: &limit})
	require.NoError(t, err)
	url, events := rcv.URL, []string{webhook.UsageThreshold}
	ep, err := p.app.Webhooks.Create(ctx, p.acct, webhook.EndpointInput{URL: &url, Events: &events})
	require.NoError(t, err)
	secret.Store(ep.Secret)

	p.send(p.contact("+17346263333", consent.OptedIn), 1)
	got := awaitEvent[webhook.UsageThresholdData](t, bodies, webhook.UsageThreshold)
	require.Equal(t, "usage.threshold", got.Type)
	require.Equal(t, p.acct, got.AccountID)
	require.Equal(t, 50, got.Data.Mark)
	require.Equal(t, int64(1), got.Data.Used)
	require.Equal(t, int64(2), got.Data.Limit)
	require.Regexp(t, `^\d{4}-\d{2}$`, got.Data.Month)
}

// event is a webhook delivery's body, its data of type D.
type event[D any] struct {
	Type      string `json:"type"`
	AccountID string `json:"account_id"`
	Data      D      `json:"data"`
}

// awaitEvent reads the next body an endpoint received, failing the test
// if none comes within 20 s.
func awaitEvent[D any](t *testing.T, bodies <-chan []byte, name string) event[D] {
	t.Helper()
	var got event[D]
	select {
	case raw := <-bodies:
		require.NoError(t, json.Unmarshal(raw, &got))
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s webhook arrived", name)
	}
	return got
}

// The account's systems hear once that the carrier began refusing its
// credentials, however many sends are refused in the run; another
// account's endpoint hears nothing.
func TestCarrierRefusalReachesTheAccountsWebhook(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			bodies := make(chan []byte, 8)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, _ := io.ReadAll(r.Body)
				bodies <- raw
			}))
			t.Cleanup(rcv.Close)
			p := startPipeline(t, dbtest.Options(t, e), 50,
				app.WithDelivery(func(c *delivery.Config) { c.AuthPause = 200 * time.Millisecond }),
				app.WithJobs(func(c *jobs.Config) { c.FetchPollInterval = 20 * time.Millisecond }))
			ctx := context.Background()
			url, events := rcv.URL, []string{webhook.CarrierRefused}
			_, err := p.app.Webhooks.Create(ctx, p.acct, webhook.EndpointInput{URL: &url, Events: &events})
			require.NoError(t, err)
			other, _, err := p.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Other"})
			require.NoError(t, err)
			_, err = p.app.Webhooks.Create(ctx, other.ID, webhook.EndpointInput{URL: &url, Events: &events})
			require.NoError(t, err)

			var refused atomic.Int32
			carrier := authCarrier(t, func(*http.Request) bool { refused.Add(1); return false })
			p.useCarrier(carrier.URL)
			p.send(p.contact(phoneN(1), consent.OptedIn), 1)
			p.send(p.contact(phoneN(2), consent.OptedIn), 2)
			require.Eventually(t, func() bool { return refused.Load() >= 3 }, 10*time.Second, 10*time.Millisecond,
				"refused again after holds")

			got := awaitEvent[webhook.CarrierRefusedData](t, bodies, webhook.CarrierRefused)
			require.Equal(t, webhook.CarrierRefused, got.Type)
			require.Equal(t, p.acct, got.AccountID)
			require.Equal(t, simSID, got.Data.AccountSID)
			a, err := p.app.Accounts.Get(ctx, p.acct)
			require.NoError(t, err)
			require.True(t, a.Twilio.RefusedAt.Equal(got.Data.RefusedAt), "the time the account shows")
			select {
			case raw := <-bodies:
				t.Fatalf("a second event for the same run of refusals: %s", raw)
			case <-time.After(time.Second):
			}
		})
	}
}
