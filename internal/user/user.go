// Package user keeps the people who sign in to the admin web: their
// accounts and roles, their passwords (argon2id, memory-hard) and their
// sessions. API keys, the other way in, live in package account.
package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// User is a person who signs in. The operator has no account.
type User struct {
	ID        string       `json:"id"`
	AccountID string       `json:"account_id,omitempty"`
	Email     string       `json:"email"`
	Name      string       `json:"name"`
	Role      account.Role `json:"role"`
	CreatedAt time.Time    `json:"created_at"`
}

// Principal is what the user may do, in the terms the domain services use.
func (u User) Principal() account.Principal {
	return account.Principal{AccountID: u.AccountID, Role: u.Role, UserID: u.ID}
}

// New is a user to create.
type New struct {
	AccountID string // empty only for the operator
	Email     string
	Name      string
	Role      account.Role
	Password  string
}

// MinPassword is the shortest password accepted; length is what makes a
// password hard to guess, so there are no rules about character classes.
const MinPassword = 12

// DefaultCost is argon2id's cost for new password hashes: 64 MiB and 2
// passes over it, about 60 ms on one core here, close to RFC 9106's second
// recommendation. A hash records its own cost, so raising it later still
// verifies old hashes.
var DefaultCost = Cost{MemoryKiB: 64 * 1024, Passes: 2}

// Cost is how much memory and time hashing one password takes.
type Cost struct {
	MemoryKiB uint32
	Passes    uint32
}

// Option adjusts a Store.
type Option func(*Store)

// WithCost sets the cost of new password hashes. Tests lower it: under
// the race detector the default takes seconds per hash.
func WithCost(c Cost) Option { return func(s *Store) { s.cost = c } }

func (s *Store) params() *argon2id.Params {
	return &argon2id.Params{Memory: s.cost.MemoryKiB, Iterations: s.cost.Passes, Parallelism: 2, SaltLength: 16, KeyLength: 32}
}

// ErrBadCredentials is the one answer to a wrong email or password, so the
// sign-in form does not tell which accounts exist.
var ErrBadCredentials = problem.New(problem.Unauthorized, "bad_credentials", "",
	"that email and password do not match a user")

// Store keeps users and sessions.
type Store struct {
	db    *db.DB
	clock clock.Clock
	cost  Cost
	// dummyHash is checked against when the email is unknown, so a wrong
	// email takes as long as a wrong password.
	dummyHash string
}

// NewStore returns a Store on d.
func NewStore(d *db.DB, c clock.Clock, opts ...Option) *Store {
	s := &Store{db: d, clock: c, cost: DefaultCost}
	for _, o := range opts {
		o(s)
	}
	h, err := argon2id.CreateHash("no user has this password", s.params())
	if err != nil {
		panic(fmt.Sprintf("user: argon2id: %v", err)) // only if the system's random source fails
	}
	s.dummyHash = h
	return s
}

func (n *New) normalize() error {
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		return problem.Invalidf("invalid_email", "email", "enter an email address like name@example.com")
	}
	if len(n.Name) > 200 {
		return problem.Invalidf("invalid_name", "name", "name is longer than 200 characters")
	}
	if _, err := account.ParseRole(string(n.Role)); err != nil {
		return err
	}
	if (n.Role == account.RoleOperator) != (n.AccountID == "") {
		return problem.Invalidf("invalid_role", "role", "the operator belongs to no account; every other user belongs to one")
	}
	if len([]rune(n.Password)) < MinPassword {
		return problem.Invalidf("password_too_short", "password", "a password needs at least %d characters", MinPassword)
	}
	if len(n.Password) > 1024 {
		return problem.Invalidf("password_too_long", "password", "a password can have at most 1024 bytes")
	}
	return nil
}

// Create adds a user. An email is taken once across all accounts: it is
// what the user signs in with.
func (s *Store) Create(ctx context.Context, n New) (User, error) {
	if err := n.normalize(); err != nil {
		return User{}, err
	}
	if n.AccountID != "" {
		if _, err := s.accountExists(ctx, n.AccountID); err != nil {
			return User{}, err
		}
	}
	hash, err := argon2id.CreateHash(n.Password, s.params())
	if err != nil {
		return User{}, fmt.Errorf("user: hash: %w", err)
	}
	u := User{ID: id.New("usr"), AccountID: n.AccountID, Email: n.Email, Name: n.Name, Role: n.Role, CreatedAt: s.clock.Now()}
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO users (id, account_id, email, name, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.ID, nullable(u.AccountID), u.Email, u.Name, string(u.Role), hash, u.CreatedAt)
	if db.IsUniqueViolation(err) {
		return User{}, problem.Conflictf("email_taken", "email", "a user with email %s exists", u.Email)
	}
	if err != nil {
		return User{}, fmt.Errorf("user: create: %w", err)
	}
	return u, nil
}

func (s *Store) accountExists(ctx context.Context, accountID string) (bool, error) {
	var one int
	err := s.db.Read().QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = $1`, accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, problem.NotFoundf("no account %s", accountID)
	}
	if err != nil {
		return false, fmt.Errorf("user: account: %w", err)
	}
	return true, nil
}

// Authenticate checks an email and password.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var hash string
	u, err := s.scanOne(ctx, `WHERE email = $1`, []any{email}, &hash)
	if errors.Is(err, errNoUser) {
		_, _ = argon2id.ComparePasswordAndHash(password, s.dummyHash)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil || !ok {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// Get finds one user of an account ("" for the operator's users).
func (s *Store) Get(ctx context.Context, userID string) (User, error) {
	var hash string
	return s.scanOne(ctx, `WHERE id = $1`, []any{userID}, &hash)
}

// List returns an account's users, oldest first.
func (s *Store) List(ctx context.Context, accountID string) ([]User, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("user: list: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var hash string
		u, err := scanUser(rows, &hash)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Delete removes an account's user and, with it, the user's sessions.
func (s *Store) Delete(ctx context.Context, accountID, userID string) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM users WHERE account_id = $1 AND id = $2`, accountID, userID)
	if err != nil {
		return fmt.Errorf("user: delete: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFoundf("no user %s", userID)
	}
	return nil
}

const userColumns = `id, account_id, email, name, role, password_hash, created_at`

var errNoUser = problem.NotFoundf("no such user")

func (s *Store) scanOne(ctx context.Context, where string, args []any, hash *string) (User, error) {
	u, err := scanUser(s.db.Read().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users `+where, args...), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errNoUser
	}
	return u, err
}

func scanUser(row interface{ Scan(...any) error }, hash *string) (User, error) {
	var u User
	var accountID sql.NullString
	var role string
	if err := row.Scan(&u.ID, &accountID, &u.Email, &u.Name, &role, hash, &u.CreatedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, err
		}
		return User{}, fmt.Errorf("user: scan: %w", err)
	}
	u.AccountID, u.Role = accountID.String, account.Role(role)
	return u, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SetPassword replaces a user's password and ends the user's sessions: a
// password change should lock out whoever knew the old one.
func (s *Store) SetPassword(ctx context.Context, userID, password string) error {
	if len([]rune(password)) < MinPassword || len(password) > 1024 {
		return problem.Invalidf("password_too_short", "password", "a password needs %d to 1024 characters", MinPassword)
	}
	hash, err := argon2id.CreateHash(password, s.params())
	if err != nil {
		return fmt.Errorf("user: hash: %w", err)
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return fmt.Errorf("user: set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("no user %s", userID)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		return err
	})
}

// ByEmail finds a user by the email they sign in with.
func (s *Store) ByEmail(ctx context.Context, email string) (User, error) {
	var hash string
	return s.scanOne(ctx, `WHERE email = $1`, []any{strings.ToLower(strings.TrimSpace(email))}, &hash)
}
