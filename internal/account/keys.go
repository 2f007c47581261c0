package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// keyPrefix starts every API key, so a leaked key is easy to recognise in
// a scanner or a log.
const keyPrefix = "hrld_"

// APIKey is a stored key without its secret.
type APIKey struct {
	ID         string     `json:"id"`
	AccountID  string     `json:"account_id,omitempty"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// ErrBadKey is returned for a key that is unknown, malformed or revoked.
var ErrBadKey = problem.New(problem.Unauthorized, "invalid_api_key", "", "the API key is unknown or revoked")

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const insertKey = `
INSERT INTO api_keys (id, account_id, name, role, prefix, secret_hash, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

func (s *Store) insertKey(ctx context.Context, q db.Querier, accountID string, role Role, name string) (APIKey, string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return APIKey{}, "", wrap("key entropy", err)
	}
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	k := APIKey{
		ID: id.New(id.APIKey), AccountID: accountID, Name: name, Role: role,
		Prefix: secret[:len(keyPrefix)+6], CreatedAt: s.clock.Now(),
	}
	var acct any
	if accountID != "" {
		acct = accountID
	}
	_, err := q.ExecContext(ctx, insertKey, k.ID, acct, k.Name, string(k.Role), k.Prefix, hashSecret(secret), k.CreatedAt)
	if err != nil {
		return APIKey{}, "", wrap("insert key", err)
	}
	return k, secret, nil
}

// CreateKey makes a new API key for an account and returns its secret,
// which is not stored and cannot be shown again.
func (s *Store) CreateKey(ctx context.Context, accountID string, role Role, name string) (APIKey, string, error) {
	if role == RoleOperator {
		return APIKey{}, "", problem.Invalidf("invalid_role", "role", "an account key cannot be an operator key")
	}
	if _, err := ParseRole(string(role)); err != nil {
		return APIKey{}, "", err
	}
	if _, err := s.Get(ctx, accountID); err != nil {
		return APIKey{}, "", err
	}
	return s.insertKey(ctx, s.db.Write(), accountID, role, name)
}

// CreateOperatorKey makes a key for the platform operator.
func (s *Store) CreateOperatorKey(ctx context.Context, name string) (APIKey, string, error) {
	return s.insertKey(ctx, s.db.Write(), "", RoleOperator, name)
}

const selectKeyByHash = `
SELECT id, COALESCE(account_id, ''), role, last_used_at, revoked_at
FROM api_keys WHERE secret_hash = $1`

// keyRecord is what Authenticate keeps of a key.
type keyRecord struct {
	principal Principal
	lastUsed  time.Time
	revoked   bool
}

// Authenticate returns the principal a key secret stands for.
func (s *Store) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, keyPrefix) || len(secret) > 100 {
		return Principal{}, ErrBadKey
	}
	hash := hashSecret(secret)
	rec, ok := s.keys.Get(hash)
	began := s.keys.Now()
	if !ok {
		var lastUsed, revoked sql.NullTime
		err := s.db.Read().QueryRowContext(ctx, selectKeyByHash, hash).
			Scan(&rec.principal.KeyID, &rec.principal.AccountID, &rec.principal.Role, &lastUsed, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return Principal{}, ErrBadKey
		}
		if err != nil {
			return Principal{}, wrap("authenticate", err)
		}
		rec.lastUsed, rec.revoked = lastUsed.Time, revoked.Valid
		s.keys.Put(hash, rec, began)
	}
	if rec.revoked {
		return Principal{}, ErrBadKey
	}
	// Record use at most once a minute: a write per request would make every
	// read contend for SQLite's single writer.
	now := s.clock.Now()
	if now.Sub(rec.lastUsed) > time.Minute {
		_, _ = s.db.Write().ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, now, rec.principal.KeyID)
		rec.lastUsed = now
		s.keys.Put(hash, rec, began)
	}
	return rec.principal, nil
}

const selectKeys = `
SELECT id, COALESCE(account_id, ''), name, role, prefix, created_at, last_used_at, revoked_at
FROM api_keys WHERE account_id = $1 ORDER BY id`

// ListKeys returns an account's keys, revoked ones included.
func (s *Store) ListKeys(ctx context.Context, accountID string) ([]APIKey, error) {
	rows, err := s.db.Read().QueryContext(ctx, selectKeys, accountID)
	if err != nil {
		return nil, wrap("list keys", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var (
			k             APIKey
			used, revoked sql.NullTime
		)
		if err := rows.Scan(&k.ID, &k.AccountID, &k.Name, &k.Role, &k.Prefix, &k.CreatedAt, &used, &revoked); err != nil {
			return nil, wrap("list keys", err)
		}
		k.LastUsedAt, k.RevokedAt = nullTime(used), nullTime(revoked)
		out = append(out, k)
	}
	return out, wrap0("list keys", rows.Err())
}

// RevokeKey stops a key from working. Revoking twice is not an error.
func (s *Store) RevokeKey(ctx context.Context, accountID, keyID string) error {
	var hash string
	err := s.db.Write().QueryRowContext(ctx,
		`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id = $3 RETURNING secret_hash`,
		s.clock.Now(), keyID, accountID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return problem.NotFoundf("no API key %q", keyID)
	}
	if err != nil {
		return wrap("revoke key", err)
	}
	s.keys.Forget(hash)
	return nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}
