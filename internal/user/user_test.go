package user_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/user"
)

const goodPassword = "correct horse battery"

// testCost keeps hashing fast under the race detector.
var testCost = user.Cost{MemoryKiB: 1024, Passes: 1}

func setup(t *testing.T, d *db.DB) (*user.Store, *clock.Fake, string) {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC))
	a, _, err := account.NewStore(d, c).CreateAccount(context.Background(), account.NewAccount{Name: "Acme"})
	require.NoError(t, err)
	return user.NewStore(d, c, user.WithCost(testCost)), c, a.ID
}

func TestCreateRules(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		users, _, acct := setup(t, d)
		ctx := context.Background()
		cases := []struct {
			name string
			in   user.New
			code string
		}{
			{"bad email", user.New{AccountID: acct, Email: "not-an-email", Role: account.RoleAdmin, Password: goodPassword}, "invalid_email"},
			{"display-name email", user.New{AccountID: acct, Email: "Ann <ann@example.com>", Role: account.RoleAdmin, Password: goodPassword}, "invalid_email"},
			{"short password", user.New{AccountID: acct, Email: "a@example.com", Role: account.RoleAdmin, Password: "short"}, "password_too_short"},
			{"unknown role", user.New{AccountID: acct, Email: "a@example.com", Role: "owner", Password: goodPassword}, "invalid_role"},
			{"operator in an account", user.New{AccountID: acct, Email: "a@example.com", Role: account.RoleOperator, Password: goodPassword}, "invalid_role"},
			{"member without account", user.New{Email: "a@example.com", Role: account.RoleViewer, Password: goodPassword}, "invalid_role"},
			{"unknown account", user.New{AccountID: "acc_nope", Email: "a@example.com", Role: account.RoleViewer, Password: goodPassword}, "not_found"},
		}
		for _, tc := range cases {
			_, err := users.Create(ctx, tc.in)
			p, ok := problem.As(err)
			require.True(t, ok, "%s: %v", tc.name, err)
			require.Equal(t, tc.code, p.Code, tc.name)
		}
		list, err := users.List(ctx, acct)
		require.NoError(t, err)
		require.Empty(t, list, "no refused user is half-written")

		u, err := users.Create(ctx, user.New{AccountID: acct, Email: " Ann@Example.com ", Name: "Ann", Role: account.RoleEditor, Password: goodPassword})
		require.NoError(t, err)
		require.Equal(t, "ann@example.com", u.Email)
		_, err = users.Create(ctx, user.New{AccountID: acct, Email: "ANN@example.com", Role: account.RoleViewer, Password: goodPassword})
		p, _ := problem.As(err)
		require.Equal(t, "email_taken", p.Code)

		op, err := users.Create(ctx, user.New{Email: "op@example.com", Role: account.RoleOperator, Password: goodPassword})
		require.NoError(t, err)
		require.True(t, op.Principal().IsOperator())
	})
}

func TestAuthenticate(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		users, _, acct := setup(t, d)
		ctx := context.Background()
		made, err := users.Create(ctx, user.New{AccountID: acct, Email: "ann@example.com", Role: account.RoleViewer, Password: goodPassword})
		require.NoError(t, err)

		got, err := users.Authenticate(ctx, "ANN@example.com ", goodPassword)
		require.NoError(t, err)
		require.Equal(t, made.ID, got.ID)
		require.Equal(t, account.Principal{AccountID: acct, Role: account.RoleViewer, UserID: made.ID}, got.Principal())

		for _, tc := range []struct{ email, password string }{
			{"ann@example.com", goodPassword + "x"},
			{"ann@example.com", ""},
			{"bob@example.com", goodPassword},
		} {
			_, err := users.Authenticate(ctx, tc.email, tc.password)
			require.ErrorIs(t, err, user.ErrBadCredentials, "%s / %q", tc.email, tc.password)
		}
	})
}

func TestSessions(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		users, c, acct := setup(t, d)
		ctx := context.Background()
		u, err := users.Create(ctx, user.New{AccountID: acct, Email: "ann@example.com", Role: account.RoleAdmin, Password: goodPassword})
		require.NoError(t, err)

		token, started, err := users.StartSession(ctx, u)
		require.NoError(t, err)
		require.NotEmpty(t, started.CSRF)
		got, err := users.Session(ctx, token)
		require.NoError(t, err)
		require.Equal(t, u.ID, got.User.ID)
		require.Equal(t, started.CSRF, got.CSRF)

		_, err = users.Session(ctx, token+"x")
		require.ErrorIs(t, err, user.ErrNoSession)
		_, err = users.Session(ctx, "")
		require.ErrorIs(t, err, user.ErrNoSession)

		// Activity keeps a session alive past the idle timeout...
		for range 3 {
			c.Advance(user.IdleTimeout - time.Hour)
			_, err = users.Session(ctx, token)
			require.NoError(t, err)
		}
		// ...but idleness ends it.
		c.Advance(user.IdleTimeout)
		_, err = users.Session(ctx, token)
		require.ErrorIs(t, err, user.ErrNoSession)

		// No session outlives MaxAge, however busy.
		token, _, err = users.StartSession(ctx, u)
		require.NoError(t, err)
		for elapsed := time.Duration(0); elapsed < user.MaxAge-time.Hour; elapsed += 6 * time.Hour {
			_, err = users.Session(ctx, token)
			require.NoError(t, err, "after %v", elapsed)
			c.Advance(6 * time.Hour)
		}
		c.Advance(time.Hour)
		_, err = users.Session(ctx, token)
		require.ErrorIs(t, err, user.ErrNoSession)

		// Signing out ends the session at once; deleting a user ends all of theirs.
		token, _, err = users.StartSession(ctx, u)
		require.NoError(t, err)
		require.NoError(t, users.EndSession(ctx, token))
		_, err = users.Session(ctx, token)
		require.ErrorIs(t, err, user.ErrNoSession)

		token, _, err = users.StartSession(ctx, u)
		require.NoError(t, err)
		require.NoError(t, users.Delete(ctx, acct, u.ID))
		_, err = users.Session(ctx, token)
		require.ErrorIs(t, err, user.ErrNoSession)
	})
}

// TestCostChangesKeepOldHashes checks that a hash records its own cost: a
// store with a higher cost still verifies passwords hashed at a lower one.
func TestCostChangesKeepOldHashes(t *testing.T) {
	d := dbtest.New(t, db.SQLite)
	users, c, acct := setup(t, d)
	ctx := context.Background()
	_, err := users.Create(ctx, user.New{AccountID: acct, Email: "ann@example.com", Role: account.RoleViewer, Password: goodPassword})
	require.NoError(t, err)
	stronger := user.NewStore(d, c, user.WithCost(user.Cost{MemoryKiB: 8 * 1024, Passes: 2}))
	_, err = stronger.Authenticate(ctx, "ann@example.com", goodPassword)
	require.NoError(t, err)
	_, err = stronger.Authenticate(ctx, "ann@example.com", goodPassword+"!")
	require.ErrorIs(t, err, user.ErrBadCredentials)
}
