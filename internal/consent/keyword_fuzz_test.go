package consent

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzOptOuts are the carrier opt-out keywords as the CTIA and Twilio list them.
var fuzzOptOuts = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT", "OPT-OUT"}

// fuzzIntents says which intents each rule may decide.
var fuzzIntents = map[Rule][]Intent{
	RuleExactKeyword:      {IntentOptOut, IntentOptOutAll, IntentOptIn, IntentHelp},
	RuleAccountKeyword:    {IntentOptOut, IntentOptIn, IntentHelp},
	RuleSpanishKeyword:    {IntentOptOut},
	RuleSpacedKeyword:     {IntentOptOut, IntentOptOutAll},
	RuleReasonableMeans:   {IntentOptOut, IntentOptOutAll},
	RuleMentionsStopShort: {IntentReview},
	RuleMentionsStopLong:  {IntentReview},
	RuleNegated:           {IntentNone},
	RuleIdiom:             {IntentNone},
	RuleNoMatch:           {IntentNone},
	RuleEmpty:             {IntentNone},
	RuleNoWords:           {IntentNone},
}

// FuzzClassify feeds arbitrary bodies (invalid UTF-8 included) to Classify:
// it must not panic, must answer a known intent by a rule that may decide it,
// must ignore surrounding white space and ASCII case, and must opt out a body
// that is exactly a standard opt-out keyword in any case, whatever the
// account's own opt-in and help words are.
func FuzzClassify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.body, uint8(0), uint64(0))
	}
	f.Add("sToP", uint8(3), uint64(0xA5A5))
	f.Add(strings.Repeat("stop by ", 300), uint8(9), ^uint64(0))

	f.Fuzz(func(t *testing.T, body string, pick uint8, caseBits uint64) {
		got := Classify(body, Keywords{})
		require.Contains(t, fuzzIntents, got.Rule)
		require.Contains(t, fuzzIntents[got.Rule], got.Intent)
		require.Equal(t, strings.Join(strings.Fields(got.Keyword), " "), got.Keyword)
		require.Equal(t, got, Classify(" \t"+body+"\n\u00a0", Keywords{}))
		if isASCII(body) {
			require.Equal(t, got, Classify(strings.ToUpper(body), Keywords{}))
			require.Equal(t, got, Classify(strings.ToLower(body), Keywords{}))
		}

		kw := []byte(fuzzOptOuts[int(pick)%len(fuzzOptOuts)])
		for i := range kw {
			if caseBits&(1<<(i%64)) != 0 {
				kw[i] = strings.ToLower(string(kw[i]))[0]
			}
		}
		stop := Classify(string(kw), Keywords{OptIn: []string{body, string(kw)}, Help: []string{body, string(kw)}})
		require.Contains(t, []Intent{IntentOptOut, IntentOptOutAll}, stop.Intent, "%q", kw)
		require.Equal(t, RuleExactKeyword, stop.Rule)
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
