package enroll

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/phone"
)

// Form is what a person submits, from the hosted page, the widget or JSON.
type Form struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	// OptIn is the SMS checkbox; it is never ticked for the person.
	OptIn bool `json:"sms_opt_in"`
	// Page is the address of the page the form was on; the widget sends
	// it, since a cross-site Referer carries only the site's origin.
	Page string `json:"page"`
	// DisclosureVersion is the version of the disclosure the form showed.
	DisclosureVersion string `json:"disclosure_version"`
}

// FieldError is one field's problem, in words the person can act on.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// InvalidError lists every field the person must fix, so the form can show
// them all at once.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	return "enroll: invalid form: " + e.Fields[0].Field + ": " + e.Fields[0].Message
}

// Has returns the message for a field, or "".
func (e *InvalidError) Has(field string) string {
	if e == nil {
		return ""
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

const (
	maxName  = 100 // bytes, as contact names are kept
	maxEmail = 254
	maxPage  = 2000
)

// checked is a form after validation: the phone parsed, the name split.
type checked struct {
	first, last, email string
	number             phone.Number
}

// check validates every field and reports all problems together.
func check(f Form, a account.Account) (checked, *InvalidError) {
	var (
		c    checked
		errs []FieldError
	)
	add := func(field, code, msg string) { errs = append(errs, FieldError{field, code, msg}) }
	name := strings.Join(strings.Fields(f.Name), " ")
	switch {
	case name == "":
		add("name", "required", "Enter your name.")
	case len(name) > maxName || !utf8.ValidString(name):
		add("name", "too_long", "Enter a name of at most 100 characters.")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		add("name", "invalid_name", "Enter your name using letters, spaces and punctuation only.")
	default:
		c.first, c.last, _ = strings.Cut(name, " ")
	}
	c.email = strings.TrimSpace(f.Email)
	if c.email != "" && !validEmail(c.email) {
		add("email", "invalid_email", "Enter an email address like name@example.com, or leave it empty.")
	}
	var bad *FieldError
	c.number, bad = checkPhone(f.Phone, a)
	if bad != nil {
		errs = append(errs, *bad)
	}
	if len(errs) > 0 {
		return c, &InvalidError{Fields: errs}
	}
	return c, nil
}

func validEmail(v string) bool {
	if len(v) > maxEmail || !utf8.ValidString(v) {
		return false
	}
	addr, err := mail.ParseAddress(v)
	return err == nil && addr.Address == v && strings.Contains(v, "@")
}

// checkPhone reads the mobile number in the account's home country and
// refuses, with an example to copy, anything that could not receive texts.
func checkPhone(raw string, a account.Account) (phone.Number, *FieldError) {
	example := exampleNumber(a.DefaultCountry)
	fail := func(code, msg string) (phone.Number, *FieldError) {
		return phone.Number{}, &FieldError{Field: "phone", Code: code, Message: msg}
	}
	if strings.TrimSpace(raw) == "" {
		return fail("required", "Enter your mobile number, like "+example+".")
	}
	n := phone.Parse(raw, a.DefaultCountry)
	switch {
	case n.Reason == phone.ReasonLetters:
		return fail("invalid_phone", "Use digits only. Enter a mobile number with area code, like "+example+".")
	case n.Reason == phone.ReasonInvalidCountryCode:
		return fail("invalid_phone", "Check the country code after the +, or enter a mobile number with area code, like "+example+".")
	case !n.Valid:
		return fail("invalid_phone", "Enter a mobile number with area code, like "+example+".")
	case n.Extension != "":
		return fail("not_mobile", "Enter a mobile number without an extension, like "+example+".")
	case !n.SMSCapable:
		return fail("not_mobile", "This number can't receive texts (it looks like a landline or toll-free number). Enter a mobile number, like "+example+".")
	case !allowed(a, n.Country):
		return fail("country_not_allowed", "We can only text mobile numbers in "+countryList(a)+". Enter a mobile number from there.")
	}
	return n, nil
}

// allowed reports whether texts may go to a country; an account that has
// named no countries texts its home country only.
func allowed(a account.Account, country string) bool {
	if len(a.AllowedCountries) == 0 {
		return country == a.DefaultCountry
	}
	return a.AllowsCountry(country)
}

// exampleNumbers are fictional (555-01xx) numbers for the plans where
// libphonenumber's own example would not read as a local mobile.
var exampleNumbers = map[string]string{"US": "(415) 555-0134", "CA": "(416) 555-0134"}

func exampleNumber(region string) string {
	if ex, ok := exampleNumbers[region]; ok {
		return ex
	}
	if pn := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE); pn != nil {
		return phonenumbers.Format(pn, phonenumbers.NATIONAL)
	}
	return exampleNumbers["US"]
}

var countryNames = map[string]string{
	"US": "the United States", "CA": "Canada", "GB": "the United Kingdom", "MX": "Mexico", "AU": "Australia",
	"NZ": "New Zealand", "IE": "Ireland", "FR": "France", "DE": "Germany", "ES": "Spain", "PR": "Puerto Rico",
}

// countryList names the countries an account texts, for a person to read.
func countryList(a account.Account) string {
	codes := a.AllowedCountries
	if len(codes) == 0 {
		codes = []string{a.DefaultCountry}
	}
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = c
		if n, ok := countryNames[c]; ok {
			names[i] = n
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// pageOf is the page a form was on: the page it names, if that is a web
// address, else the Referer the browser sent.
func pageOf(field, referer string) string {
	for _, v := range []string{field, referer} {
		if u, err := url.Parse(v); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(v) <= maxPage {
			return v
		}
	}
	return ""
}
