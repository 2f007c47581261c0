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
)

// Accounts, sender numbers and keys are kept in memory for a moment, but a
// change made through the store is seen at once, and one made elsewhere
// (another process, here straight in the database) within seconds.
func TestCachedReadsSeeChanges(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := account.NewStore(d, clock.System{})
		a, key, err := s.CreateAccount(ctx, account.NewAccount{Name: "Acme"})
		require.NoError(t, err)

		p, err := s.Authenticate(ctx, key)
		require.NoError(t, err)
		keys, err := s.ListKeys(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, keys, 1)
		require.NoError(t, s.RevokeKey(ctx, a.ID, p.KeyID))
		_, err = s.Authenticate(ctx, key)
		require.ErrorIs(t, err, account.ErrBadKey, "revoked at once")

		got, err := s.Get(ctx, a.ID)
		require.NoError(t, err)
		require.False(t, got.SelfApproval)
		on := true
		nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth}}
		_, err = s.Configure(ctx, a.ID, account.Setup{SelfApproval: &on, Numbers: &nums})
		require.NoError(t, err)
		got, err = s.Get(ctx, a.ID)
		require.NoError(t, err)
		require.True(t, got.SelfApproval, "the store's own change, at once")
		numbers, err := s.Numbers(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, numbers, 1)

		_, err = d.Write().ExecContext(ctx, `UPDATE accounts SET self_approval = $1 WHERE id = $2`, false, a.ID)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			got, err := s.Get(ctx, a.ID)
			return err == nil && !got.SelfApproval
		}, 5*time.Second, 50*time.Millisecond, "a change made elsewhere, within seconds")
	})
}
