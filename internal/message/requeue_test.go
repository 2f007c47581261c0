package message_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// A message whose claims keep running out without a result (its process
// dies at it, or its result cannot be written) is sent again each time,
// until it has been claimed as often as a message may be: then it fails,
// and is announced, instead of texting its contact without end.
func TestExpiredClaimsRequeueUntilTheAttemptsRunOut(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, time.Millisecond)
		m := b.send(t)
		const maxAttempts = 3
		for claim := 1; claim <= maxAttempts; claim++ {
			claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, claimed, 1, "claim %d", claim)
			require.Equal(t, claim, claimed[0].Attempts)

			n, err := b.svc.RequeueExpired(b.ctx, maxAttempts)
			require.NoError(t, err)
			require.Zero(t, n, "claim %d has not run out yet", claim)
			b.clock.Advance(2 * time.Minute)
			n, err = b.svc.RequeueExpired(b.ctx, maxAttempts)
			require.NoError(t, err)
			require.Equal(t, 1, n, "claim %d", claim)
		}
		got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
		require.NoError(t, err)
		require.Equal(t, message.Failed, got.Status)
		require.Equal(t, message.ReasonClaimsExpired, got.Reason)
		require.Equal(t, []message.Status{message.Queued, message.Sending, message.Queued, message.Sending,
			message.Queued, message.Sending, message.Failed}, statuses(got))
		require.Equal(t, []message.Status{message.Failed}, announced.of(m.ID), "announced once, as failed")

		claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, claimed, "never claimed again")
	})
}
