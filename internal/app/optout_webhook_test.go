package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/jobs"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/webhook"
)

// optOutReceiver fails the first two deliveries, then takes them, and
// keeps every request.
type optOutReceiver struct {
	mu       sync.Mutex
	attempts int
	accepted [][]byte
	headers  []http.Header
}

func (o *optOutReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts++
	if o.attempts <= 2 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	o.accepted = append(o.accepted, raw)
	o.headers = append(o.headers, r.Header.Clone())
}

// A handset's STOP reaches the customer's endpoint as a correctly signed
// contact.sms_opted_out, once, although the endpoint failed twice first.
func TestStopReachesTheCustomersEndpointOnce(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			rcv := &optOutReceiver{}
			srv := httptest.NewServer(rcv)
			t.Cleanup(srv.Close)
			p := startPipeline(t, dbtest.Options(t, e), 50,
				app.WithJobs(func(c *jobs.Config) { c.FetchPollInterval = 20 * time.Millisecond }),
				app.WithWebhooks(func(c *webhook.Config) { c.FirstRetry, c.MaxRetryDelay = 50*time.Millisecond, 200*time.Millisecond }))
			ctx := context.Background()
			url, events := srv.URL, []string{webhook.ContactOptedOut}
			ep, err := p.app.Webhooks.Create(ctx, p.acct, webhook.EndpointInput{URL: &url, Events: &events})
			require.NoError(t, err)

			c := p.contact("+17346263333", consent.OptedIn)
			p.waitStatus(p.send(c, 1).ID, message.Delivered)
			require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "STOP"))

			require.Eventually(t, func() bool {
				rcv.mu.Lock()
				defer rcv.mu.Unlock()
				return len(rcv.accepted) == 1
			}, 20*time.Second, 20*time.Millisecond)
			time.Sleep(500 * time.Millisecond) // nothing more arrives
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			require.Len(t, rcv.accepted, 1, "delivered once")
			require.Equal(t, 3, rcv.attempts, "two failures, then the success")

			// Verify the signature independently: HMAC-SHA256(secret, "t.body").
			body, sig := rcv.accepted[0], rcv.headers[0].Get("Herald-Signature")
			parts := map[string]string{}
			for _, kv := range strings.Split(sig, ",") {
				k, v, _ := strings.Cut(kv, "=")
				parts[k] = v
			}
			mac := hmac.New(sha256.New, []byte(ep.Secret))
			mac.Write([]byte(parts["t"] + "." + string(body)))
			require.Equal(t, hex.EncodeToString(mac.Sum(nil)), parts["v1"], "signed with the endpoint's secret")

			var event struct {
				ID   string `json:"id"`
				Type string `json:"type"`
				Data struct {
					ContactID  string `json:"contact_id"`
					Preference string `json:"preference"`
					Source     string `json:"source"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(body, &event))
			require.Equal(t, webhook.ContactOptedOut, event.Type)
			require.Equal(t, c.ID, event.Data.ContactID)
			require.Equal(t, "opted_out", event.Data.Preference)
			require.Equal(t, "keyword", event.Data.Source)
			require.Equal(t, event.ID, rcv.headers[0].Get("Herald-Webhook-Id"), "an id to de-duplicate on")
		})
	}
}
