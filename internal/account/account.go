// Package account holds the tenants of Herald and who may act for them:
// accounts, their programs, users with roles, and API keys. Every other
// account-owned row points back here through account_id.
package account

import (
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/guard"
	"github.com/heraldsms/herald/internal/problem"
)

// Account is a business that runs a referral or loyalty program.
type Account struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	BrandName      string `json:"brand_name"`
	DefaultCountry string `json:"default_country"`
	TimeZone       string `json:"time_zone"`
	SMSEnabled     bool   `json:"sms_enabled"`
	MonthlyLimit   int64  `json:"monthly_limit"`
	SelfApproval   bool   `json:"self_approval"`
	HelpText       string `json:"help_text"`
	// AllowedCountries are the phone countries messages may go to.
	AllowedCountries []string    `json:"allowed_countries"`
	AutoReleaseQueue bool        `json:"auto_release_queue"`
	Twilio           *TwilioInfo `json:"twilio,omitempty"`
	CreatedAt        time.Time   `json:"created_at"`
	UpdatedAt        time.Time   `json:"updated_at"`

	// SendingWindow and FrequencyCap hold marketing back; zero values are
	// the defaults (see package guard and guards.go).
	SendingWindow guard.Window `json:"sending_window"`
	FrequencyCap  guard.Cap    `json:"frequency_cap"`
}

// Brand is the name messages identify the sender by.
func (a Account) Brand() string {
	if a.BrandName != "" {
		return a.BrandName
	}
	return a.Name
}

// Location is the account's time zone: months of the monthly limit and
// days on the dashboard and in the outcomes log are counted in it. An
// account's zone is checked when it is set; UTC stands in if it fails to
// load (a zone database without it).
func (a Account) Location() *time.Location {
	if loc, err := time.LoadLocation(a.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// AllowsCountry reports whether messages may go to phones of a country.
func (a Account) AllowsCountry(c string) bool {
	for _, allowed := range a.AllowedCountries {
		if allowed == c {
			return true
		}
	}
	return false
}

// Program is one referral or loyalty program of an account.
type Program struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Role says what a user or key may do. Roles within an account are ordered:
// a viewer reads, an editor also writes templates and automations, an admin
// also runs the limit queue, settings, webhooks, keys and users. The
// operator runs the platform and belongs to no account.
type Role string

// The roles.
const (
	RoleViewer   Role = "viewer"
	RoleEditor   Role = "editor"
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := roleRank[r]; ok || r == RoleOperator {
		return r, nil
	}
	return "", problem.Invalidf("invalid_role", "role", "role must be one of viewer, editor, admin, operator; got %q", s)
}

// Principal is who is making a request: an account member with a role, or
// the operator.
type Principal struct {
	AccountID string // empty for the operator
	Role      Role
	KeyID     string
	UserID    string
}

// IsOperator reports whether the principal is the platform operator.
func (p Principal) IsOperator() bool { return p.Role == RoleOperator }

// Can reports whether the principal holds at least the given account role.
// The operator holds no account role: operator routes check IsOperator.
func (p Principal) Can(min Role) bool {
	return p.AccountID != "" && roleRank[p.Role] >= roleRank[min] && roleRank[min] > 0
}

// Actor names the principal in audit records ("key:key_…", "user:usr_…").
func (p Principal) Actor() string {
	switch {
	case p.UserID != "":
		return "user:" + p.UserID
	case p.KeyID != "":
		return "key:" + p.KeyID
	default:
		return string(p.Role)
	}
}

func validName(field, s string, max int) error {
	switch {
	case s == "":
		return problem.Invalidf("required", field, "%s is required", field)
	case len(s) > max:
		return problem.Invalidf("too_long", field, "%s is longer than %d bytes", field, max)
	}
	return nil
}

func wrap(op string, err error) error { return fmt.Errorf("account: %s: %w", op, err) }
