package account

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/readcache"
	"github.com/heraldsms/herald/internal/secret"
)

// Store reads and writes accounts, programs, keys and users.
type Store struct {
	db      *db.DB
	clock   clock.Clock
	secrets *secret.Box
	// What every accepted message reads again (see package readcache):
	// accounts and their sender numbers by account id, keys by secret hash.
	accounts *readcache.Cache[string, Account]
	numbers  *readcache.Cache[string, []Number]
	keys     *readcache.Cache[string, keyRecord]

	// OnCarrierRefused is called once a refusal of the account's
	// credentials has been noted, at the first refusal of a run.
	OnCarrierRefused func(ctx context.Context, accountID string, at time.Time)
}

// cacheFor is how long a read is kept. A change made through another
// process (or straight in the database) takes effect within it.
const cacheFor = 2 * time.Second

// NewStore returns a Store.
func NewStore(d *db.DB, c clock.Clock, opts ...Option) *Store {
	s := &Store{db: d, clock: c, accounts: readcache.New[string, Account](1024, cacheFor),
		numbers: readcache.New[string, []Number](1024, cacheFor), keys: readcache.New[string, keyRecord](4096, cacheFor)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewAccount is what it takes to create an account.
type NewAccount struct {
	Name           string
	BrandName      string
	DefaultCountry string // "US" when empty
	TimeZone       string // "America/New_York" when empty
}

func (n *NewAccount) normalize() error {
	n.Name = strings.TrimSpace(n.Name)
	if err := validName("name", n.Name, 200); err != nil {
		return err
	}
	if n.DefaultCountry == "" {
		n.DefaultCountry = "US"
	}
	n.DefaultCountry = strings.ToUpper(n.DefaultCountry)
	if !phone.IsRegion(n.DefaultCountry) {
		return problem.Invalidf("invalid_country", "default_country", "default_country must be an ISO 3166 alpha-2 code such as US")
	}
	if n.TimeZone == "" {
		n.TimeZone = "America/New_York"
	}
	if _, err := time.LoadLocation(n.TimeZone); err != nil || n.TimeZone == "Local" {
		return problem.Invalidf("invalid_time_zone", "time_zone", "time_zone must be an IANA zone such as America/Chicago")
	}
	return nil
}

const insertAccount = `
INSERT INTO accounts (id, name, brand_name, default_country, time_zone, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)`

// CreateAccount creates an account together with its first admin API key,
// in one transaction, and returns the key's secret (shown once).
func (s *Store) CreateAccount(ctx context.Context, n NewAccount) (Account, string, error) {
	if err := n.normalize(); err != nil {
		return Account{}, "", err
	}
	now := s.clock.Now()
	a := Account{
		ID: id.New(id.Account), Name: n.Name, BrandName: n.BrandName,
		DefaultCountry: n.DefaultCountry, TimeZone: n.TimeZone,
		MonthlyLimit: 1000, CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, insertAccount, a.ID, a.Name, a.BrandName, a.DefaultCountry, a.TimeZone, now)
		if err != nil {
			return wrap("insert account", err)
		}
		_, secret, err = s.insertKey(ctx, tx, a.ID, RoleAdmin, "first admin key")
		return err
	})
	if err != nil {
		return Account{}, "", err
	}
	return a, secret, nil
}

const selectAccount = `
SELECT id, name, brand_name, default_country, time_zone, sms_enabled, monthly_limit,
       self_approval, help_text, twilio_account_sid, twilio_base_url, allowed_countries,
       auto_release_queue, window_start, window_end, cap_max, cap_period_hours, carrier_refused_at,
       created_at, updated_at
FROM accounts`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var (
		a                Account
		sid, base, allow string
		capHours         int
		refused          sql.NullTime
	)
	err := row.Scan(&a.ID, &a.Name, &a.BrandName, &a.DefaultCountry, &a.TimeZone, &a.SMSEnabled,
		&a.MonthlyLimit, &a.SelfApproval, &a.HelpText, &sid, &base, &allow, &a.AutoReleaseQueue,
		&a.SendingWindow.Start, &a.SendingWindow.End, &a.FrequencyCap.Max, &capHours, &refused,
		&a.CreatedAt, &a.UpdatedAt)
	a.FrequencyCap.Period = time.Duration(capHours) * time.Hour
	if sid != "" {
		a.Twilio = &TwilioInfo{AccountSID: sid, BaseURL: base, RefusedAt: nullTime(refused)}
	}
	a.AllowedCountries = []string{}
	if allow != "" {
		a.AllowedCountries = strings.Split(allow, ",")
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

// Get returns an account.
func (s *Store) Get(ctx context.Context, accountID string) (Account, error) {
	if a, ok := s.accounts.Get(accountID); ok {
		a.AllowedCountries = slices.Clone(a.AllowedCountries)
		return a, nil
	}
	began := s.accounts.Now()
	a, err := scanAccount(s.db.Read().QueryRowContext(ctx, selectAccount+` WHERE id = $1`, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, problem.NotFoundf("no account %q", accountID)
	}
	if err != nil {
		return Account{}, wrap("get", err)
	}
	kept := a
	kept.AllowedCountries = slices.Clone(a.AllowedCountries)
	s.accounts.Put(accountID, kept, began)
	return a, nil
}

// changed forgets what the caches hold of an account, after a change to it
// has committed.
func (s *Store) changed(accountID string) {
	s.accounts.Forget(accountID)
	s.numbers.Forget(accountID)
}

// List returns every account, oldest first. Only the operator sees this.
func (s *Store) List(ctx context.Context) ([]Account, error) {
	rows, err := s.db.Read().QueryContext(ctx, selectAccount+` ORDER BY id`)
	if err != nil {
		return nil, wrap("list", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, wrap("list", err)
		}
		out = append(out, a)
	}
	return out, wrap0("list", rows.Err())
}

func wrap0(op string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(op, err)
}
