// Package contact keeps the people an account texts: their phone number,
// normalised to E.164 and checked for SMS capability, their names and
// attributes, and their SMS preference per sender kind (whose history lives
// in package consent). A phone number belongs to at most one contact of an
// account, because consent follows the number.
package contact

import (
	"encoding/json"
	"time"

	"github.com/heraldsms/herald/internal/consent"
)

// Contact is a person an account may text.
type Contact struct {
	ID             string                              `json:"id"`
	AccountID      string                              `json:"-"`
	ExternalID     *string                             `json:"external_id"`
	Phone          string                              `json:"phone"`
	PhoneE164      *string                             `json:"phone_e164"`
	PhoneValid     bool                                `json:"phone_valid"`
	PhoneType      string                              `json:"phone_type"`
	PhoneCountry   string                              `json:"phone_country"`
	SMSCapable     bool                                `json:"sms_capable"`
	FirstName      string                              `json:"first_name"`
	LastName       string                              `json:"last_name"`
	Email          string                              `json:"email"`
	TimeZone       string                              `json:"time_zone"`
	Attributes     map[string]any                      `json:"attributes"`
	SMSPreference  consent.Preference                  `json:"sms_preference"`
	SMSPreferences map[consent.Kind]consent.Preference `json:"sms_preferences"`
	CreatedAt      time.Time                           `json:"created_at"`
	UpdatedAt      time.Time                           `json:"updated_at"`
}

// Preference returns the contact's preference for one sender kind.
func (c *Contact) Preference(k consent.Kind) consent.Preference {
	if p, ok := c.SMSPreferences[k]; ok {
		return p
	}
	return consent.Unknown
}

// E164 returns the normalised phone, or "" when the phone could not be read.
func (c *Contact) E164() string {
	if c.PhoneE164 == nil {
		return ""
	}
	return *c.PhoneE164
}

// setPreferences fills the per-kind map and the summary value. The summary
// is the common value; when the kinds differ (an account with two numbers)
// it is the marketing one, since that is what audience filters ask about.
func (c *Contact) setPreferences(transactional, marketing consent.Preference) {
	c.SMSPreferences = map[consent.Kind]consent.Preference{
		consent.Transactional: transactional,
		consent.Marketing:     marketing,
	}
	c.SMSPreference = marketing
}

// attributesJSON is how attributes are stored: a JSON object, never null.
func (c *Contact) attributesJSON() (string, error) {
	if len(c.Attributes) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(c.Attributes)
	return string(b), err
}
