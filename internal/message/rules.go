package message

import (
	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/phone"
)

// consentKind is the consent a message of kind k needs, and whether it
// needs any: a Send Test goes to a number a person typed, and a reply
// answers the person who just wrote (a STOP confirmation must reach a
// contact who has opted out).
func consentKind(k Kind) (consent.Kind, bool) {
	switch k {
	case Marketing:
		return consent.Marketing, true
	case Transactional:
		return consent.Transactional, true
	}
	return "", false
}

// Skip says why a message may not go to a contact, or "" if it may. It is
// checked when the message is made and again right before it is sent, so a
// STOP that arrives while a message waits stops it. c is nil for a message
// with no contact (a Send Test) or whose contact was deleted.
func Skip(a account.Account, k Kind, c *contact.Contact, hasContact bool, phoneCountry string) string {
	if !a.SMSEnabled {
		return ReasonSMSNotEnabled
	}
	if hasContact {
		if c == nil {
			return ReasonContactDeleted
		}
		if ck, needs := consentKind(k); needs && c.Preference(ck) != consent.OptedIn {
			return ReasonNotOptedIn
		}
		if !c.SMSCapable {
			return ReasonInvalidPhone
		}
		phoneCountry = c.PhoneCountry
	}
	if !a.AllowsCountry(phoneCountry) {
		return ReasonCountryNotAllowed
	}
	return ""
}

// phoneCountry is the country of an E.164 number, for messages with no
// contact (a Send Test).
func phoneCountry(e164 string) string {
	return phone.Parse(e164, "").Country
}
