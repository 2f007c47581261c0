package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/secret"
)

// The carrier's refusal of an account's credentials is shown from the
// first refusal of a run until a send succeeds or the operator sets new
// credentials; another account's is its own.
func TestCarrierRefusalIsShownUntilAcceptedOrReplaced(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		box, err := secret.New("carrier test")
		require.NoError(t, err)
		s := account.NewStore(d, clock.System{}, account.WithSecrets(box))
		twilio := &account.TwilioSetup{AccountSID: "AC11111111111111111111111111111111", AuthToken: "tok"}
		setUp := func(name string) string {
			a, _, err := s.CreateAccount(ctx, account.NewAccount{Name: name})
			require.NoError(t, err)
			_, err = s.Configure(ctx, a.ID, account.Setup{Twilio: twilio})
			require.NoError(t, err)
			return a.ID
		}
		acme, other := setUp("Acme"), setUp("Other")
		refusedAt := func(id string) *time.Time {
			a, err := s.Get(ctx, id)
			require.NoError(t, err)
			require.NotNil(t, a.Twilio)
			return a.Twilio.RefusedAt
		}
		require.Nil(t, refusedAt(acme))

		first := time.Date(2026, 11, 28, 14, 2, 3, 0, time.UTC)
		require.NoError(t, s.CarrierRefused(ctx, acme, first))
		require.NoError(t, s.CarrierRefused(ctx, acme, first.Add(time.Minute)))
		got := refusedAt(acme)
		require.NotNil(t, got)
		require.True(t, first.Equal(*got), "the first refusal of the run: %v", got)
		require.Nil(t, refusedAt(other), "another account's carrier is its own")

		require.NoError(t, s.CarrierAccepted(ctx, acme))
		require.Nil(t, refusedAt(acme), "a send that succeeds clears it")
		require.NoError(t, s.CarrierAccepted(ctx, acme), "clearing twice is no error")

		require.NoError(t, s.CarrierRefused(ctx, acme, first.Add(time.Hour)))
		require.NotNil(t, refusedAt(acme))
		_, err = s.Configure(ctx, acme, account.Setup{Twilio: twilio})
		require.NoError(t, err)
		require.Nil(t, refusedAt(acme), "new credentials clear it")
	})
}
