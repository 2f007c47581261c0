package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
)

// Usage is an account's messages against its monthly limit.
type Usage struct {
	AccountID string `json:"account_id"`
	Month     string `json:"month"` // YYYY-MM in the account's time zone
	Used      int64  `json:"used"`
	Limit     int64  `json:"limit"`
	Percent   int    `json:"percent"`
	// Notified is the highest mark (50, 80, 100) announced this month.
	Notified int `json:"notified"`
}

// marks are the usage percentages an account is told about, once a month.
var marks = []int{50, 80, 100}

// monthOf is the calendar month of t in the account's time zone.
func monthOf(a account.Account, t time.Time) string {
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01")
}

// reserve counts one message against the account's monthly limit. When the
// allowance is spent, a transactional message takes it from the newest
// marketing message still waiting to be sent (which moves to the limit
// queue): transactional messages take the allowance before marketing ones.
// It reports whether the message may be queued, and the usage mark it
// crossed (0 if none).
func reserve(ctx context.Context, tx *sql.Tx, a account.Account, k Kind, now time.Time) (ok bool, mark int, bumped string, err error) {
	month := monthOf(a, now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_usage (account_id, month, used, notified) VALUES ($1, $2, 0, 0)
		ON CONFLICT (account_id, month) DO NOTHING`, a.ID, month); err != nil {
		return false, 0, "", fmt.Errorf("message: usage: %w", err)
	}
	var used int64
	err = tx.QueryRowContext(ctx, `UPDATE account_usage SET used = used + 1
		WHERE account_id = $1 AND month = $2 AND used < $3 RETURNING used`, a.ID, month, a.MonthlyLimit).Scan(&used)
	switch {
	case err == nil:
		mark, err = crossMark(ctx, tx, a, month, used)
		return true, mark, "", err
	case !errors.Is(err, sql.ErrNoRows):
		return false, 0, "", fmt.Errorf("message: usage: %w", err)
	case k == Marketing:
		return false, 0, "", nil
	}
	bumped, err = bumpMarketing(ctx, tx, a.ID, now)
	return bumped != "", 0, bumped, err
}

// bumpMarketing moves the newest waiting marketing message of an account
// to the limit queue and hands its reservation over.
func bumpMarketing(ctx context.Context, tx *sql.Tx, accountID string, now time.Time) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `UPDATE messages SET status = 'limit_queued', reserved = $3, updated_at = $2
		WHERE id = (SELECT id FROM messages WHERE account_id = $1 AND status = 'queued' AND kind = 'marketing'
			AND reserved = $4 ORDER BY id DESC LIMIT 1)
		RETURNING id`, accountID, now, false, true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("message: bump marketing: %w", err)
	}
	return id, logChanges(ctx, tx, []change{{accountID, id, LimitQueued, "transactional_priority", "", now}})
}

// crossMark records the highest usage mark reached, once per month, and
// returns it if this reservation crossed it.
func crossMark(ctx context.Context, tx *sql.Tx, a account.Account, month string, used int64) (int, error) {
	reached := 0
	for _, m := range marks {
		if a.MonthlyLimit > 0 && used*100 >= int64(m)*a.MonthlyLimit {
			reached = m
		}
	}
	if reached == 0 {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE account_usage SET notified = $3
		WHERE account_id = $1 AND month = $2 AND notified < $3`, a.ID, month, reached)
	if err != nil {
		return 0, fmt.Errorf("message: usage mark: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	return reached, nil
}

// release gives back a reservation for a message that will not be sent.
func release(ctx context.Context, q db.Querier, a account.Account, now time.Time, n int) error {
	if n == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `UPDATE account_usage SET used = CASE WHEN used >= $3 THEN used - $3 ELSE 0 END
		WHERE account_id = $1 AND month = $2`, a.ID, monthOf(a, now), n)
	if err != nil {
		return fmt.Errorf("message: release usage: %w", err)
	}
	return nil
}

// UsageOf returns an account's usage this month.
func (s *Service) UsageOf(ctx context.Context, a account.Account) (Usage, error) {
	u := Usage{AccountID: a.ID, Month: monthOf(a, s.clock.Now()), Limit: a.MonthlyLimit}
	err := s.db.Read().QueryRowContext(ctx, `SELECT used, notified FROM account_usage WHERE account_id = $1 AND month = $2`,
		a.ID, u.Month).Scan(&u.Used, &u.Notified)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("message: usage: %w", err)
	}
	if u.Limit > 0 {
		u.Percent = int(u.Used * 100 / u.Limit)
	}
	return u, nil
}
