package message_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// A report parked by a transaction that committed after the send result
// took what was parked is applied by one of the two second passes: the
// report's own unpark, or the send's sweep. Each runs in the reports'
// group commit and leaves the message delivered, its history whole, the
// report gone from the parking and the outcome announced once.
func TestParkedReportsAreTakenByEitherSecondPass(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, 2*time.Millisecond)

		passes := map[string]func(m *message.Message) error{
			"SM-unpark": func(m *message.Message) error { return message.Unpark(b.svc, b.ctx, b.acct.ID, *m.CarrierID) },
			"SM-sweep":  func(m *message.Message) error { return message.SweepPending(b.svc, b.ctx, []*message.Message{m}) },
		}
		for carrierID, pass := range passes {
			m := b.send(t)
			claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 1, time.Minute)
			require.NoError(t, err)
			require.Len(t, claimed, 1)
			require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{
				{Message: claimed[0], Status: message.Sent, Carrier: "twilio", CarrierID: carrierID}}))
			// Parked after the result's own look at the parking.
			_, err = d.Write().ExecContext(b.ctx, `INSERT INTO pending_statuses (carrier_id, account_id, status, error_code, received_at)
				VALUES ($1, $2, 'delivered', '', $3)`, carrierID, b.acct.ID, b.clock.Now())
			require.NoError(t, err)

			sent, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
			require.NoError(t, err)
			require.NoError(t, pass(sent), carrierID)
			require.NoError(t, pass(sent), "%s: a second run finds nothing left", carrierID)

			got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
			require.NoError(t, err)
			require.Equal(t, message.Delivered, got.Status, carrierID)
			require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}, statuses(got), carrierID)
			require.Equal(t, []message.Status{message.Delivered}, announced.of(m.ID), "%s: announced once", carrierID)
		}
		require.Zero(t, parked(t, b, d))
	})
}
