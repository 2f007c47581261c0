package message

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// QueueResult says what a limit-queue action did.
type QueueResult struct {
	Released  int `json:"released"`
	Cancelled int `json:"cancelled"`
	Skipped   int `json:"skipped"`
	// NotQueued counts ids that are not (or no longer) in the queue.
	NotQueued int `json:"not_queued"`
}

// maxQueueIDs bounds one request's list of ids.
const maxQueueIDs = 1000

// queuedBatch returns limit-queued messages of an account: the given ids,
// or (all) the oldest page of them.
func queuedBatch(ctx context.Context, q db.Querier, accountID string, ids []string, all bool) ([]*Message, error) {
	if all {
		rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE account_id = $1
			AND status = 'limit_queued' ORDER BY priority, id LIMIT 500`, accountID)
		if err != nil {
			return nil, fmt.Errorf("message: queue: %w", err)
		}
		return scanMessages(rows)
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE account_id = $1
		AND status = 'limit_queued' AND id IN (`+db.Placeholders(2, len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("message: queue: %w", err)
	}
	return scanMessages(rows)
}

// distinct is ids without repeats, in their first order.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func checkQueueRequest(ids []string, all bool) error {
	switch {
	case all && len(ids) > 0:
		return problem.Invalidf("invalid_request", "ids", "send ids or all, not both")
	case !all && len(ids) == 0:
		return problem.Invalidf("required", "ids", "send the ids of queued messages, or all: true")
	case len(ids) > maxQueueIDs:
		return problem.Invalidf("too_many_ids", "ids", "at most %d ids per request", maxQueueIDs)
	}
	return nil
}

// ReleaseQueued sends limit-queued messages on an admin's word: the
// audience rules and the marketing guards are checked again, and those that
// pass are queued past the limit (or scheduled for their window), counted in
// the month's usage.
func (s *Service) ReleaseQueued(ctx context.Context, accountID string, ids []string, all bool) (QueueResult, error) {
	return s.actOnQueue(ctx, accountID, ids, all, true)
}

// CancelQueued cancels limit-queued messages; they are never sent.
func (s *Service) CancelQueued(ctx context.Context, accountID string, ids []string, all bool) (QueueResult, error) {
	return s.actOnQueue(ctx, accountID, ids, all, false)
}

func (s *Service) actOnQueue(ctx context.Context, accountID string, ids []string, all, send bool) (QueueResult, error) {
	var res QueueResult
	if err := checkQueueRequest(ids, all); err != nil {
		return res, err
	}
	ids = distinct(ids) // an id given twice is one message, counted once
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return res, err
	}
	woken, due := map[string]bool{}, map[string]time.Time{}
	for {
		msgs, err := queuedBatch(ctx, s.db.Read(), accountID, ids, all)
		if err != nil {
			return res, err
		}
		if !all {
			res.NotQueued = len(ids) - len(msgs)
		}
		if len(msgs) == 0 {
			break
		}
		holds := map[string]Hold{}
		if send {
			if holds, err = s.Recheck(ctx, a, msgs); err != nil {
				return res, err
			}
		}
		now := s.clock.Now()
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			var changes []change
			released := 0
			for _, m := range msgs {
				to, reason, next := Cancelled, ReasonCancelledByAdmin, now
				if send {
					to, reason = Queued, "released_by_admin"
					switch h, held := holds[m.ID]; {
					case held && h.Reason != "":
						to, reason = Skipped, h.Reason
					case held:
						to, reason, next = Scheduled, ReasonSendingWindow, h.Until
					}
				}
				upd, err := tx.ExecContext(ctx, `UPDATE messages SET status = $3, reason = $4, reserved = $5,
					next_attempt_at = $6, updated_at = $7 WHERE account_id = $1 AND id = $2 AND status = 'limit_queued'`,
					accountID, m.ID, string(to), reason, to == Queued || to == Scheduled, next, now)
				if err != nil {
					return fmt.Errorf("message: queue action: %w", err)
				}
				if n, _ := upd.RowsAffected(); n == 0 {
					continue
				}
				if to == Queued || to == Scheduled {
					released++
				}
				changes = append(changes, change{accountID, m.ID, to, reason, "", now})
				m.Status, m.NextAttempt = to, next
			}
			if released > 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO account_usage (account_id, month, used, notified) VALUES ($1, $2, $3, 0)
					ON CONFLICT (account_id, month) DO UPDATE SET used = account_usage.used + $3`,
					accountID, monthOf(a, now), released); err != nil {
					return fmt.Errorf("message: queue usage: %w", err)
				}
			}
			return logChanges(ctx, s.db, tx, changes)
		})
		if err != nil {
			return res, err
		}
		for _, m := range msgs {
			switch m.Status {
			case Queued:
				res.Released++
				if m.NumberID != nil {
					woken[*m.NumberID] = true
				}
			case Scheduled:
				res.Released++
				if m.NumberID == nil {
					break
				}
				if t, ok := due[*m.NumberID]; !ok || m.NextAttempt.Before(t) {
					due[*m.NumberID] = m.NextAttempt
				}
			case Cancelled:
				res.Cancelled++
			case Skipped:
				res.Skipped++
			}
		}
		if !all {
			break
		}
	}
	s.wake(woken, due)
	return res, nil
}
