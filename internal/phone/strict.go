package phone

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maxE164Digits is the most digits ITU-T E.164 allows, country code included.
const maxE164Digits = 15

// Errors returned by ParseStrict, to branch on with errors.Is.
var (
	// ErrNotE164 means the input is not written as "+", a country code and
	// the number.
	ErrNotE164 = errors.New("phone: not in +[country code][number] form")
	// ErrInvalidNumber means the input is well formed but is not a number
	// its country assigns.
	ErrInvalidNumber = errors.New("phone: not a valid number")
)

// ParseStrict reads a number that must be written in international form, as
// the "Send Test" field asks: a leading '+', a country code that does not
// start with 0, and the rest of the digits, 15 at most, which may be grouped
// by single spaces or hyphens ("+1 734-626-3333"). Surrounding white space is
// trimmed. Anything else (parentheses, dots, a trunk "0" in parentheses,
// letters, an extension, non-ASCII digits) is ErrNotE164, since a person
// asked for this form can be told to type exactly it.
//
// A well-formed number that is not valid returns ErrInvalidNumber (wrapped
// with its Reason) alongside the parsed Number. ParseStrict does not judge
// whether the number can receive texts: check Number.SMSCapable.
func ParseStrict(raw string) (Number, error) {
	s := strings.TrimSpace(raw)
	if !isStrictForm(s) {
		return Number{Raw: raw, Type: Unknown, Reason: ReasonNotE164}, ErrNotE164
	}
	n := Parse(s, "")
	n.Raw = raw
	if !n.Valid {
		return n, fmt.Errorf("%w: %s", ErrInvalidNumber, n.Reason)
	}
	return n, nil
}

// isStrictForm reports whether s is '+', a non-zero digit, and at most
// fourteen more digits with single spaces or hyphens between them.
func isStrictForm(s string) bool {
	if len(s) < 2 || len(s) > MaxInputBytes || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	digits := 0
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-':
			if next := i + 1; next == len(s) || s[next] < '0' || s[next] > '9' {
				return false // trailing or doubled separator
			}
		default:
			return false
		}
	}
	return digits <= maxE164Digits
}

// TimeZones returns the IANA time zones a number may be in, to hold messages
// back during the recipient's quiet hours. The mapping is libphonenumber's,
// by prefix: the area code in the North American plan (+1 212 is
// America/New_York, +1 808 Pacific/Honolulu), a region or the whole country
// elsewhere. Mobiles, which go anywhere in their country, may get several
// zones or only the country's main one, so callers should treat the answer as
// a best guess and, given several zones, respect quiet hours in all of them.
// It returns nil when e164 is not a valid number in ParseStrict's form or its
// zone is unknown. The caller owns the returned slice.
func TimeZones(e164 string) []string {
	n, err := ParseStrict(e164)
	if err != nil {
		return nil
	}
	zones, err := phonenumbers.GetTimezonesForPrefix(n.E164)
	if err != nil || len(zones) == 0 ||
		(len(zones) == 1 && zones[0] == phonenumbers.UNKNOWN_TIMEZONE) {
		return nil
	}
	return slices.Clone(zones) // the library shares its slices between callers
}
