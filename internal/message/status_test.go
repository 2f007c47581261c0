package message_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// Carrier reports that arrive together are applied together: out of order,
// repeated within the batch and across batches, and ahead of the send
// result they belong to. Each message ends where its life says, logs each
// status once, and is announced once.
func TestCarrierReportsTogether(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, 30*time.Millisecond)

		first, second, late := b.send(t), b.send(t), b.send(t)
		claimed, err := b.svc.Claim(b.ctx, *first.NumberID, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 3)
		byID := map[string]*message.Message{}
		for _, m := range claimed {
			byID[m.ID] = m
		}
		sent := func(m *message.Message, carrierID string) message.Outcome {
			return message.Outcome{Message: byID[m.ID], Status: message.Sent, Carrier: "twilio", CarrierID: carrierID}
		}
		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{sent(first, "SM1"), sent(second, "SM2")}))

		reports := []message.CarrierStatus{
			{CarrierID: "SM1", Status: "delivered", Token: "t1-delivered"},
			{CarrierID: "SM1", Status: "sent", Token: "t1-sent"}, // late: never moves it back
			{CarrierID: "SM1", Status: "delivered", Token: "t1-delivered"},
			{CarrierID: "SM2", Status: "undelivered", ErrorCode: "30007", Token: "t2"},
			{CarrierID: "SM2", Status: "undelivered", ErrorCode: "30007", Token: "t2"},
			{CarrierID: "SM3", Status: "delivered", Token: "t3"}, // before its send result
			{CarrierID: "SM404", Status: "delivered", Token: "t404"},
			{CarrierID: "SM1", Status: "queued", Token: "t1-queued"}, // says nothing new
		}
		var wg sync.WaitGroup
		for _, r := range reports {
			wg.Add(1)
			go func() {
				defer wg.Done()
				require.NoError(t, b.svc.ApplyCarrierStatus(b.ctx, b.acct.ID, r))
			}()
		}
		wg.Wait()
		require.NoError(t, b.svc.ApplyCarrierStatus(b.ctx, b.acct.ID, reports[0]), "a repeat in a later batch")
		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{sent(late, "SM3")}))

		want := map[string]struct {
			status  message.Status
			code    string
			history []message.Status
		}{
			first.ID:  {message.Delivered, "", []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}},
			second.ID: {message.Undelivered, "30007", []message.Status{message.Queued, message.Sending, message.Sent, message.Undelivered}},
			late.ID:   {message.Delivered, "", []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}},
		}
		for id, w := range want {
			got, err := b.svc.Get(b.ctx, b.acct.ID, id)
			require.NoError(t, err)
			require.Equal(t, w.status, got.Status, id)
			require.Equal(t, w.code, got.ErrorCode, id)
			require.Equal(t, w.history, statuses(got), id)
			require.Equal(t, []message.Status{w.status}, announced.of(id), "announced once, with its outcome")
		}
		require.Equal(t, 1, parked(t, b, d), "only the report for a message Herald never sent waits")
	})
}
