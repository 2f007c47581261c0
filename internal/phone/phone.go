// Package phone normalises phone numbers to E.164 and judges whether a
// number can receive a text message.
//
// Parsing is lenient about how a number is written (spaces, dots, dashes,
// parentheses, a "tel:" prefix, an extension, any script's decimal digits)
// and strict about what it may contain: letters outside an extension marker,
// emoji and other symbols make a number invalid rather than being dropped,
// so that a typo never turns into somebody else's plausible number.
//
// Validity, type and country come from libphonenumber's numbering plan
// metadata (github.com/nyaruka/phonenumbers). Where a plan cannot tell mobile
// from fixed-line numbers, as in the North American Numbering Plan
// (US, CA and the Caribbean), the type is [FixedLineOrMobile].
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// MaxInputBytes caps the trimmed input Parse looks at. The longest sensible
// writing of a number with an extension fits in well under 64 bytes; longer
// input is rejected before any parsing, so hostile input stays cheap.
const MaxInputBytes = 64

// Type is a number's kind as the numbering plan of its country defines it.
type Type string

// The number types, named after libphonenumber's.
const (
	Mobile            Type = "mobile"
	FixedLine         Type = "fixed_line"
	FixedLineOrMobile Type = "fixed_line_or_mobile"
	TollFree          Type = "toll_free"
	VoIP              Type = "voip"
	PremiumRate       Type = "premium_rate"
	SharedCost        Type = "shared_cost"
	Pager             Type = "pager"
	UAN               Type = "uan"
	Voicemail         Type = "voicemail"
	Personal          Type = "personal"
	Unknown           Type = "unknown"
)

// Reason says why a number is not valid, in words stable enough for an API
// error code or an import report.
type Reason string

// The reasons a number is not valid.
const (
	ReasonEmpty              Reason = "empty"                // nothing but spaces
	ReasonTooLong            Reason = "too_long"             // over MaxInputBytes, or too many digits
	ReasonLetters            Reason = "letters"              // letters outside an extension marker, vanity numbers included
	ReasonBadCharacters      Reason = "bad_characters"       // emoji, symbols, a '+' that is not first
	ReasonNoDigits           Reason = "no_digits"            // separators only
	ReasonInvalidCountryCode Reason = "invalid_country_code" // unknown +code, or no +code and no usable default region
	ReasonTooShort           Reason = "too_short"            // too few digits, a local-only number included
	ReasonInvalidLength      Reason = "invalid_length"       // between lengths the country uses
	ReasonUnassigned         Reason = "unassigned"           // right length, but outside every range the plan assigns
	ReasonNotE164            Reason = "not_e164"             // ParseStrict only: not written as +[country code][number]
)

// Number is the result of parsing what someone typed as a phone number.
type Number struct {
	// Raw is the input exactly as given.
	Raw string
	// E164 is "+" and the digits, such as "+17346263333". It is set when the
	// digits have a length the country uses, even if Valid is false (so
	// that duplicates of an unassigned number still match), and is "" when
	// the input cannot be read as a number of a possible length.
	E164 string
	// Extension holds the digits after an extension marker ("x123",
	// "ext. 123", "#123", ";ext=123"). E164 never includes them.
	Extension string
	// Valid is true when the number falls in a range its country assigns.
	Valid bool
	// Reason is "" when Valid, and otherwise says what is wrong.
	Reason Reason
	// Type is Unknown unless Valid.
	Type Type
	// Country is the ISO 3166-1 alpha-2 region, such as "US"; "" unless
	// Valid, and "" for numbers of no country (such as +800 or +882).
	Country string
	// SMSCapable is true for a valid number without an extension whose type
	// is Mobile or FixedLineOrMobile; see [Type.SMSCapable].
	SMSCapable bool
}

// SMSCapable reports whether a number of type t is one Herald texts.
//
// Mobile and FixedLineOrMobile numbers are (the latter is every geographic
// number in the North American plan, where mobiles live among landlines).
// Fixed lines, pagers, voicemail, premium-rate, shared-cost, personal
// (follow-me) and universal access numbers are not. TollFree is not: in the
// US and Canada toll-free numbers can be text-enabled, but they belong to
// businesses that send, not to the consumers a program enrols. VoIP is not:
// plans only type a number as VoIP where VoIP has its own ranges (such as
// the UK's 056), and those rarely receive texts; VoIP services on ordinary
// geographic or mobile numbers are typed as those and pass.
func (t Type) SMSCapable() bool {
	return t == Mobile || t == FixedLineOrMobile
}

// types maps libphonenumber's enum onto Type.
var types = map[phonenumbers.PhoneNumberType]Type{
	phonenumbers.MOBILE:               Mobile,
	phonenumbers.FIXED_LINE:           FixedLine,
	phonenumbers.FIXED_LINE_OR_MOBILE: FixedLineOrMobile,
	phonenumbers.TOLL_FREE:            TollFree,
	phonenumbers.VOIP:                 VoIP,
	phonenumbers.PREMIUM_RATE:         PremiumRate,
	phonenumbers.SHARED_COST:          SharedCost,
	phonenumbers.PAGER:                Pager,
	phonenumbers.UAN:                  UAN,
	phonenumbers.VOICEMAIL:            Voicemail,
	phonenumbers.PERSONAL_NUMBER:      Personal,
}

// possibleReasons maps a failed length check onto a Reason.
var possibleReasons = map[phonenumbers.ValidationResult]Reason{
	phonenumbers.INVALID_COUNTRY_CODE:   ReasonInvalidCountryCode,
	phonenumbers.TOO_SHORT:              ReasonTooShort,
	phonenumbers.IS_POSSIBLE_LOCAL_ONLY: ReasonTooShort,
	phonenumbers.TOO_LONG:               ReasonTooLong,
	phonenumbers.INVALID_LENGTH:         ReasonInvalidLength,
}

// Parse reads raw as a phone number, taking a number written without a
// country code as one of defaultRegion (an ISO 3166-1 alpha-2 code; accounts
// default to "US"). It never panics and never fails: what it cannot read is
// reported through Valid and Reason.
//
// It trims surrounding white space and accepts the ways people write numbers:
// "(734) 626-3333", "734.626.3333", "1-734-626-3333", "+1 734 626 3333",
// "tel:+1-734-626-3333", "+44 (0)7400 123456", and the international prefix
// of defaultRegion ("011 44 7400 123456" from the US, "0044 …" from the UK;
// "00" is not an international prefix in the US and is not taken as one).
// Decimal digits of any script (Arabic-Indic, Devanagari, fullwidth…) count
// as their ASCII digits. Letters make a number invalid (ReasonLetters), so
// vanity numbers such as 1-800-FLOWERS are rejected: they are business
// lines, never a contact's mobile.
func Parse(raw, defaultRegion string) Number {
	n := Number{Raw: raw, Type: Unknown}
	digits, ext, reason := clean(raw)
	if reason != "" {
		n.Reason = reason
		return n
	}
	n.Extension = ext
	pn := &phonenumbers.PhoneNumber{}
	if err := phonenumbers.ParseToNumber(digits, strings.ToUpper(defaultRegion), pn); err != nil {
		n.Reason = parseErrorReason(err)
		return n
	}
	pn = dropMexicanMobileOne(pn)
	if r := phonenumbers.IsPossibleNumberWithReason(pn); r != phonenumbers.IS_POSSIBLE {
		n.Reason = possibleReasons[r]
		if n.Reason == "" {
			n.Reason = ReasonInvalidLength
		}
		return n
	}
	n.E164 = phonenumbers.Format(pn, phonenumbers.E164)
	// A number is valid exactly when its type is known (IsValidNumber
	// computes just that), so asking for the type alone saves a second pass
	// over the metadata.
	t, ok := types[phonenumbers.GetNumberType(pn)]
	if !ok {
		n.Reason = ReasonUnassigned
		return n
	}
	n.Valid, n.Type, n.Country = true, t, country(pn)
	n.SMSCapable = n.Extension == "" && n.Type.SMSCapable()
	return n
}

// IsRegion reports whether code (upper case) is a country or territory that
// phone numbers belong to: the codes Number.Country takes. "XX" passes a
// two-letter check but no number is ever of it.
func IsRegion(code string) bool {
	return len(code) == 2 && phonenumbers.GetCountryCodeForRegion(code) != 0
}

// country returns the ISO region of a valid number, or "" for a number of
// no country. Matching a number against every region that shares its
// calling code is costly (+1 has two dozen), so that is done only when the
// code is shared.
func country(pn *phonenumbers.PhoneNumber) string {
	region := ""
	if regions := phonenumbers.GetRegionCodesForCountryCode(int(pn.GetCountryCode())); len(regions) == 1 {
		region = regions[0]
	} else {
		region = phonenumbers.GetRegionCodeForNumber(pn)
	}
	if len(region) != 2 || region == phonenumbers.UNKNOWN_REGION {
		return "" // "001", the code for non-geographic numbers, among others
	}
	return region
}

// mexicoCode is Mexico's country calling code.
const mexicoCode = 52

// dropMexicanMobileOne removes the "1" that Mexican mobiles were dialled with
// after +52 until Mexico's 2019 numbering reform. Contact lists still carry
// it ("+52 1 55 1234 5678"), and current metadata rejects it as too long.
// Every Mexican national number has ten digits, so an eleven-digit one that
// starts with 1 can only be the old form.
func dropMexicanMobileOne(pn *phonenumbers.PhoneNumber) *phonenumbers.PhoneNumber {
	if pn.GetCountryCode() != mexicoCode {
		return pn
	}
	nsn := phonenumbers.GetNationalSignificantNumber(pn)
	if len(nsn) != 11 || nsn[0] != '1' {
		return pn
	}
	current := &phonenumbers.PhoneNumber{}
	if err := phonenumbers.ParseToNumber("+52"+nsn[1:], "", current); err != nil {
		return pn
	}
	return current
}

// parseErrorReason maps phonenumbers' parse errors onto a Reason.
func parseErrorReason(err error) Reason {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return ReasonInvalidCountryCode
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return ReasonTooLong
	default: // ErrTooShortNSN, ErrNotANumber: clean leaves no other input
		return ReasonTooShort
	}
}
