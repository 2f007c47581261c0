package phone

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// ok is a valid number as its country's numbering plan types it.
func ok(e164 string, typ Type, country string, sms bool) Number {
	return Number{E164: e164, Valid: true, Type: typ, Country: country, SMSCapable: sms}
}

// bad is input that is not a number of a possible length.
func bad(reason Reason) Number {
	return Number{Type: Unknown, Reason: reason}
}

// unassigned is a number of a possible length outside every assigned range.
func unassigned(e164 string) Number {
	return Number{E164: e164, Type: Unknown, Reason: ReasonUnassigned}
}

// withExt adds an extension to an expected number; a number reached through
// an extension is never texted.
func withExt(n Number, ext string) Number {
	n.Extension, n.SMSCapable = ext, false
	return n
}

// The expected values come from the numbering plans: NANP (10-digit
// NXX-NXX-XXXX, area and exchange codes starting 2-9; 800/888 toll-free,
// 900 premium), Ofcom's UK plan (07 mobile, 020 London, 03 UAN, 056 VoIP,
// 070 personal, 080 free, 09 premium), Germany's (015x mobile, 030 Berlin),
// Mexico's 2019 plan (the mobile "1" after +52 dropped), Guernsey's 07911 1
// mobiles inside +44, India's (9x mobile,
// 10 digits), Australia's (04 mobile, 02 Sydney) and ITU's +800 freephone.
func TestParse(t *testing.T) {
	t.Parallel()
	us := ok("+17346263333", FixedLineOrMobile, "US", true)
	gbMobile := ok("+447400123456", Mobile, "GB", true)
	tests := []struct {
		name, raw, region string
		want              Number
	}{
		{"US parentheses", "(734) 626-3333", "US", us},
		{"US dots", "734.626.3333", "US", us},
		{"US dashes", "734-626-3333", "US", us},
		{"US bare digits", "7346263333", "US", us},
		{"US trunk 1 spaces", "1 734 626 3333", "US", us},
		{"US trunk 1 dashes", "1-734-626-3333", "US", us},
		{"plus one spaces", "+1 734 626 3333", "US", us},
		{"plus one dots", "+1.734.626.3333", "US", us},
		{"plus one parentheses", "+1 (734) 626-3333", "US", us},
		{"E.164", "+17346263333", "US", us},
		{"surrounding white space", "  +1 734 626 3333\t\n", "US", us},
		{"no-break and zero-width spaces", "734\u00a0626\u200b3333", "US", us},
		{"tel URI", "tel:+1-734-626-3333", "US", us},
		{"tel URI upper case", "TEL:+17346263333", "US", us},
		{"lower-case region", "734-626-3333", "us", us},
		{"E.164 with another default region", "+17346263333", "GB", us},
		{"Arabic-Indic digits", "٧٣٤٦٢٦٣٣٣٣", "US", us},
		{"Extended Arabic-Indic digits", "۷۳۴۶۲۶۳۳۳۳", "US", us},
		{"Devanagari digits", "७३४६२६३३३३", "US", us},
		{"fullwidth digits and plus", "＋１ ７３４ ６２６ ３３３３", "US", us},
		{"fullwidth parentheses", "（７３４）６２６－３３３３", "US", us},
		{"Canada from US default", "416-392-2489", "US", ok("+14163922489", FixedLineOrMobile, "CA", true)},
		{"Puerto Rico", "+1 787 722 1000", "US", ok("+17877221000", FixedLineOrMobile, "PR", true)},
		{"toll-free 800", "1-800-356-9377", "US", ok("+18003569377", TollFree, "US", false)},
		{"toll-free 888", "(888) 221-1161", "US", ok("+18882211161", TollFree, "US", false)},
		{"premium 900", "1-900-226-4321", "US", ok("+19002264321", PremiumRate, "US", false)},
		{"extension x", "734-626-3333 x123", "US", withExt(us, "123")},
		{"extension ext.", "(734) 626-3333 ext. 45", "US", withExt(us, "45")},
		{"extension hash", "+1 734 626 3333 #7", "US", withExt(us, "7")},
		{"extension in tel URI", "tel:+1-734-626-3333;ext=123", "US", withExt(us, "123")},
		{"unassigned area code 123", "+1 123 456 7890", "US", unassigned("+11234567890")},
		{"UK mobile", "+44 7400 123456", "US", gbMobile},
		{"UK mobile national", "07400 123456", "GB", gbMobile},
		{"UK mobile with (0)", "+44 (0)7400 123456", "US", gbMobile},
		{"UK mobile via US 011", "011 44 7400 123456", "US", gbMobile},
		{"UK mobile via UK 00", "0044 7400 123456", "GB", gbMobile},
		{"Guernsey mobile shares +44", "+44 7911 123456", "US", ok("+447911123456", Mobile, "GG", true)},
		{"UK landline London", "+44 20 7219 3000", "US", ok("+442072193000", FixedLine, "GB", false)},
		{"UK freephone 0800", "+44 800 123 4567", "US", ok("+448001234567", TollFree, "GB", false)},
		{"UK premium 09", "+44 909 876 5432", "US", ok("+449098765432", PremiumRate, "GB", false)},
		{"UK UAN 03", "+44 303 123 4567", "US", ok("+443031234567", UAN, "GB", false)},
		{"UK VoIP 056", "+44 56 1234 5678", "US", ok("+445612345678", VoIP, "GB", false)},
		{"UK personal 070", "+44 70 1234 5678", "US", ok("+447012345678", Personal, "GB", false)},
		{"DE mobile", "+49 1512 3456789", "US", ok("+4915123456789", Mobile, "DE", true)},
		{"DE mobile national", "01512 3456789", "DE", ok("+4915123456789", Mobile, "DE", true)},
		{"DE landline Berlin", "+49 30 12345678", "US", ok("+493012345678", FixedLine, "DE", false)},
		{"US from DE via 00", "00 1 734 626 3333", "DE", us},
		{"MX mobile with the old 1", "+52 1 55 1234 5678", "US", ok("+525512345678", FixedLineOrMobile, "MX", true)},
		{"IN mobile", "+91 98765 43210", "US", ok("+919876543210", Mobile, "IN", true)},
		{"IN mobile national 0", "098765 43210", "IN", ok("+919876543210", Mobile, "IN", true)},
		{"AU mobile", "+61 412 345 678", "US", ok("+61412345678", Mobile, "AU", true)},
		{"AU mobile national", "0412 345 678", "AU", ok("+61412345678", Mobile, "AU", true)},
		{"AU landline Sydney", "(02) 9876 5432", "AU", ok("+61298765432", FixedLine, "AU", false)},
		{"FR mobile", "+33 6 12 34 56 78", "US", ok("+33612345678", Mobile, "FR", true)},
		{"universal freephone has no country", "+800 1234 5678", "US", ok("+80012345678", TollFree, "", false)},
		{"empty", "", "US", bad(ReasonEmpty)},
		{"only spaces", "   \t ", "US", bad(ReasonEmpty)},
		{"only dashes", "---", "US", bad(ReasonNoDigits)},
		{"only plus", "+", "US", bad(ReasonNoDigits)},
		{"letters only", "phone", "US", bad(ReasonLetters)},
		{"n/a", "n/a", "US", bad(ReasonLetters)},
		{"vanity", "1-800-FLOWERS", "US", bad(ReasonLetters)},
		{"vanity mixed", "1 (800) 356-ROSE", "US", bad(ReasonLetters)},
		{"annotation", "+1 734 626 3333 (cell)", "US", bad(ReasonLetters)},
		{"dangling x", "734-626-3333 x", "US", bad(ReasonLetters)},
		{"too many extension digits", "734-626-3333 x12345678", "US", bad(ReasonLetters)},
		{"Cyrillic letters", "тел 734 626 3333", "US", bad(ReasonLetters)},
		{"emoji after", "734-626-3333 📱", "US", bad(ReasonBadCharacters)},
		{"emoji before", "📞 +1 734 626 3333", "US", bad(ReasonBadCharacters)},
		{"comma", "734,626,3333", "US", bad(ReasonBadCharacters)},
		{"double plus", "++17346263333", "US", bad(ReasonBadCharacters)},
		{"plus in the middle", "734+626+3333", "US", bad(ReasonBadCharacters)},
		{"hash without extension", "734-626-3333#", "US", bad(ReasonBadCharacters)},
		{"invalid UTF-8", "\xff7346263333", "US", bad(ReasonBadCharacters)},
		{"right-to-left override", "\u202E3333-626-437", "US", bad(ReasonBadCharacters)},
		{"byte order mark and marks", "\uFEFF\u200E+1 734 626 3333\u200F", "US", us},
		{"emergency 911", "911", "US", bad(ReasonTooShort)},
		{"five digits", "12345", "US", bad(ReasonTooShort)},
		{"seven-digit local only", "626-3333", "US", bad(ReasonTooShort)},
		{"eleven digits with leading zero", "0734 626 3333", "US", bad(ReasonTooLong)},
		{"UK national from US default", "07400 123456", "US", bad(ReasonTooLong)},
		{"00 is not a US international prefix", "0044 7400 123456", "US", bad(ReasonTooLong)},
		{"sixteen digits", "7346263333123456", "US", bad(ReasonTooLong)},
		{"over the byte cap", strings.Repeat("1", MaxInputBytes+1), "US", bad(ReasonTooLong)},
		{"unassigned country code", "+999 1234 5678", "US", bad(ReasonInvalidCountryCode)},
		{"no default region", "734-626-3333", "", bad(ReasonInvalidCountryCode)},
		{"unknown default region", "734-626-3333", "QQ", bad(ReasonInvalidCountryCode)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want
			want.Raw = tt.raw
			require.Equal(t, want, Parse(tt.raw, tt.region))
		})
	}
}

func TestParseStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, e164 string
		err             error
	}{
		{"E.164", "+17346263333", "+17346263333", nil},
		{"spaces", "+1 734 626 3333", "+17346263333", nil},
		{"hyphens", "+1-734-626-3333", "+17346263333", nil},
		{"surrounding spaces", " +447911123456 ", "+447911123456", nil},
		{"toll-free is well formed and valid", "+18003569377", "+18003569377", nil},
		{"no plus", "17346263333", "", ErrNotE164},
		{"national", "(734) 626-3333", "", ErrNotE164},
		{"parentheses", "+1 (734) 626-3333", "", ErrNotE164},
		{"trunk zero", "+44 (0)7911 123456", "", ErrNotE164},
		{"dots", "+1.734.626.3333", "", ErrNotE164},
		{"double space", "+1  734 626 3333", "", ErrNotE164},
		{"trailing hyphen", "+17346263333-", "", ErrNotE164},
		{"space after plus", "+ 17346263333", "", ErrNotE164},
		{"country code 0", "+07346263333", "", ErrNotE164},
		{"sixteen digits", "+1734626333312345", "", ErrNotE164},
		{"extension", "+17346263333 x1", "", ErrNotE164},
		{"fullwidth", "＋１７３４６２６３３３３", "", ErrNotE164},
		{"letters", "+1800FLOWERS", "", ErrNotE164},
		{"empty", "", "", ErrNotE164},
		{"tel URI", "tel:+17346263333", "", ErrNotE164},
		{"unassigned area code", "+11234567890", "+11234567890", ErrInvalidNumber},
		{"unassigned country code", "+99912345678", "", ErrInvalidNumber},
		{"too short", "+1734", "", ErrInvalidNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := ParseStrict(tt.raw)
			require.ErrorIs(t, err, tt.err)
			require.Equal(t, tt.raw, n.Raw)
			require.Equal(t, tt.e164, n.E164)
			require.Equal(t, err == nil, n.Valid)
			require.Equal(t, err == nil, n.Reason == "")
			if errors.Is(err, ErrNotE164) {
				require.Equal(t, ReasonNotE164, n.Reason)
			}
		})
	}
}

// Zones come from the IANA database's own coverage: New York City, Hawaii,
// Berlin and Tokyo each lie in exactly one zone.
func TestTimeZones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, e164 string
		want       []string
	}{
		{"New York City 212", "+12127363100", []string{"America/New_York"}},
		{"Hawaii 808", "+18085868121", []string{"Pacific/Honolulu"}},
		{"Berlin", "+493012345678", []string{"Europe/Berlin"}},
		{"Tokyo", "+81312345678", []string{"Asia/Tokyo"}},
		{"spaces allowed as in ParseStrict", "+1 212 736 3100", []string{"America/New_York"}},
		{"not E.164", "2127363100", nil},
		{"unassigned", "+11234567890", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, TimeZones(tt.e164))
		})
	}
}

func TestTimeZonesReturnsACopy(t *testing.T) {
	t.Parallel()
	zones := TimeZones("+493012345678")
	require.NotEmpty(t, zones)
	zones[0] = "Mars/Olympus_Mons"
	require.Equal(t, []string{"Europe/Berlin"}, TimeZones("+493012345678"))
}

// digitValue relies on Unicode's promise that decimal digits come in runs of
// ten from zero; this checks the promise holds in the tables Go ships.
func TestDigitValueCoversEveryDecimalDigit(t *testing.T) {
	t.Parallel()
	check := func(lo, hi, stride uint32) {
		require.Equal(t, uint32(1), stride, "range %U-%U", lo, hi)
		require.Zero(t, (hi-lo+1)%10, "range %U-%U", lo, hi)
		for r := lo; r <= hi; r++ {
			require.Equal(t, byte((r-lo)%10), digitValue(rune(r)), "%U", r)
		}
	}
	for _, rg := range unicode.Nd.R16 {
		check(uint32(rg.Lo), uint32(rg.Hi), uint32(rg.Stride))
	}
	for _, rg := range unicode.Nd.R32 {
		check(rg.Lo, rg.Hi, rg.Stride)
	}
	// Spot checks against the code charts: MATHEMATICAL BOLD DIGIT SEVEN,
	// THAI DIGIT FIVE, BENGALI DIGIT NINE.
	require.Equal(t, byte(7), digitValue('\U0001D7D5'))
	require.Equal(t, byte(5), digitValue('\u0E55'))
	require.Equal(t, byte(9), digitValue('\u09EF'))
}

func TestIsRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want bool
	}{
		{"US", true},
		{"CA", true},
		{"GB", true},
		{"PR", true}, // a territory sharing +1 with the US
		{"XX", false},
		{"EU", false}, // reserved for the European Union: no phone number is of it
		{"ZZ", false}, // the library's unknown region
		{"001", false},
		{"us", false}, // callers upper-case first
		{"", false},
		{"USA", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, IsRegion(tt.code), "%q", tt.code)
	}
}
