package message

import (
	"context"
	"fmt"
	"time"
)

// ReleaseForNewMonth sends the messages that waited in the limit queue
// through the end of a month, for accounts that chose to release their
// queue automatically (auto_release_queue). Messages queued this month,
// past this month's limit, stay until an admin decides.
func (s *Service) ReleaseForNewMonth(ctx context.Context) (int, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id FROM accounts WHERE auto_release_queue = $1`, true)
	if err != nil {
		return 0, fmt.Errorf("message: auto release: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("message: auto release: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	released := 0
	for _, accountID := range ids {
		n, err := s.releaseBefore(ctx, accountID)
		if err != nil {
			return released, err
		}
		released += n
	}
	return released, nil
}

func (s *Service) releaseBefore(ctx context.Context, accountID string) (int, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return 0, err
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := s.clock.Now().In(loc)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).UTC()
	total := 0
	for {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id FROM messages WHERE account_id = $1 AND status = 'limit_queued'
			AND created_at < $2 ORDER BY priority, id LIMIT 500`, accountID, monthStart)
		if err != nil {
			return total, fmt.Errorf("message: auto release: %w", err)
		}
		var batch []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return total, err
			}
			batch = append(batch, id)
		}
		rows.Close()
		if len(batch) == 0 {
			return total, nil
		}
		res, err := s.ReleaseQueued(ctx, accountID, batch, false)
		if err != nil {
			return total, err
		}
		total += res.Released + res.Skipped
		if len(batch) < 500 {
			return total, nil
		}
	}
}

// Prune forgets callback idempotency tokens after a week (carriers retry
// for hours, not weeks) and parked statuses whose message never appeared.
func (s *Service) Prune(ctx context.Context) error {
	now := s.clock.Now()
	if _, err := s.db.Write().ExecContext(ctx, `DELETE FROM carrier_callbacks WHERE received_at < $1`, now.Add(-7*24*time.Hour)); err != nil {
		return fmt.Errorf("message: prune tokens: %w", err)
	}
	if _, err := s.db.Write().ExecContext(ctx, `DELETE FROM pending_statuses WHERE received_at < $1`, now.Add(-24*time.Hour)); err != nil {
		return fmt.Errorf("message: prune pending: %w", err)
	}
	return nil
}
