package user_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/user"
)

func TestSetRole(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		users, _, acct := setup(t, d)
		ctx := context.Background()
		ann, err := users.Create(ctx, user.New{AccountID: acct, Email: "ann@example.com", Role: account.RoleViewer, Password: goodPassword})
		require.NoError(t, err)
		token, _, err := users.StartSession(ctx, ann)
		require.NoError(t, err)

		got, err := users.SetRole(ctx, acct, ann.ID, account.RoleEditor)
		require.NoError(t, err)
		require.Equal(t, account.RoleEditor, got.Role)
		require.Equal(t, "ann@example.com", got.Email)
		// A signed-in user holds the new role on the next request.
		sess, err := users.Session(ctx, token)
		require.NoError(t, err)
		require.Equal(t, account.RoleEditor, sess.User.Role)

		cases := []struct {
			name    string
			account string
			userID  string
			role    account.Role
			code    string
		}{
			{"unknown role", acct, ann.ID, "owner", "invalid_role"},
			{"operator", acct, ann.ID, account.RoleOperator, "invalid_role"},
			{"empty role", acct, ann.ID, "", "invalid_role"},
			{"unknown user", acct, "usr_nope", account.RoleAdmin, "not_found"},
			{"another account's user", "acc_other", ann.ID, account.RoleAdmin, "not_found"},
			{"the operator's user, with no account", "", ann.ID, account.RoleAdmin, "not_found"},
		}
		for _, tc := range cases {
			_, err := users.SetRole(ctx, tc.account, tc.userID, tc.role)
			p, ok := problem.As(err)
			require.True(t, ok, "%s: %v", tc.name, err)
			require.Equal(t, tc.code, p.Code, tc.name)
		}
		list, err := users.List(ctx, acct)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, account.RoleEditor, list[0].Role, "a refused change changes nothing")
	})
}
