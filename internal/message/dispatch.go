package message

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
)

const claimQuery = `
UPDATE messages SET status = 'sending', claimed_until = $3, attempts = attempts + 1, updated_at = $2
WHERE id IN (
	SELECT id FROM messages
	WHERE number_id = $1 AND status IN ('queued', 'rate_limited') AND next_attempt_at <= $2
	ORDER BY priority, next_attempt_at, id
	LIMIT $4%s)
RETURNING ` + messageColumns

// Claim takes up to n messages waiting for a sender number, transactional
// first and oldest first, and marks them sending until lease runs out. A
// claim whose holder dies is put back by RequeueExpired.
func (s *Service) Claim(ctx context.Context, numberID string, n int, lease time.Duration) ([]*Message, error) {
	now := s.clock.Now()
	var out []*Message
	err := s.write(ctx, s.groups.Dispatch, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(claimQuery, s.db.SkipLocked()), numberID, now, now.Add(lease), n)
		if err != nil {
			return fmt.Errorf("message: claim: %w", err)
		}
		if out, err = scanMessages(rows); err != nil {
			return err
		}
		// RETURNING keeps no order on PostgreSQL; the batch is sent in
		// the claim's.
		slices.SortFunc(out, func(a, b *Message) int {
			return cmp.Or(cmp.Compare(a.Kind.priority(), b.Kind.priority()),
				a.NextAttempt.Compare(b.NextAttempt), strings.Compare(a.ID, b.ID))
		})
		changes := make([]change, len(out))
		for i, m := range out {
			m.ClaimedUntil = now.Add(lease)
			changes[i] = change{m.AccountID, m.ID, Sending, "", "", now}
		}
		return logChanges(ctx, s.db, tx, changes)
	})
	return out, err
}

// Recheck applies the audience rules again to claimed messages right
// before they are sent, and for marketing the sending window and the
// frequency cap, and returns a Hold for each message that may not go now
// (by id): skipped with its reason, or held until its window opens. A STOP
// recorded while a message waited stops it.
func (s *Service) Recheck(ctx context.Context, a account.Account, msgs []*Message) (map[string]Hold, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if m.ContactID != nil {
			ids = append(ids, *m.ContactID)
		}
	}
	contacts, err := s.contacts.GetMany(ctx, a.ID, ids)
	if err != nil {
		return nil, err
	}
	holds := map[string]Hold{}
	for _, m := range msgs {
		reason := ""
		if m.ContactID != nil {
			c, ok := contacts[*m.ContactID]
			if ok {
				reason = Skip(a, m.Kind, &c, true, "")
			} else {
				reason = Skip(a, m.Kind, nil, true, "")
			}
		} else {
			reason = Skip(a, m.Kind, nil, false, phoneCountry(m.To))
		}
		if reason != "" {
			holds[m.ID] = Hold{Reason: reason}
		}
	}
	if err := s.recheckGuards(ctx, a, msgs, contacts, holds); err != nil {
		return nil, err
	}
	return holds, nil
}

// Outcome is what became of one claimed message.
type Outcome struct {
	Message   *Message
	Status    Status // Sent, Queued (retry later), RateLimited, Scheduled (until RetryAt), Failed or Skipped
	Reason    string
	ErrorCode string
	CarrierID string
	Carrier   string
	RetryAt   time.Time
	// Refund gives the attempt back (a rate limit is not a failed attempt).
	Refund bool
}

// recordOutcomes writes a batch's outcomes: v is the batch's new values,
// bound as db.BindRows binds them, and the last parameter is the time
// (numbered last because it comes last, so that SQLite can take the
// parameters as anonymous ones).
const recordOutcomes = `
WITH v (account_id, id, status, reason, error_code, carrier, carrier_id, next_attempt_at, refund, reserved, from_phone) AS (%s)
UPDATE messages SET status = v.status, reason = v.reason, error_code = v.error_code, carrier = v.carrier,
	carrier_id = v.carrier_id, next_attempt_at = v.next_attempt_at, attempts = attempts - v.refund, from_phone = v.from_phone,
	claimed_until = NULL, reserved = v.reserved, updated_at = $%d
FROM v
WHERE messages.account_id = v.account_id AND messages.id = v.id AND messages.status = 'sending'`

var outcomeColumns = db.Cols("account_id text", "id text", "status text", "reason text", "error_code text",
	"carrier text", "carrier_id text", "next_attempt_at timestamptz", "refund integer", "reserved boolean", "from_phone text")

// Record writes the outcomes of a batch of sends in one transaction, with
// their log entries and any carrier reports that came before them, and
// gives back the monthly allowance of messages that were skipped at the
// last moment.
func (s *Service) Record(ctx context.Context, a account.Account, outcomes []Outcome) error {
	now := s.clock.Now()
	var taken []takenReport
	var sent []*Message
	write := func(tx *sql.Tx) error {
		changes := make([]change, 0, len(outcomes))
		released := 0
		sent = sent[:0]
		values := make([][]any, len(outcomes))
		for i, o := range outcomes {
			m := o.Message
			reserved := m.Reserved
			if o.Status == Skipped && reserved {
				reserved = false
				released++
			}
			var carrierID any
			if o.CarrierID != "" {
				carrierID = o.CarrierID
			}
			refund := 0
			if o.Refund {
				refund = 1
			}
			next := o.RetryAt
			if next.IsZero() {
				next = now
			}
			values[i] = []any{m.AccountID, m.ID, string(o.Status), o.Reason, o.ErrorCode, o.Carrier, carrierID,
				next, refund, reserved, m.From}
			changes = append(changes, change{m.AccountID, m.ID, o.Status, o.Reason, o.ErrorCode, now})
			m.Status, m.ErrorCode, m.Reason = o.Status, o.ErrorCode, o.Reason
			if o.CarrierID != "" {
				m.CarrierID = &o.CarrierID
			}
			if o.Status == Sent && m.CarrierID != nil {
				sent = append(sent, m)
			}
		}
		err := s.db.BindRows(outcomeColumns, values, func(table string, args []any) error {
			args = append(args, now)
			_, err := tx.ExecContext(ctx, fmt.Sprintf(recordOutcomes, table, len(args)), args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("message: record outcomes: %w", err)
		}
		if err := release(ctx, tx, a, now, released); err != nil {
			return err
		}
		if err := logChanges(ctx, s.db, tx, changes); err != nil {
			return err
		}
		taken, err = s.takePending(ctx, tx, sent, now)
		return err
	}
	err := s.write(ctx, s.groups.Dispatch, write)
	if db.IsUniqueViolation(err) {
		// A carrier id another message holds (a faulty carrier or proxy
		// answering one twice) fails the whole batch's write, every time:
		// its messages would stay claimed and go again. The id stays with
		// the message that had it first; the others are sent without one.
		dropped, derr := s.dropHeldCarrierIDs(ctx, outcomes)
		switch {
		case derr != nil:
			err = errors.Join(err, derr)
		case dropped > 0:
			err = s.write(ctx, s.groups.Dispatch, write)
		}
	}
	if err == nil {
		s.sent.add(a.ID, sent) // before settle, so the reports it releases find them
	}
	s.settle(outcomes)
	if err != nil {
		return err
	}
	reported := map[*Message]bool{} // announced by afterPending, with the reports' status
	for _, t := range taken {
		reported[t.msg] = true
	}
	for _, o := range outcomes {
		if !reported[o.Message] {
			s.notify(ctx, o.Message)
		}
		if o.ErrorCode != "" && o.Status != Sent {
			if err := s.actOnCarrierCode(ctx, o.Message, o.ErrorCode); err != nil {
				s.log.Error("carrier error action failed", "err", err, "message_id", o.Message.ID)
			}
		}
	}
	if err := s.afterPending(ctx, taken); err != nil {
		return err
	}
	return s.sweepPending(ctx, sent)
}

// dropHeldCarrierIDs takes out of the outcomes each carrier id that another
// message holds, or that an earlier outcome of the batch has, and returns
// how many it took out.
func (s *Service) dropHeldCarrierIDs(ctx context.Context, outcomes []Outcome) (int, error) {
	var ids []string
	for _, o := range outcomes {
		if o.CarrierID != "" {
			ids = append(ids, o.CarrierID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	holder := map[string]string{} // carrier id → the message that has it
	for chunk := range slices.Chunk(ids, 250) {
		if err := readCarrierIDHolders(ctx, s.db, chunk, holder); err != nil {
			return 0, fmt.Errorf("message: carrier ids held: %w", err)
		}
	}
	dropped := 0
	for i := range outcomes {
		o := &outcomes[i]
		if o.CarrierID == "" {
			continue
		}
		if h, held := holder[o.CarrierID]; !held || h == o.Message.ID {
			holder[o.CarrierID] = o.Message.ID
			continue
		}
		s.log.Warn("the carrier answered a message id another message has; the message is sent without it",
			"message_id", o.Message.ID, "carrier_id", o.CarrierID, "held_by", holder[o.CarrierID])
		o.CarrierID = ""
		o.Message.CarrierID = nil
		dropped++
	}
	return dropped, nil
}

func readCarrierIDHolders(ctx context.Context, d *db.DB, ids []string, holder map[string]string) error {
	rows, err := d.Read().QueryContext(ctx,
		`SELECT carrier_id, id FROM messages WHERE carrier_id IN (`+db.Placeholders(1, len(ids))+`)`, anySlice(ids)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, id string
		if err := rows.Scan(&cid, &id); err != nil {
			return err
		}
		holder[cid] = id
	}
	return rows.Err()
}

// Expect tells the service that a claimed message is about to be sent: a
// carrier report that names it (CarrierStatus.MessageID) and arrives
// before Record has written its result waits for that write instead of
// being parked. Record releases it.
func (s *Service) Expect(messageID string) { s.awaited.expect(messageID) }

// settle releases the reports waiting for these outcomes' writes.
func (s *Service) settle(outcomes []Outcome) {
	ids := make([]string, len(outcomes))
	for i, o := range outcomes {
		ids[i] = o.Message.ID
	}
	s.awaited.settle(ids)
}

// ReleaseHeld makes the messages a number held for refused credentials
// (ReasonCarrierAuthFailed) due at once: the refusal has been cleared.
func (s *Service) ReleaseHeld(ctx context.Context, numberID string) (int64, error) {
	now := s.clock.Now()
	res, err := s.db.Write().ExecContext(ctx, `UPDATE messages SET next_attempt_at = $2
		WHERE number_id = $1 AND status = 'queued' AND reason = $3 AND next_attempt_at > $2`,
		numberID, now, ReasonCarrierAuthFailed)
	if err != nil {
		return 0, fmt.Errorf("message: release held: %w", err)
	}
	return res.RowsAffected()
}

// RequeueExpired puts back messages whose claim ran out (their process
// died, or their result could not be written), to be sent again. A message
// claimed maxAttempts times is not: it fails with ReasonClaimsExpired. It
// may have reached the carrier each time, and sending it on would text its
// contact again every time a claim ran out, for as long as whatever stops
// its result lasts.
func (s *Service) RequeueExpired(ctx context.Context, maxAttempts int) (int, error) {
	now := s.clock.Now()
	var n int
	var failed []string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE messages
			SET status = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'queued' END,
				reason = CASE WHEN attempts >= $2 THEN '`+ReasonClaimsExpired+`' ELSE reason END,
				claimed_until = NULL, updated_at = $1
			WHERE status = 'sending' AND claimed_until < $1 RETURNING account_id, id, status`, now, maxAttempts)
		if err != nil {
			return fmt.Errorf("message: requeue: %w", err)
		}
		var changes []change
		failed = failed[:0]
		for rows.Next() {
			var c change
			if err := rows.Scan(&c.accountID, &c.messageID, &c.status); err != nil {
				rows.Close()
				return fmt.Errorf("message: requeue: %w", err)
			}
			c.reason, c.at = "claim_expired", now
			if c.status == Failed {
				c.reason = ReasonClaimsExpired
				failed = append(failed, c.accountID, c.messageID)
			}
			changes = append(changes, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("message: requeue: %w", err)
		}
		n = len(changes)
		return logChanges(ctx, s.db, tx, changes)
	})
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(failed); i += 2 {
		m, err := s.Get(ctx, failed[i], failed[i+1])
		if err != nil {
			s.log.Error("announcing a message whose claims expired", "err", err, "message_id", failed[i+1])
			continue
		}
		s.notify(ctx, m)
	}
	return n, nil
}

// promoteBatch bounds the messages one PromoteDue moves; a worker calls it
// again while more are due.
const promoteBatch = 1000

const promoteDue = `
UPDATE messages SET status = 'queued', updated_at = $2
WHERE id IN (
	SELECT id FROM messages
	WHERE number_id = $1 AND status = 'scheduled' AND next_attempt_at <= $2
	ORDER BY next_attempt_at
	LIMIT $3%s)
RETURNING account_id, id`

// nextDue reads the messages_scheduled index: one seek, however many wait.
const nextDue = `
SELECT next_attempt_at FROM messages WHERE number_id = $1 AND status = 'scheduled'
ORDER BY next_attempt_at LIMIT 1`

// PromoteDue moves a number's scheduled messages whose window has opened
// to the queue, where Claim finds them, and says when the next scheduled
// message falls due (zero when none waits). Scheduled messages stay out of
// the claim's index range, so those not due cost a dispatcher nothing.
func (s *Service) PromoteDue(ctx context.Context, numberID string) (int, time.Time, error) {
	now := s.clock.Now()
	var n int
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(promoteDue, s.db.SkipLocked()), numberID, now, promoteBatch)
		if err != nil {
			return fmt.Errorf("message: promote due: %w", err)
		}
		var changes []change
		for rows.Next() {
			c := change{status: Queued, reason: ReasonWindowOpen, at: now}
			if err := rows.Scan(&c.accountID, &c.messageID); err != nil {
				rows.Close()
				return fmt.Errorf("message: promote due: %w", err)
			}
			changes = append(changes, c)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("message: promote due: %w", err)
		}
		rows.Close()
		n = len(changes)
		return logChanges(ctx, s.db, tx, changes)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	var next time.Time
	err = s.db.Read().QueryRowContext(ctx, nextDue, numberID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return n, time.Time{}, nil
	}
	if err != nil {
		return n, time.Time{}, fmt.Errorf("message: next due: %w", err)
	}
	return n, next.UTC(), nil
}
