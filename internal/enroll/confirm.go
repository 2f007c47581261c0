package enroll

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

// idPrefix names a waiting double opt-in ("eoc_…").
const idPrefix = "eoc"

// ConfirmText is the double opt-in's text: who sends, what for, how often,
// and how to confirm, stop or get help.
func ConfirmText(a account.Account, p account.Program, e account.EnrollSettings) string {
	e = e.Effective()
	return a.Brand() + ": Reply Y to confirm you want texts about " + p.Name + ". " + sentence(e.MessageFrequency) +
		" Msg & data rates may apply. Reply HELP for help, STOP to opt out."
}

// A newer enrollment of the same contact closes the ones still open, so a
// Y confirms what the person last agreed to, once.
const (
	closeOpen = `UPDATE enroll_confirmations SET expires_at = $3
		WHERE account_id = $1 AND contact_id = $2 AND confirmed_at IS NULL AND expires_at > $3`
	insertConfirmation = `INSERT INTO enroll_confirmations (id, account_id, contact_id, program_id, evidence, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
)

// askToConfirm keeps the enrollment's evidence until the Y and sends the
// text that asks for it. If the text cannot be sent, the waiting row goes
// too: nothing would ever confirm it.
func (s *Service) askToConfirm(ctx context.Context, pg Page, c contact.Contact, evidence []byte) (Result, error) {
	now := s.clock.Now()
	rowID := id.New(idPrefix)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, closeOpen, pg.Account.ID, c.ID, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, insertConfirmation, rowID, pg.Account.ID, c.ID, pg.Program.ID, string(evidence),
			now, now.Add(s.ConfirmWithin))
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("enroll: keep confirmation: %w", err)
	}
	m, err := s.notices.SendNotice(ctx, message.Notice{AccountID: pg.Account.ID, ProgramID: pg.Program.ID,
		To: c.E164(), Body: ConfirmText(pg.Account, pg.Program, pg.Settings)})
	if err != nil {
		if _, derr := s.db.Write().ExecContext(ctx, `DELETE FROM enroll_confirmations WHERE account_id = $1 AND id = $2`,
			pg.Account.ID, rowID); derr != nil {
			s.log.ErrorContext(ctx, "enroll: drop unsent confirmation", "err", derr, "account_id", pg.Account.ID)
		}
		if _, ok := problem.As(err); ok {
			s.log.WarnContext(ctx, "enroll: confirmation text not sent", "err", err, "account_id", pg.Account.ID)
			return Result{}, unavailable()
		}
		return Result{}, err
	}
	_, err = s.db.Write().ExecContext(ctx, `UPDATE enroll_confirmations SET message_id = $3 WHERE account_id = $1 AND id = $2`,
		pg.Account.ID, rowID, m.ID)
	if err != nil {
		return Result{}, fmt.Errorf("enroll: note confirmation message: %w", err)
	}
	return Result{ConfirmationSent, "Almost done: we've texted " + c.E164() + ". Reply Y to that text to confirm your subscription."}, nil
}

// IsConfirmation reports whether a reply says yes to a double opt-in.
func IsConfirmation(body string) bool {
	switch strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!")) {
	case "Y", "YES":
		return true
	}
	return false
}

// claimOpen settles the contact's newest open enrollment, once: of two Ys
// racing, only one finds it still open.
const claimOpen = `
UPDATE enroll_confirmations SET confirmed_at = $3, inbound_id = $4
WHERE account_id = $1 AND confirmed_at IS NULL AND id = (
	SELECT id FROM enroll_confirmations
	WHERE account_id = $1 AND contact_id = $2 AND confirmed_at IS NULL AND expires_at > $3
	ORDER BY created_at DESC, id DESC LIMIT 1)
RETURNING id, message_id, evidence`

// Confirm settles a double opt-in: when a contact's reply is Y (or YES) and
// an enrollment of theirs waits for it, the marketing opt-in is recorded
// with the form's evidence and the reply that confirmed it, and ok is true.
// Otherwise nothing happens and the reply is an ordinary one.
func (s *Service) Confirm(ctx context.Context, accountID string, c contact.Contact, body, inboundID string) (contact.Contact, bool, error) {
	if !IsConfirmation(body) {
		return c, false, nil
	}
	now := s.clock.Now()
	var (
		rowID, messageID, raw string
	)
	err := s.db.Write().QueryRowContext(ctx, claimOpen, accountID, c.ID, now, inboundID).Scan(&rowID, &messageID, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("enroll: claim confirmation: %w", err)
	}
	evidence, err := confirmedEvidence(raw, messageID, inboundID, body, now)
	if err != nil {
		return c, false, err
	}
	updated, err := s.contacts.SetPreference(ctx, accountID, c.ID, contact.PreferenceChange{Preference: consent.OptedIn,
		Kind: consent.Marketing, Change: contact.Change{Source: consent.SourceWidget, Actor: "handset", Evidence: evidence}})
	if err != nil {
		// Reopen it, so the next Y can still confirm.
		if _, rerr := s.db.Write().ExecContext(ctx, `UPDATE enroll_confirmations SET confirmed_at = NULL, inbound_id = ''
			WHERE account_id = $1 AND id = $2`, accountID, rowID); rerr != nil {
			s.log.ErrorContext(ctx, "enroll: reopen confirmation", "err", rerr, "account_id", accountID)
		}
		return c, false, err
	}
	return updated, true, nil
}

// confirmedEvidence is the form's evidence as it was kept, with the text
// that asked and the reply that answered.
func confirmedEvidence(raw, messageID, inboundID, body string, at time.Time) (json.RawMessage, error) {
	var ev map[string]any
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		return nil, fmt.Errorf("enroll: read kept evidence: %w", err)
	}
	ev["confirmation"] = map[string]any{"message_id": messageID, "inbound_id": inboundID, "reply": body, "confirmed_at": at}
	return json.Marshal(ev)
}
