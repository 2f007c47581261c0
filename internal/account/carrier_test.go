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
	"github.com/heraldsms/herald/internal/provider"
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

		used := provider.Credentials{AccountSID: twilio.AccountSID, AuthToken: "tok"}
		refuse := func(at time.Time, used provider.Credentials) bool {
			noted, err := s.CarrierRefused(ctx, acme, at, used)
			require.NoError(t, err)
			return noted
		}
		first := time.Date(2026, 11, 28, 14, 2, 3, 0, time.UTC)
		stale := used
		stale.AuthToken = "the token before"
		require.False(t, refuse(first.Add(-time.Minute), stale), "a refusal of credentials since replaced")
		require.Nil(t, refusedAt(acme), "is not shown")
		require.True(t, refuse(first, used))
		require.True(t, refuse(first.Add(time.Minute), used))
		got := refusedAt(acme)
		require.NotNil(t, got)
		require.True(t, first.Equal(*got), "the first refusal of the run: %v", got)
		require.Nil(t, refusedAt(other), "another account's carrier is its own")

		require.NoError(t, s.CarrierAccepted(ctx, acme))
		require.Nil(t, refusedAt(acme), "a send that succeeds clears it")
		require.NoError(t, s.CarrierAccepted(ctx, acme), "clearing twice is no error")

		require.True(t, refuse(first.Add(time.Hour), used))
		require.NotNil(t, refusedAt(acme))
		_, err = s.Configure(ctx, acme, account.Setup{Twilio: twilio})
		require.NoError(t, err)
		require.Nil(t, refusedAt(acme), "new credentials clear it")
	})
}
