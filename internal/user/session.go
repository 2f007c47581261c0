package user

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
)

// Session lengths: a session ends after IdleTimeout without a request, and
// at the latest MaxAge after sign-in.
const (
	IdleTimeout = 12 * time.Hour
	MaxAge      = 7 * 24 * time.Hour
	// touchEvery bounds how often a session's last-seen time is written,
	// so reading pages does not mean a write per request.
	touchEvery = time.Minute
)

// Session is a signed-in user's session.
type Session struct {
	User User
	// CSRF is the token every form and htmx request of the session carries.
	CSRF      string
	ExpiresAt time.Time
}

// ErrNoSession is returned for a missing, unknown or expired token.
var ErrNoSession = problem.New(problem.Unauthorized, "no_session", "", "sign in to continue")

// StartSession signs a user in: it returns the cookie's token, which is
// kept only as a hash.
func (s *Store) StartSession(ctx context.Context, u User) (token string, sess Session, err error) {
	token, csrf := randomToken(), randomToken()
	now := s.clock.Now()
	exp := now.Add(IdleTimeout)
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, hashToken(token), u.ID, csrf, now, exp)
	if err != nil {
		return "", Session{}, fmt.Errorf("user: start session: %w", err)
	}
	return token, Session{User: u, CSRF: csrf, ExpiresAt: exp}, nil
}

// Session finds the live session a token opens, and keeps it alive.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 100 {
		return Session{}, ErrNoSession
	}
	h := hashToken(token)
	var sess Session
	var created, seen time.Time
	var hash string
	row := s.db.Read().QueryRowContext(ctx, `SELECT s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
		u.id, u.account_id, u.email, u.name, u.role, u.password_hash, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, h)
	var accountID sql.NullString
	var role string
	err := row.Scan(&sess.CSRF, &created, &seen, &sess.ExpiresAt,
		&sess.User.ID, &accountID, &sess.User.Email, &sess.User.Name, &role, &hash, &sess.User.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("user: session: %w", err)
	}
	sess.User.AccountID, sess.User.Role = accountID.String, account.Role(role)
	now := s.clock.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(created) >= MaxAge {
		_ = s.EndSession(ctx, token)
		return Session{}, ErrNoSession
	}
	if now.Sub(seen) >= touchEvery {
		exp := now.Add(IdleTimeout)
		if hard := created.Add(MaxAge); exp.After(hard) {
			exp = hard
		}
		if _, err := s.db.Write().ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3`,
			now, exp, h); err != nil {
			return Session{}, fmt.Errorf("user: touch session: %w", err)
		}
		sess.ExpiresAt = exp
	}
	return sess, nil
}

// EndSession signs out: the token opens nothing from now on.
func (s *Store) EndSession(ctx context.Context, token string) error {
	if _, err := s.db.Write().ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("user: end session: %w", err)
	}
	return nil
}

// PruneSessions deletes expired sessions.
func (s *Store) PruneSessions(ctx context.Context) (int64, error) {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR created_at <= $2`,
		s.clock.Now(), s.clock.Now().Add(-MaxAge))
	if err != nil {
		return 0, fmt.Errorf("user: prune sessions: %w", err)
	}
	return res.RowsAffected()
}

// randomToken is 256 bits from the system's random source, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on Linux; crypto/rand panics if it would
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}
