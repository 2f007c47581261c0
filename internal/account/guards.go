package account

import (
	"context"
	"database/sql"
	"time"

	"github.com/heraldsms/herald/internal/guard"
	"github.com/heraldsms/herald/internal/problem"
)

// Guards are an account's marketing guards: the local hours marketing may
// go out in and how many marketing messages a contact may get. An account
// may only tighten the defaults (see package guard). Nil fields of a change
// are left as they are.
type Guards struct {
	SendingWindow *guard.Window
	FrequencyCap  *guard.Cap
}

// SetGuards changes an account's marketing guards and returns the account.
// A value equal to the default is stored as the default, so the account
// follows the default should it change.
func (s *Store) SetGuards(ctx context.Context, accountID string, g Guards) (Account, error) {
	if g.SendingWindow != nil {
		if err := g.SendingWindow.Validate(); err != nil {
			return Account{}, err
		}
		if g.SendingWindow.Effective() == (guard.Window{}).Effective() {
			*g.SendingWindow = guard.Window{}
		}
	}
	if g.FrequencyCap != nil {
		if err := g.FrequencyCap.Validate(); err != nil {
			return Account{}, err
		}
		if g.FrequencyCap.Effective() == (guard.Cap{}).Effective() {
			*g.FrequencyCap = guard.Cap{}
		}
	}
	now := s.clock.Now()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET updated_at = $2 WHERE id = $1`, accountID, now)
		if err != nil {
			return wrap("set guards", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("no account %q", accountID)
		}
		if w := g.SendingWindow; w != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET window_start = $2, window_end = $3 WHERE id = $1`,
				accountID, w.Start, w.End); err != nil {
				return wrap("set guards", err)
			}
		}
		if c := g.FrequencyCap; c != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET cap_max = $2, cap_period_hours = $3 WHERE id = $1`,
				accountID, c.Max, int(c.Period/time.Hour)); err != nil {
				return wrap("set guards", err)
			}
		}
		return nil
	})
	s.changed(accountID)
	if err != nil {
		return Account{}, err
	}
	return s.Get(ctx, accountID)
}
