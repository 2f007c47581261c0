package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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
	return t.In(a.Location()).Format("2006-01")
}

// reserveMany counts new messages against the account's monthly limit in
// one pass: transactional messages take the allowance before marketing ones,
// and a transactional message past the limit takes it from the newest
// marketing message still waiting to be sent (which moves to the limit
// queue). Each message leaves queued with its reservation, or limit_queued.
// It returns the usage mark the reservations crossed (0 if none).
func reserveMany(ctx context.Context, d *db.DB, tx *sql.Tx, a account.Account, msgs []*Message, now time.Time) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	// One statement takes the allowance for every message and says what was
	// used before; what is not granted is handed back below, which only a
	// batch that reaches the limit needs. On PostgreSQL the upsert locks the
	// row, so concurrent writers take the allowance one after another.
	month, n := monthOf(a, now), int64(len(msgs))
	var used int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO account_usage (account_id, month, used, notified) VALUES ($1, $2, $3, 0)
		ON CONFLICT (account_id, month) DO UPDATE SET used = account_usage.used + excluded.used
		RETURNING used`, a.ID, month, n).Scan(&used); err != nil {
		return 0, fmt.Errorf("message: usage: %w", err)
	}
	used -= n
	ordered := slices.Clone(msgs)
	slices.SortStableFunc(ordered, func(x, y *Message) int { return x.Kind.priority() - y.Kind.priority() })
	free, granted := max(0, a.MonthlyLimit-used), int64(0)
	for _, m := range ordered {
		m.Status, m.Reserved = LimitQueued, false
		switch {
		case granted < free:
			m.Status, m.Reserved = Queued, true
			granted++
		case m.Kind != Marketing:
			bumped, err := bumpMarketing(ctx, d, tx, a.ID, now)
			if err != nil {
				return 0, err
			}
			if bumped != "" {
				m.Status, m.Reserved = Queued, true
			}
		}
	}
	if granted < n {
		if _, err := tx.ExecContext(ctx, `UPDATE account_usage SET used = used - $3 WHERE account_id = $1 AND month = $2`,
			a.ID, month, n-granted); err != nil {
			return 0, fmt.Errorf("message: usage: %w", err)
		}
	}
	if granted == 0 {
		return 0, nil
	}
	return crossMark(ctx, tx, a, month, used+granted)
}

// bumpMarketing moves the newest waiting marketing message of an account
// (queued, or scheduled for its window) to the limit queue and hands its
// reservation over.
func bumpMarketing(ctx context.Context, d *db.DB, tx *sql.Tx, accountID string, now time.Time) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `UPDATE messages SET status = 'limit_queued', reserved = $3, updated_at = $2
		WHERE id = (SELECT id FROM messages WHERE account_id = $1 AND status IN ('queued', 'scheduled')
			AND kind = 'marketing' AND reserved = $4 ORDER BY id DESC LIMIT 1)
		RETURNING id`, accountID, now, false, true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("message: bump marketing: %w", err)
	}
	return id, logChanges(ctx, d, tx, []change{{accountID, id, LimitQueued, "transactional_priority", "", now}})
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
