package account

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/secret"
)

// Option configures a Store.
type Option func(*Store)

// WithSecrets gives the store the box that seals carrier credentials.
func WithSecrets(b *secret.Box) Option { return func(s *Store) { s.secrets = b } }

// TwilioInfo is what an account shows of its carrier sub-account: never
// the token.
type TwilioInfo struct {
	AccountSID string `json:"account_sid"`
	BaseURL    string `json:"base_url,omitempty"`
	// RefusedAt is when the carrier began refusing these credentials
	// (a 401, Twilio's 20003), while it still does: the account's sends
	// wait until a send succeeds or the operator sets new ones.
	RefusedAt *time.Time `json:"refused_at,omitempty"`
}

// TwilioSetup is the carrier sub-account as the operator sets it. An empty
// BaseURL means Twilio itself.
type TwilioSetup struct {
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token"`
	BaseURL    string `json:"base_url"`
}

// Setup is the operator's configuration of an account's SMS. Nil fields
// are left as they are.
type Setup struct {
	SMSEnabled       *bool          `json:"sms_enabled"`
	MonthlyLimit     *int64         `json:"monthly_limit"`
	Twilio           *TwilioSetup   `json:"twilio"`
	Numbers          *[]NumberInput `json:"numbers"`
	AllowedCountries *[]string      `json:"allowed_countries"`
	AutoReleaseQueue *bool          `json:"auto_release_queue"`
	SelfApproval     *bool          `json:"self_approval"`
}

var twilioSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

func (s *Setup) check() error {
	if s.MonthlyLimit != nil && (*s.MonthlyLimit < 0 || *s.MonthlyLimit > 1_000_000_000) {
		return problem.Invalidf("invalid_monthly_limit", "monthly_limit", "monthly_limit must be between 0 and 1000000000")
	}
	if t := s.Twilio; t != nil {
		if !twilioSID.MatchString(t.AccountSID) {
			return problem.Invalidf("invalid_account_sid", "twilio.account_sid", "account_sid must be AC followed by 32 hex digits")
		}
		if t.AuthToken == "" || len(t.AuthToken) > 128 {
			return problem.Invalidf("invalid_auth_token", "twilio.auth_token", "auth_token is required (at most 128 characters)")
		}
		if t.BaseURL != "" {
			// Herald appends the API's path to it: a query or a fragment
			// would swallow that path.
			u, err := url.Parse(t.BaseURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				strings.ContainsAny(t.BaseURL, "?#") {
				return problem.Invalidf("invalid_base_url", "twilio.base_url", "base_url must be an http(s) URL without credentials, query or fragment")
			}
			t.BaseURL = strings.TrimRight(t.BaseURL, "/")
		}
	}
	if s.Numbers != nil {
		if err := checkNumbers(*s.Numbers); err != nil {
			return err
		}
	}
	if s.AllowedCountries != nil {
		list := make([]string, 0, len(*s.AllowedCountries))
		for _, c := range *s.AllowedCountries {
			code := strings.ToUpper(strings.TrimSpace(c))
			if !phone.IsRegion(code) {
				return problem.Invalidf("invalid_country", "allowed_countries", "%q is not an ISO 3166 alpha-2 code of a country with phone numbers", c)
			}
			if !slices.Contains(list, code) {
				list = append(list, code)
			}
		}
		*s.AllowedCountries = list
	}
	return nil
}

// Configure applies the operator's setup in one transaction. SMS can be
// enabled only with a carrier sub-account and at least one number.
func (s *Store) Configure(ctx context.Context, accountID string, setup Setup) (Account, error) {
	if err := setup.check(); err != nil {
		return Account{}, err
	}
	if _, err := s.Get(ctx, accountID); err != nil {
		return Account{}, err
	}
	var sealed string
	if t := setup.Twilio; t != nil {
		var err error
		if sealed, err = s.seal(t.AuthToken); err != nil {
			return Account{}, err
		}
	}
	// One transaction: a setup refused for any reason, its readiness
	// included, leaves the account as it was.
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		if setup.Numbers != nil {
			if _, err := replaceNumbers(ctx, tx, accountID, *setup.Numbers, now); err != nil {
				return err
			}
		}
		exec := func(query string, args ...any) error {
			_, err := tx.ExecContext(ctx, query, append([]any{accountID, now}, args...)...)
			return err
		}
		var errs []error
		if setup.MonthlyLimit != nil {
			errs = append(errs, exec(`UPDATE accounts SET monthly_limit = $3, updated_at = $2 WHERE id = $1`, *setup.MonthlyLimit))
		}
		if t := setup.Twilio; t != nil {
			errs = append(errs, exec(`UPDATE accounts SET twilio_account_sid = $3, twilio_auth_token = $4, twilio_base_url = $5,
				carrier_refused_at = NULL, updated_at = $2 WHERE id = $1`, t.AccountSID, sealed, t.BaseURL))
		}
		if setup.AllowedCountries != nil {
			errs = append(errs, exec(`UPDATE accounts SET allowed_countries = $3, updated_at = $2 WHERE id = $1`,
				strings.Join(*setup.AllowedCountries, ",")))
		}
		if setup.AutoReleaseQueue != nil {
			errs = append(errs, exec(`UPDATE accounts SET auto_release_queue = $3, updated_at = $2 WHERE id = $1`, *setup.AutoReleaseQueue))
		}
		if setup.SelfApproval != nil {
			errs = append(errs, exec(`UPDATE accounts SET self_approval = $3, updated_at = $2 WHERE id = $1`, *setup.SelfApproval))
		}
		if setup.SMSEnabled != nil {
			errs = append(errs, exec(`UPDATE accounts SET sms_enabled = $3, updated_at = $2 WHERE id = $1`, *setup.SMSEnabled))
		}
		if err := errors.Join(errs...); err != nil {
			return wrap("configure", err)
		}
		return checkReady(ctx, tx, accountID)
	})
	s.changed(accountID)
	if err != nil {
		return Account{}, err
	}
	return s.Get(ctx, accountID)
}

// checkReady refuses, in tx, an account set to send SMS without a carrier
// sub-account or a sender number.
func checkReady(ctx context.Context, tx *sql.Tx, accountID string) error {
	var enabled, carrier bool
	var numbers int
	err := tx.QueryRowContext(ctx, `SELECT sms_enabled, twilio_account_sid <> '',
		(SELECT count(*) FROM sender_numbers WHERE account_id = $1) FROM accounts WHERE id = $1`, accountID).
		Scan(&enabled, &carrier, &numbers)
	switch {
	case err != nil:
		return wrap("configure", err)
	case enabled && !carrier:
		return problem.Invalidf("sms_not_ready", "twilio", "SMS needs a carrier sub-account: set twilio.account_sid and twilio.auth_token")
	case enabled && numbers == 0:
		return problem.Invalidf("sms_not_ready", "numbers", "SMS needs at least one sender number")
	}
	return nil
}

func (s *Store) seal(v string) (string, error) {
	if s.secrets == nil {
		return "", errors.New("account: no secret key configured to seal carrier credentials")
	}
	return s.secrets.Seal(v)
}

// Credentials returns the account's carrier sub-account, unsealed.
func (s *Store) Credentials(ctx context.Context, accountID string) (provider.Credentials, error) {
	return s.credentialsIn(ctx, s.db.Read(), accountID, "")
}

// credentialsIn reads and unseals the account's carrier sub-account
// through q; suffix ends the statement (a row lock, say).
func (s *Store) credentialsIn(ctx context.Context, q db.Querier, accountID, suffix string) (provider.Credentials, error) {
	var c provider.Credentials
	var sealed string
	err := q.QueryRowContext(ctx,
		`SELECT twilio_account_sid, twilio_auth_token, twilio_base_url FROM accounts WHERE id = $1`+suffix, accountID).
		Scan(&c.AccountSID, &sealed, &c.BaseURL)
	if errors.Is(err, sql.ErrNoRows) {
		return c, problem.NotFoundf("no account %q", accountID)
	}
	if err != nil {
		return c, wrap("credentials", err)
	}
	if s.secrets == nil {
		return c, errors.New("account: no secret key configured to open carrier credentials")
	}
	if c.AuthToken, err = s.secrets.Open(sealed); err != nil {
		return c, wrap("credentials", err)
	}
	return c, nil
}

// CarrierRefused notes that the carrier refused the credentials used, at
// at, unless a refusal is already noted: the first of a run of them is the
// one the admin shows. It notes nothing, and reports false, when the
// account's credentials are no longer the ones used: the operator set new
// ones while the refused send was on its way.
func (s *Store) CarrierRefused(ctx context.Context, accountID string, at time.Time, used provider.Credentials) (bool, error) {
	noted, first := false, false
	at = at.UTC().Truncate(time.Microsecond)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.db.Engine == db.Postgres {
			lock = " FOR UPDATE" // against a Configure that commits meanwhile
		}
		cur, err := s.credentialsIn(ctx, tx, accountID, lock)
		if err != nil {
			return err
		}
		if cur != used {
			return nil
		}
		noted = true
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET carrier_refused_at = $2 WHERE id = $1 AND carrier_refused_at IS NULL`,
			accountID, at)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	s.changed(accountID)
	if err == nil && first && s.OnCarrierRefused != nil {
		s.OnCarrierRefused(ctx, accountID, at)
	}
	return noted, wrap0("carrier refused", err)
}

// CarrierAccepted clears a refusal noted by CarrierRefused: a send with
// the account's credentials has succeeded.
func (s *Store) CarrierAccepted(ctx context.Context, accountID string) error {
	_, err := s.db.Write().ExecContext(ctx,
		`UPDATE accounts SET carrier_refused_at = NULL WHERE id = $1 AND carrier_refused_at IS NOT NULL`, accountID)
	s.changed(accountID)
	return wrap0("carrier accepted", err)
}

// ByTwilioSID returns the accounts that use a carrier sub-account.
func (s *Store) ByTwilioSID(ctx context.Context, sid string) ([]Account, error) {
	if sid == "" {
		return nil, nil
	}
	rows, err := s.db.Read().QueryContext(ctx, selectAccount+` WHERE twilio_account_sid = $1 ORDER BY id`, sid)
	if err != nil {
		return nil, wrap("by twilio sid", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, wrap("by twilio sid", err)
		}
		out = append(out, a)
	}
	return out, wrap0("by twilio sid", rows.Err())
}
