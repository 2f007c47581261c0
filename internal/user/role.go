package user

import (
	"context"
	"fmt"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
)

// SetRole changes the role of an account's user. It applies from the
// user's next request: a session reads the role from the user's row.
func (s *Store) SetRole(ctx context.Context, accountID, userID string, role account.Role) (User, error) {
	if _, err := account.ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if role == account.RoleOperator {
		return User{}, problem.Invalidf("invalid_role", "role", "a user of an account is a viewer, an editor or an admin")
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE users SET role = $1 WHERE account_id = $2 AND id = $3`,
		string(role), accountID, userID)
	if err != nil {
		return User{}, fmt.Errorf("user: set role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return User{}, problem.NotFoundf("no user %s", userID)
	}
	var hash string
	return s.scanOne(ctx, `WHERE account_id = $1 AND id = $2`, []any{accountID, userID}, &hash)
}
