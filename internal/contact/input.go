package contact

import (
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/storable"
)

// Limits on what a contact may hold.
const (
	maxNameBytes       = 100
	maxEmailBytes      = 254
	maxExternalIDBytes = 128
	maxAttributes      = 50
	maxAttributeKey    = 64
	maxAttributesBytes = 8 << 10
)

// Input is a contact as a caller sends it. A nil field is left as it is on
// an update; attributes are merged, and an attribute set to null is removed.
type Input struct {
	ExternalID    *string        `json:"external_id"`
	Phone         *string        `json:"phone"`
	FirstName     *string        `json:"first_name"`
	LastName      *string        `json:"last_name"`
	Email         *string        `json:"email"`
	TimeZone      *string        `json:"time_zone"`
	Attributes    map[string]any `json:"attributes"`
	SMSPreference *string        `json:"sms_preference"`
	// ConsentEvidence goes into the consent record when SMSPreference
	// changes the contact's preference.
	ConsentEvidence json.RawMessage `json:"consent_evidence"`

	// kindPreferences sets one kind's preference (from an export's
	// per-kind columns); SMSPreference, when set, wins.
	kindPreferences map[consent.Kind]string
}

// checked is Input after validation, with the phone parsed.
type checked struct {
	Input
	number *phone.Number
}

// check validates every field and parses the phone in the account's region.
func (in Input) check(region string) (checked, error) {
	c := checked{Input: in}
	if in.ExternalID != nil {
		v := strings.TrimSpace(*in.ExternalID)
		if err := checkText("external_id", v, maxExternalIDBytes); err != nil {
			return c, err
		}
		if v == "" {
			c.ExternalID = nil // "" means "no external id"
		} else {
			c.ExternalID = &v
		}
	}
	for _, f := range []struct {
		name string
		v    **string
	}{{"first_name", &c.FirstName}, {"last_name", &c.LastName}} {
		if *f.v == nil {
			continue
		}
		v := strings.TrimSpace(**f.v)
		if err := checkText(f.name, v, maxNameBytes); err != nil {
			return c, err
		}
		*f.v = &v
	}
	email, err := checkEmail(in.Email)
	if err != nil {
		return c, err
	}
	c.Email = email
	if in.TimeZone != nil && *in.TimeZone != "" && !validTimeZone(*in.TimeZone) {
		return c, problem.Invalidf("invalid_time_zone", "time_zone", "time_zone must be an IANA zone such as America/Chicago")
	}
	if err := checkAttributes(in.Attributes); err != nil {
		return c, err
	}
	if in.Phone != nil {
		n := phone.Parse(*in.Phone, region)
		c.number = &n
	}
	if len(in.ConsentEvidence) > 0 && !json.Valid(in.ConsentEvidence) {
		return c, problem.Invalidf("invalid_json", "consent_evidence", "consent_evidence must be a JSON value")
	}
	return c, nil
}

// validTimeZone reports whether name is an IANA zone. "Local" is refused:
// it names the server's zone, not the contact's.
func validTimeZone(name string) bool {
	_, err := time.LoadLocation(name)
	return err == nil && name != "Local"
}

func checkText(field, v string, max int) error {
	if len(v) > max {
		return problem.Invalidf("too_long", field, "%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(v) {
		return problem.Invalidf("invalid_text", field, "%s is not valid UTF-8", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return problem.Invalidf("invalid_text", field, "%s must not contain control characters", field)
		}
	}
	return nil
}

func checkEmail(email *string) (*string, error) {
	if email == nil {
		return nil, nil
	}
	v := strings.TrimSpace(*email)
	if v == "" {
		return &v, nil
	}
	if err := checkText("email", v, maxEmailBytes); err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || !strings.Contains(addr.Address, "@") {
		return nil, problem.Invalidf("invalid_email", "email", "email %q is not an address like name@example.com", v)
	}
	return &v, nil
}

func checkAttributes(attrs map[string]any) error {
	if len(attrs) > maxAttributes {
		return problem.Invalidf("too_many_attributes", "attributes", "a contact has at most %d attributes", maxAttributes)
	}
	for k := range attrs {
		if k == "" || len(k) > maxAttributeKey || strings.IndexFunc(k, notKeyRune) >= 0 {
			return problem.Invalidf("invalid_attribute", "attributes",
				"attribute name %q must be 1-%d letters, digits, '_' or '-'", k, maxAttributeKey)
		}
	}
	if !storable.JSON(map[string]any(attrs)) {
		return problem.Invalidf("invalid_text", "attributes", "an attribute's value holds a NUL character, which text may not contain")
	}
	if b, err := json.Marshal(attrs); err != nil || len(b) > maxAttributesBytes {
		return problem.Invalidf("too_large", "attributes", "attributes must be under %d bytes of JSON", maxAttributesBytes)
	}
	return nil
}

func notKeyRune(r rune) bool {
	if r >= utf8.RuneSelf {
		return true
	}
	return !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))
}

// mergeAttributes applies an update: set keys are replaced, null removes.
func mergeAttributes(current, update map[string]any) map[string]any {
	if len(update) == 0 {
		return current
	}
	out := make(map[string]any, len(current)+len(update))
	for k, v := range current {
		out[k] = v
	}
	for k, v := range update {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}
