package account

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"unicode"

	"github.com/heraldsms/herald/internal/problem"
)

// DefaultFrequency is the message frequency an enrollment disclosure states
// until the account writes its own.
const DefaultFrequency = "Msg frequency varies."

// EnrollSettings are what an account's enrollment form says and does: the
// message frequency and terms link of its disclosure, and whether a ticked
// box must be confirmed by a "Y" reply before it counts (double opt-in).
type EnrollSettings struct {
	MessageFrequency string `json:"message_frequency"`
	TermsURL         string `json:"terms_url"`
	DoubleOptIn      bool   `json:"double_opt_in"`
}

// Effective fills an empty frequency with the default.
func (e EnrollSettings) Effective() EnrollSettings {
	if e.MessageFrequency == "" {
		e.MessageFrequency = DefaultFrequency
	}
	return e
}

// EnrollSettings returns an account's enrollment settings as stored.
func (s *Store) EnrollSettings(ctx context.Context, accountID string) (EnrollSettings, error) {
	var e EnrollSettings
	err := s.db.Read().QueryRowContext(ctx, `SELECT enroll_frequency, enroll_terms_url, enroll_double_opt_in
		FROM accounts WHERE id = $1`, accountID).Scan(&e.MessageFrequency, &e.TermsURL, &e.DoubleOptIn)
	if errors.Is(err, sql.ErrNoRows) {
		return e, problem.NotFoundf("no account %q", accountID)
	}
	if err != nil {
		return e, wrap("enroll settings", err)
	}
	return e, nil
}

// SetEnrollSettings changes an account's enrollment settings.
func (s *Store) SetEnrollSettings(ctx context.Context, accountID string, e EnrollSettings) (EnrollSettings, error) {
	if err := checkEnroll(&e); err != nil {
		return e, err
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE accounts SET enroll_frequency = $2, enroll_terms_url = $3,
		enroll_double_opt_in = $4, updated_at = $5 WHERE id = $1`,
		accountID, e.MessageFrequency, e.TermsURL, e.DoubleOptIn, s.clock.Now())
	s.changed(accountID)
	if err != nil {
		return e, wrap("set enroll settings", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return e, problem.NotFoundf("no account %q", accountID)
	}
	return e, nil
}

// checkEnroll keeps the disclosure printable on a phone: a short frequency
// on one line, and a terms link a browser will open.
func checkEnroll(e *EnrollSettings) error {
	e.MessageFrequency = strings.TrimSpace(e.MessageFrequency)
	e.TermsURL = strings.TrimSpace(e.TermsURL)
	if len(e.MessageFrequency) > 100 {
		return problem.Invalidf("too_long", "message_frequency", "message_frequency is at most 100 characters, such as \"Up to 4 msgs/month.\"")
	}
	if strings.IndexFunc(e.MessageFrequency, unicode.IsControl) >= 0 {
		return problem.Invalidf("invalid_text", "message_frequency", "message_frequency must be one line of text")
	}
	if e.TermsURL == "" {
		return nil
	}
	u, err := url.Parse(e.TermsURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(e.TermsURL) > 2000 {
		return problem.Invalidf("invalid_url", "terms_url", "terms_url must be an http(s) link to your SMS terms, such as https://example.com/sms-terms")
	}
	return nil
}

// PublicProgram returns a program named by its id alone. It serves the
// public enrollment page, whose address is all a visitor brings; the
// program's account_id then scopes everything that follows.
func (s *Store) PublicProgram(ctx context.Context, programID string) (Program, error) {
	var p Program
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, account_id, name, description, created_at, updated_at
		FROM programs WHERE id = $1`, programID).
		Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Program{}, problem.NotFoundf("no program %q", programID)
	}
	if err != nil {
		return Program{}, wrap("public program", err)
	}
	return p, nil
}
