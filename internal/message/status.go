package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/db"
)

// CarrierStatus is a status report from the carrier about one message.
type CarrierStatus struct {
	CarrierID string
	Status    string // the carrier's word: sent, delivered, undelivered, failed…
	ErrorCode string
	// Token identifies the report; a repeat of a token is applied once.
	Token string
}

// carrierStatus maps the carrier's words to Herald's statuses; the others
// (queued, sending, accepted…) say nothing Herald does not know.
var carrierStatus = map[string]Status{
	"sent": Sent, "delivered": Delivered, "undelivered": Undelivered, "failed": Failed,
}

// Unreachable carrier codes say the number may not take texts: 30003
// unreachable, 30005 unknown or inactive, 30006 landline. 30007 (carrier
// filtering) says nothing about the number and is only counted.
var unreachableCodes = map[string]bool{"30003": true, "30005": true, "30006": true}

// unreachableThreshold is how many such failures mark a number unusable.
const unreachableThreshold = 3

// ApplyCarrierStatus moves a message forward on the carrier's report. A
// repeated report, or one that would move the message backwards (a late
// "sent" after "delivered"), changes nothing. A report for a message whose
// send result is not written yet is kept and applied when it is.
func (s *Service) ApplyCarrierStatus(ctx context.Context, accountID string, cs CarrierStatus) error {
	to, known := carrierStatus[cs.Status]
	now := s.clock.Now()
	var applied *Message
	parked := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		if cs.Token != "" {
			res, err := tx.ExecContext(ctx, `INSERT INTO carrier_callbacks (token, received_at) VALUES ($1, $2)
				ON CONFLICT (token) DO NOTHING`, cs.Token, now)
			if err != nil {
				return fmt.Errorf("message: callback token: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // seen before
			}
		}
		if !known {
			return nil
		}
		m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages
			WHERE account_id = $1 AND carrier_id = $2`, accountID, cs.CarrierID))
		if errors.Is(err, sql.ErrNoRows) {
			parked = true
			_, err = tx.ExecContext(ctx, `INSERT INTO pending_statuses (carrier_id, account_id, status, error_code, received_at)
				VALUES ($1, $2, $3, $4, $5)`, cs.CarrierID, accountID, string(to), cs.ErrorCode, now)
			return err
		}
		if err != nil {
			return fmt.Errorf("message: find by carrier id: %w", err)
		}
		if moved, err := moveTo(ctx, tx, m, to, cs.ErrorCode, now); err != nil || !moved {
			return err
		}
		applied = m
		return nil
	})
	if err != nil {
		return err
	}
	if parked {
		return s.unpark(ctx, accountID, cs.CarrierID)
	}
	if applied == nil {
		return nil
	}
	s.notify(ctx, applied)
	return s.actOnCarrierCode(ctx, applied, cs.ErrorCode)
}

// unpark applies a parked status if the send's result was written in the
// meantime. The send's writer also applies parked statuses after its own
// commit; whichever of the two commits second sees the other's row, so a
// status is never left parked (on PostgreSQL the two run concurrently).
func (s *Service) unpark(ctx context.Context, accountID, carrierID string) error {
	m, err := scanMessage(s.db.Write().QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE account_id = $1 AND carrier_id = $2`, accountID, carrierID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not written yet: its writer will apply the status
	}
	if err != nil {
		return fmt.Errorf("message: unpark: %w", err)
	}
	return s.applyPending(ctx, []*Message{m})
}

// moveTo changes a message's status if its life allows the move.
func moveTo(ctx context.Context, q db.Querier, m *Message, to Status, code string, now time.Time) (bool, error) {
	if !CanMove(m.Status, to) {
		return false, nil
	}
	res, err := q.ExecContext(ctx, `UPDATE messages SET status = $3, error_code = CASE WHEN $4 = '' THEN error_code ELSE $4 END,
		updated_at = $5 WHERE account_id = $1 AND id = $2 AND status = $6`, m.AccountID, m.ID, string(to), code, now, string(m.Status))
	if err != nil {
		return false, fmt.Errorf("message: move: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	m.Status = to
	if code != "" {
		m.ErrorCode = code
	}
	return true, logChanges(ctx, q, []change{{m.AccountID, m.ID, to, "", code, now}})
}

// applyPending applies reports that arrived before these messages' send
// results were written.
func (s *Service) applyPending(ctx context.Context, sent []*Message) error {
	for _, m := range sent {
		var pending []CarrierStatus
		changed := false
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `DELETE FROM pending_statuses WHERE account_id = $1 AND carrier_id = $2
				RETURNING status, error_code`, m.AccountID, *m.CarrierID)
			if err != nil {
				return fmt.Errorf("message: pending statuses: %w", err)
			}
			for rows.Next() {
				var p CarrierStatus
				if err := rows.Scan(&p.Status, &p.ErrorCode); err != nil {
					rows.Close()
					return err
				}
				pending = append(pending, p)
			}
			rows.Close()
			now := s.clock.Now()
			// Apply in the order of the life, whatever order they came in.
			for _, st := range []Status{Sent, Delivered, Undelivered, Failed} {
				for _, p := range pending {
					if Status(p.Status) == st {
						moved, err := moveTo(ctx, tx, m, st, p.ErrorCode, now)
						if err != nil {
							return err
						}
						changed = changed || moved
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if changed {
			s.notify(ctx, m) // after the commit, with the final status
		}
		for _, p := range pending {
			if err := s.actOnCarrierCode(ctx, m, p.ErrorCode); err != nil {
				return err
			}
		}
	}
	return nil
}

// CarrierActions is how a carrier's error changes a contact.
type CarrierActions interface {
	OptOutByCarrier(ctx context.Context, accountID, contactID, messageID, code string) error
	MarkNotSMSCapable(ctx context.Context, accountID, contactID string) error
	NoteUnreachable(ctx context.Context, accountID, contactID string, threshold int) (bool, error)
}

// SetCarrierActions connects the contact side of carrier errors.
func (s *Service) SetCarrierActions(a CarrierActions) { s.actions = a }

// actOnCarrierCode turns a carrier error code into what it means for the
// contact: 21610 opts them out; 21211 and 21614 mark the number unusable;
// repeated unreachable failures do too.
func (s *Service) actOnCarrierCode(ctx context.Context, m *Message, code string) error {
	if code == "" || m.ContactID == nil || s.actions == nil {
		return nil
	}
	switch {
	case code == "21610":
		return s.actions.OptOutByCarrier(ctx, m.AccountID, *m.ContactID, m.ID, code)
	case code == "21211" || code == "21614":
		return s.actions.MarkNotSMSCapable(ctx, m.AccountID, *m.ContactID)
	case unreachableCodes[code]:
		_, err := s.actions.NoteUnreachable(ctx, m.AccountID, *m.ContactID, unreachableThreshold)
		return err
	}
	return nil
}
