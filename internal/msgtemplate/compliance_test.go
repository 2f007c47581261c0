package msgtemplate

import (
	"strings"
	"testing"

	"github.com/heraldsms/herald/internal/segment"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	t.Parallel()

	const brand = "Acme Coffee"
	// A concatenated GSM-7 segment holds 153 characters (GSM 03.40 user
	// data header), so 459 is the most that fits in 3 segments.
	threeSegments := strings.Repeat("a", 459)
	tests := []struct {
		name     string
		kind     Kind
		body     string
		noBrand  bool // the account has no brand name set
		problems []string
		warnings []string
	}{
		{name: "transactional needs neither sender nor opt-out", kind: KindTransactional,
			body: "Your reward is approved."},
		{name: "marketing with brand and opt-out", kind: KindMarketing,
			body: "Acme Coffee: 20% off today! Reply STOP to opt out"},
		{name: "brand in any case", kind: KindMarketing,
			body: "ACME COFFEE: 20% off today! Reply STOP to opt out"},
		{name: "brand tag with no brand configured", kind: KindMarketing, noBrand: true,
			body: "{{brand}}: 20% off today! Reply STOP to opt out"},
		{name: "brand tag with a default", kind: KindMarketing,
			body: `{{ brand | default: "Acme" }}: 20% off! Reply STOP to opt out`},
		{name: "missing sender", kind: KindMarketing,
			body: "20% off today! Reply STOP to opt out", problems: []string{CodeMissingSenderID}},
		{name: "missing opt-out", kind: KindMarketing,
			body: "Acme Coffee: 20% off today!", problems: []string{CodeMissingOptOut}},
		{name: "missing both", kind: KindMarketing,
			body: "20% off today!", problems: []string{CodeMissingSenderID, CodeMissingOptOut}},
		{name: "Text STOP to stop", kind: KindMarketing, body: "Acme Coffee deals. Text STOP to stop"},
		{name: "STOP to end", kind: KindMarketing, body: "Acme Coffee deals. STOP to end"},
		{name: "Txt STOP to unsubscribe", kind: KindMarketing, body: "Acme Coffee deals. Txt STOP to unsubscribe"},
		{name: "Reply STOP to cancel", kind: KindMarketing, body: "Acme Coffee deals. Reply STOP to cancel"},
		{name: "Reply STOP 2 end", kind: KindMarketing, body: "Acme Coffee deals. Reply STOP 2 end"},
		{name: "opt-out wording first", kind: KindMarketing, body: "Acme Coffee deals. To opt-out, reply STOP."},
		{name: "lower-case stop after a verb", kind: KindMarketing, body: "Acme Coffee deals. reply stop to quit"},
		{name: "STOP in quotes", kind: KindMarketing, body: `Acme Coffee deals. Reply "STOP" to unsubscribe.`},
		{name: "Reply STOP alone says nothing of opting out", kind: KindMarketing,
			body: "Acme Coffee deals. Reply STOP", problems: []string{CodeMissingOptOut}},
		{name: "stop as an ordinary word", kind: KindMarketing,
			body: "Acme Coffee: don't stop now, the deal lasts to the end of May", problems: []string{CodeMissingOptOut}},
		{name: "opt-out only in a fallback", kind: KindMarketing,
			body: `Acme Coffee deals. {{first_name | default: "Reply STOP to opt out"}}`, problems: []string{CodeMissingOptOut}},
		{name: "brand only in a fallback", kind: KindMarketing,
			body: `{{first_name | default: "Acme Coffee"}} deals. Reply STOP to opt out`, problems: []string{CodeMissingSenderID}},
		{name: "opt-out around a tag", kind: KindMarketing, body: "Acme Coffee deals. Reply STOP {{brand}} to opt out"},
		{name: "unparseable body judged on raw text", kind: KindMarketing,
			body: "{{brand}} {{frist_name}} Reply STOP to opt out"},
		{name: "invalid kind", kind: "promo", body: "Hello", problems: []string{CodeInvalidKind}},
		{name: "bit.ly link", kind: KindTransactional, body: "Claim it: https://bit.ly/3xYz",
			warnings: []string{CodeThirdPartyShortener}},
		{name: "shortener with www and upper case", kind: KindTransactional, body: "Claim it: HTTPS://WWW.TinyURL.com/abc",
			warnings: []string{CodeThirdPartyShortener}},
		{name: "shortener ending a sentence", kind: KindTransactional, body: "Claim it at is.gd.",
			warnings: []string{CodeThirdPartyShortener}},
		{name: "look-alike hosts are not shorteners", kind: KindTransactional,
			body: "See at.com, microsoft.com, mybit.ly.example.org and t.com"},
		{name: "three segments is fine", kind: KindTransactional, body: threeSegments},
		{name: "four segments warns", kind: KindTransactional, body: threeSegments + "a",
			warnings: []string{CodeTooManySegments}},
		{name: "segments counted after rendering", kind: KindTransactional,
			body: strings.Repeat("a", 440) + " {{referral_link}}", warnings: []string{CodeTooManySegments}},
		{name: "marketing problems and warnings together", kind: KindMarketing,
			body: "Deals at bit.ly/x " + threeSegments, problems: []string{CodeMissingSenderID, CodeMissingOptOut},
			warnings: []string{CodeTooManySegments, CodeThirdPartyShortener}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := brand
			if tt.noBrand {
				b = ""
			}
			res := Check(tt.kind, tt.body, b)
			require.Equal(t, tt.problems, codes(res.Problems), "problems")
			require.Equal(t, tt.warnings, codes(res.Warnings), "warnings")
			require.Equal(t, len(tt.problems) == 0, res.OK())
			for _, f := range append(res.Problems, res.Warnings...) {
				require.NotEmpty(t, f.Message)
			}
		})
	}
}

func codes(fs []Finding) []string {
	if len(fs) == 0 {
		return nil
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Code
	}
	return out
}

func TestCheckPreviewUsesAccountBrand(t *testing.T) {
	t.Parallel()
	res := Check(KindMarketing, "{{brand}}: hi {{first_name}}! Reply STOP to opt out", "Blue Bottle")
	require.True(t, res.OK())
	require.Equal(t, "Blue Bottle: hi Alex! Reply STOP to opt out", res.Preview)
	require.Equal(t, segment.Count(res.Preview), res.Count)
	require.Equal(t, 1, res.Count.Segments)
}
