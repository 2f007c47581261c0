package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/webhook"
)

// independentSignature recomputes a Herald-Signature header's v1 from its
// parts, the way a receiver in any language would, without the package.
func independentSignature(t *testing.T, secret, header string, body []byte) (ts int64, ok bool) {
	t.Helper()
	var tsText, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			tsText = v
		case "v1":
			sig = v
		}
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	require.NoError(t, err, "header %q", header)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(tsText + "." + string(body)))
	return ts, hex.EncodeToString(m.Sum(nil)) == sig
}

func TestDeliveryRetriesUntilAccepted(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, fastRetries)
		rcv := newReceiver(t, 500, 500, 200)
		ep := b.endpoint(t, rcv.URL+"/hooks/herald?src=test", webhook.ContactOptedOut)
		require.True(t, strings.HasPrefix(ep.Secret, "whsec_"))

		before := time.Now()
		require.NoError(t, b.svc.Emit(context.Background(), nil, b.acct, webhook.ContactOptedOut,
			map[string]any{"contact_id": "con_1", "phone": "+17346263333"}))
		ds := b.waitSettled(t, ep.ID, 1)

		got := rcv.requests()
		require.Len(t, got, 3, "two refusals, then the one success")
		del := ds[0]
		require.Equal(t, "succeeded", del.Status)
		require.Nil(t, del.NextAttemptAt)
		require.Equal(t, 3, del.AttemptCount)
		require.Len(t, del.Attempts, 3)
		for i, want := range []int{500, 500, 200} {
			a := del.Attempts[i]
			require.Equal(t, i+1, a.Number)
			require.Equal(t, want, a.StatusCode)
			if want == 500 {
				require.Equal(t, "HTTP 500: Internal Server Error", a.Error)
			} else {
				require.Empty(t, a.Error)
			}
		}
		for _, r := range got {
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			require.Equal(t, "Herald-Webhooks/1", r.header.Get("User-Agent"))
			require.Equal(t, del.ID, r.header.Get("Herald-Webhook-Id"))
			ts, ok := independentSignature(t, ep.Secret, r.header.Get("Herald-Signature"), r.body)
			require.True(t, ok, "signature of %s", r.body)
			require.InDelta(t, time.Now().Unix(), ts, 60)
			require.NoError(t, webhook.Verify(ep.Secret, r.header.Get("Herald-Signature"), r.body, 0, time.Now()))
			require.JSONEq(t, string(got[0].body), string(r.body), "every attempt sends the same body")
		}
		var body struct {
			ID        string         `json:"id"`
			Type      string         `json:"type"`
			CreatedAt time.Time      `json:"created_at"`
			AccountID string         `json:"account_id"`
			Data      map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(got[2].body, &body))
		require.Equal(t, del.ID, body.ID)
		require.True(t, strings.HasPrefix(body.ID, "whd_"))
		require.Equal(t, "contact.sms_opted_out", body.Type)
		require.Equal(t, b.acct, body.AccountID)
		require.Equal(t, map[string]any{"contact_id": "con_1", "phone": "+17346263333"}, body.Data)
		require.WithinDuration(t, before, body.CreatedAt, time.Minute)
		require.JSONEq(t, string(got[2].body), string(del.Payload))
	})
}

func TestDeliveryGivesUpAfterItsRetryWindow(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		cfg := fastRetries
		cfg.RetryFor = time.Second
		b := setup(t, d, cfg)
		rcv := newReceiver(t, 503)
		ep := b.endpoint(t, rcv.URL, webhook.MessageFailed)
		require.NoError(t, b.svc.Emit(context.Background(), nil, b.acct, webhook.MessageFailed, map[string]any{"message_id": "msg_1"}))
		del := b.waitSettled(t, ep.ID, 1)[0]
		require.Equal(t, "failed", del.Status)
		require.Nil(t, del.NextAttemptAt)
		require.GreaterOrEqual(t, del.AttemptCount, 2, "retried before giving up")
		require.Len(t, del.Attempts, del.AttemptCount)
		require.Len(t, rcv.requests(), del.AttemptCount, "no attempt after it was marked failed")
	})
}

func TestTimeoutIsAFailedAttempt(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		cfg := fastRetries
		cfg.Timeout = 200 * time.Millisecond
		b := setup(t, d, cfg)
		rcv := newReceiver(t, 200)
		rcv.hang = 5 * time.Second
		ep := b.endpoint(t, rcv.URL, webhook.InboundReceived)
		require.NoError(t, b.svc.Emit(context.Background(), nil, b.acct, webhook.InboundReceived, map[string]any{"body": "hi"}))
		del := b.waitSettled(t, ep.ID, 1)[0]
		require.Equal(t, "succeeded", del.Status)
		require.Len(t, del.Attempts, 2)
		require.Zero(t, del.Attempts[0].StatusCode, "no answer in time")
		require.Equal(t, "timed out: no answer within 200ms", del.Attempts[0].Error)
		require.Less(t, del.Attempts[0].DurationMS, int64(2000))
		require.Equal(t, 200, del.Attempts[1].StatusCode)
	})
}

func TestEmitCommitsWithTheCallersTransaction(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, fastRetries)
		rcv := newReceiver(t, 204)
		ep := b.endpoint(t, rcv.URL, webhook.ContactOptedIn, webhook.ContactOptedOut)
		ctx := context.Background()
		boom := errors.New("the consent change failed")
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			require.NoError(t, b.svc.Emit(ctx, tx, b.acct, webhook.ContactOptedOut, map[string]any{"n": 1}))
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.NoError(t, d.InTx(ctx, func(tx *sql.Tx) error {
			return b.svc.Emit(ctx, tx, b.acct, webhook.ContactOptedIn, map[string]any{"n": 2})
		}))
		del := b.waitSettled(t, ep.ID, 1)[0]
		require.Equal(t, "contact.sms_opted_in", del.Event)
		require.Equal(t, "succeeded", del.Status)
		require.Len(t, rcv.requests(), 1)
	})
}

func TestEmitSkipsEndpointsThatDoNotWantTheEvent(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, fastRetries)
		ctx := context.Background()
		rcv := newReceiver(t, 200)
		wants := b.endpoint(t, rcv.URL, webhook.MessageDelivered)
		other := b.endpoint(t, rcv.URL, webhook.MessageSkipped)
		off := b.endpoint(t, rcv.URL, webhook.MessageDelivered)
		no := false
		_, err := b.svc.Update(ctx, b.acct, off.ID, webhook.EndpointInput{Enabled: &no})
		require.NoError(t, err)

		require.NoError(t, b.svc.Emit(ctx, nil, b.acct, webhook.MessageDelivered, map[string]any{"message_id": "msg_1"}))
		require.NoError(t, b.svc.Emit(ctx, nil, b.other, webhook.MessageDelivered, map[string]any{"message_id": "msg_2"}))
		require.Len(t, b.waitSettled(t, wants.ID, 1), 1)
		for _, id := range []string{other.ID, off.ID} {
			page, err := b.svc.Deliveries(ctx, b.acct, id, webhook.DeliveryFilter{})
			require.NoError(t, err)
			require.Empty(t, page.Data)
		}
		require.Len(t, rcv.requests(), 1)
		require.Error(t, b.svc.Emit(ctx, nil, b.acct, "message.exploded", nil), "an unknown event is a programming error")
	})
}

func TestRedeliverSendsTheSameDeliveryAgain(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, fastRetries)
		ctx := context.Background()
		rcv := newReceiver(t, 200)
		ep := b.endpoint(t, rcv.URL, webhook.UsageThreshold)
		require.NoError(t, b.svc.Emit(ctx, nil, b.acct, webhook.UsageThreshold,
			webhook.UsageThresholdData{Mark: 80, Month: "2026-03", Used: 800, Limit: 1000}))
		first := b.waitSettled(t, ep.ID, 1)[0]

		_, err := b.svc.Redeliver(ctx, b.other, ep.ID, first.ID)
		require.Error(t, err, "another account cannot redeliver it")
		again, err := b.svc.Redeliver(ctx, b.acct, ep.ID, first.ID)
		require.NoError(t, err)
		require.Equal(t, "pending", again.Status)
		del := b.waitSettled(t, ep.ID, 1)[0]
		require.Equal(t, "succeeded", del.Status)
		require.Len(t, del.Attempts, 2)
		got := rcv.requests()
		require.Len(t, got, 2)
		require.Equal(t, string(got[0].body), string(got[1].body), "the same id and body")
		var body struct {
			Data webhook.UsageThresholdData `json:"data"`
		}
		require.NoError(t, json.Unmarshal(got[1].body, &body))
		require.Equal(t, webhook.UsageThresholdData{Mark: 80, Month: "2026-03", Used: 800, Limit: 1000}, body.Data)
	})
}

func TestDeletingAnEndpointStopsItsRetries(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		cfg := fastRetries
		cfg.FirstRetry, cfg.MaxRetryDelay = 300*time.Millisecond, 300*time.Millisecond
		b := setup(t, d, cfg)
		ctx := context.Background()
		rcv := newReceiver(t, 500)
		ep := b.endpoint(t, rcv.URL, webhook.MessageSkipped)
		require.NoError(t, b.svc.Emit(ctx, nil, b.acct, webhook.MessageSkipped, map[string]any{}))
		require.Eventually(t, func() bool { return len(rcv.requests()) == 1 }, 10*time.Second, 5*time.Millisecond)
		require.NoError(t, b.svc.Delete(ctx, b.acct, ep.ID))
		time.Sleep(time.Second) // past the retry that would have come
		require.Len(t, rcv.requests(), 1)
	})
}
