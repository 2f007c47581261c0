package message_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// Reports that name their message and arrive while its send's result is
// still to be written wait for that write, then apply: the carrier's
// callbacks often beat the result to the database. When each report
// returns, the message has already moved; nothing is parked; the history
// is whole and the outcome announced once.
func TestReportsNamingTheirMessageWaitForItsResult(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, 2*time.Millisecond)

		m := b.send(t)
		claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 1, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		b.svc.Expect(m.ID)

		reports := []message.CarrierStatus{
			{CarrierID: "SM-early", Status: "sent", Token: "t-sent", MessageID: m.ID},
			{CarrierID: "SM-early", Status: "delivered", Token: "t-delivered", MessageID: m.ID},
		}
		seen := make(chan message.Status, len(reports)) // the message's status when each report returned
		for _, r := range reports {
			go func() {
				if err := b.svc.ApplyCarrierStatus(b.ctx, b.acct.ID, r); err != nil {
					t.Error(err)
				}
				got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
				if err != nil {
					t.Error(err)
				}
				seen <- got.Status
			}()
		}
		select {
		case s := <-seen:
			t.Fatalf("a report returned before its send's result was written, with the message %s", s)
		case <-time.After(100 * time.Millisecond):
		}

		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{
			{Message: claimed[0], Status: message.Sent, Carrier: "twilio", CarrierID: "SM-early"}}))
		for range reports {
			select {
			case s := <-seen:
				require.Contains(t, []message.Status{message.Sent, message.Delivered}, s)
			case <-time.After(10 * time.Second):
				t.Fatal("a report still waits after its send's result was written")
			}
		}

		got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
		require.NoError(t, err)
		require.Equal(t, message.Delivered, got.Status)
		require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}, statuses(got))
		require.Equal(t, []message.Status{message.Delivered}, announced.of(m.ID), "announced once")
		require.Zero(t, parked(t, b, d))
	})
}
