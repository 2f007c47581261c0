package phone

import (
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

// FuzzParse checks the invariants the rest of Herald relies on: no panic, a
// valid number has an E.164 form that parses back to itself (so it is a
// stable key), only valid numbers are texted, and ParseStrict agrees.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"(734) 626-3333", "+1 734 626 3333", "tel:+1-734-626-3333;ext=12", "1-800-FLOWERS",
		"+44 (0)7400 123456", "٧٣٤٦٢٦٣٣٣٣", "＋１７３４６２６３３３３", "734-626-3333 x123",
		"+52 1 55 1234 5678", "📞", "", "+", "0044 7400 123456", "\xff\xfe", "+800 1234 5678",
	} {
		f.Add(seed, "US")
		f.Add(seed, "GB")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		n := Parse(raw, region)
		require.Equal(t, raw, n.Raw)
		if n.Valid {
			require.Empty(t, n.Reason)
			require.True(t, strings.HasPrefix(n.E164, "+"), "E164 %q", n.E164)
			again := Parse(n.E164, "")
			require.True(t, again.Valid, "re-parse of %q", n.E164)
			require.Equal(t, n.E164, again.E164)
			require.Equal(t, n.Type, again.Type)
			strict, err := ParseStrict(n.E164)
			require.NoError(t, err)
			require.Equal(t, n.E164, strict.E164)
		} else {
			require.NotEmpty(t, n.Reason)
			require.Equal(t, Unknown, n.Type)
			require.Empty(t, n.Country)
		}
		if n.SMSCapable {
			require.True(t, n.Valid)
			require.Empty(t, n.Extension)
		}
		if n.E164 != "" {
			require.LessOrEqual(t, len(n.E164), 1+17+3, "E164 %q", n.E164)
			pn, err := phonenumbers.Parse(n.E164, "")
			require.NoError(t, err)
			require.Equal(t, phonenumbers.IsValidNumber(pn), n.Valid, "validity of %q", n.E164)
			if n.Valid && n.Country != "" {
				require.Equal(t, phonenumbers.GetRegionCodeForNumber(pn), n.Country)
			}
		}
	})
}

// BenchmarkParse measures the per-row cost of normalising numbers during a
// contact import (100k rows must import in well under ten seconds).
func BenchmarkParse(b *testing.B) {
	Parse("(734) 626-3333", "US") // load metadata outside the timing
	for _, bb := range []struct{ name, raw string }{
		{"us_local", "(734) 626-3333"},
		{"us_e164", "+17346263333"},
		{"canada", "+1 416 392 2489"},
		{"uk_mobile", "+44 7400 123456"},
		{"unassigned", "+1 123 456 7890"},
		{"letters", "n/a"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(bb.raw, "US")
			}
		})
	}
}

func BenchmarkTimeZones(b *testing.B) {
	TimeZones("+17346263333")
	b.ReportAllocs()
	for b.Loop() {
		TimeZones("+17346263333")
	}
}
