package consent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type classifyCase struct {
	body    string
	extra   Keywords
	intent  Intent
	rule    Rule
	keyword string
}

// classifyCases are worked out from the rules as specified: carrier keyword
// lists (CTIA/Twilio), the FCC's reasonable-means examples, and the short
// reply limit of 8 words and 60 characters.
var classifyCases = []classifyCase{
	// Standard keywords, matched whole and tolerant of case, spaces, punctuation and emoji.
	{body: "STOP", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "stop", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: " Stop ", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "Stop.", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "stop!!!", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "Stop?", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "\u00a0\u2003STOP\u3000\n", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "ＳＴＯＰ", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "𝐒𝐓𝐎𝐏", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "STOP 🛑", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "“Stop”", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "ST\u00adOP", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "\xffSTOP\xfe", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "STOPALL", intent: IntentOptOutAll, rule: RuleExactKeyword, keyword: "stopall"},
	{body: "Stop all", intent: IntentOptOutAll, rule: RuleExactKeyword, keyword: "stop all"},
	{body: "unsubscribe", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "unsubscribe"},
	{body: "Cancel", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "cancel"},
	{body: "END", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "end"},
	{body: "quit", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "quit"},
	{body: "Revoke", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "revoke"},
	{body: "OPTOUT", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "optout"},
	{body: "opt out", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "opt out"},
	{body: "Opt-Out", intent: IntentOptOut, rule: RuleExactKeyword, keyword: "opt out"},
	{body: "START", intent: IntentOptIn, rule: RuleExactKeyword, keyword: "start"},
	{body: "unstop", intent: IntentOptIn, rule: RuleExactKeyword, keyword: "unstop"},
	{body: "Yes", intent: IntentOptIn, rule: RuleExactKeyword, keyword: "yes"},
	{body: "JOIN!", intent: IntentOptIn, rule: RuleExactKeyword, keyword: "join"},
	{body: "subscribe", intent: IntentOptIn, rule: RuleExactKeyword, keyword: "subscribe"},
	{body: "HELP", intent: IntentHelp, rule: RuleExactKeyword, keyword: "help"},
	{body: "info?", intent: IntentHelp, rule: RuleExactKeyword, keyword: "info"},

	// Spelled out letter by letter: opt-out keywords only.
	{body: "S T O P", intent: IntentOptOut, rule: RuleSpacedKeyword, keyword: "stop"},
	{body: "s.t.o.p.", intent: IntentOptOut, rule: RuleSpacedKeyword, keyword: "stop"},
	{body: "H E L P", intent: IntentNone, rule: RuleNoMatch},

	// Spanish.
	{body: "ALTO", intent: IntentOptOut, rule: RuleSpanishKeyword, keyword: "alto"},
	{body: "parar", intent: IntentOptOut, rule: RuleSpanishKeyword, keyword: "parar"},
	{body: "Para", intent: IntentOptOut, rule: RuleSpanishKeyword, keyword: "para"},
	{body: "BAJA", intent: IntentOptOut, rule: RuleSpanishKeyword, keyword: "baja"},
	{body: "Cancelar.", intent: IntentOptOut, rule: RuleSpanishKeyword, keyword: "cancelar"},
	{body: "DETENER", intent: IntentOptOut, rule: RuleSpanishKeyword, keyword: "detener"},
	{body: "No más mensajes", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "no mas mensajes"},
	{body: "no ma\u0301s mensajes", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "no mas mensajes"},
	{body: "no me envíes más", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "no me envies"},
	{body: "NO ME ENVÍES MÁS", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "no me envies"},
	{body: "Dame de baja por favor", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "dame de baja"},
	{body: "alto por favor", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "alto"},
	{body: "Quiero cancelar mi pedido", intent: IntentReview, rule: RuleMentionsStopShort, keyword: "cancelar"},
	{body: "es para mi hija", intent: IntentNone, rule: RuleNoMatch},

	// Reasonable means: short replies that plainly ask to stop.
	{body: "Stop texting me", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop texting"},
	{body: "please unsubscribe", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "unsubscribe"},
	{body: "opt me out", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "opt me out"},
	{body: "STOP ME", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "no more texts", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "no more texts"},
	{body: "Remove me", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "remove me"},
	{body: "take me off your list", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "take me off"},
	{body: "Don't text me", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "dont text me"},
	{body: "do not text me again", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "do not text me"},
	{body: "leave me alone!!", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "leave me alone"},
	{body: "unsubscribe me please", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "unsubscribe"},
	{body: "Stop stop stop", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "No. Stop.", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "Cancel please", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "cancel"},
	{body: "I quit", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "quit"},
	{body: "STOPALL please", intent: IntentOptOutAll, rule: RuleReasonableMeans, keyword: "stopall"},
	{body: "I don’t want these. Stop", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "Stop, I don't want these", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "please stop ✋", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "Help me stop these texts", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop"},
	{body: "Lose my number", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "lose my number"},
	{body: "I'm no longer interested", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "no longer interested"},
	// 8 words, 41 characters: still short. One more word makes it long.
	{body: "please stop sending me all of these texts", intent: IntentOptOut, rule: RuleReasonableMeans, keyword: "stop sending"},
	{body: "please stop sending me all of these texts now", intent: IntentReview, rule: RuleMentionsStopLong, keyword: "stop sending"},
	// 5 words but 69 characters: long.
	{body: "Unsubscribe: overwhelmingly uninteresting advertisements, notifications.", intent: IntentReview, rule: RuleMentionsStopLong, keyword: "unsubscribe"},

	// Negations and idioms are not opt-outs.
	{body: "don't stop the deals!", intent: IntentNone, rule: RuleNegated, keyword: "stop"},
	{body: "Stop by our store", intent: IntentNone, rule: RuleIdiom, keyword: "stop"},
	{body: "can't stop smiling 😀", intent: IntentNone, rule: RuleNegated, keyword: "stop"},
	{body: "non-stop fun", intent: IntentNone, rule: RuleNegated, keyword: "stop"},
	{body: "Never stop texting me these deals", intent: IntentNone, rule: RuleNegated, keyword: "stop texting"},
	{body: "We'll stop in tomorrow", intent: IntentNone, rule: RuleIdiom, keyword: "stop"},
	{body: "that was our last stop", intent: IntentNone, rule: RuleIdiom, keyword: "stop"},
	{body: "Please don't unsubscribe me", intent: IntentNone, rule: RuleNegated, keyword: "unsubscribe"},
	{body: "I can't quit you", intent: IntentNone, rule: RuleNegated, keyword: "quit"},
	{body: "nonstop savings!", intent: IntentNone, rule: RuleNoMatch},
	{body: "See you at the end", intent: IntentNone, rule: RuleNoMatch},

	// Mentions that only may mean stop go to a person.
	{body: "cancel my order", intent: IntentReview, rule: RuleMentionsStopShort, keyword: "cancel"},
	{body: "Stopped.", intent: IntentReview, rule: RuleMentionsStopShort, keyword: "stopped"},
	{body: "I tried to stop by the store but you were closed, can you cancel my order?", intent: IntentReview, rule: RuleMentionsStopLong, keyword: "cancel"},
	{body: "Hi, I've been getting these texts for weeks now and I really want you to stop texting me", intent: IntentReview, rule: RuleMentionsStopLong, keyword: "stop texting"},
	{body: "Thanks for the reminder, I already redeemed it at the front desk. STOP", intent: IntentReview, rule: RuleMentionsStopLong, keyword: "stop"},
	{body: "We love your deals, please don't ever stop sending them, they are the best in town", intent: IntentNone, rule: RuleNegated, keyword: "stop sending"},
	{body: "Thanks so much for the reward, I will definitely use it when I come in next week", intent: IntentNone, rule: RuleNoMatch},

	// Nothing to read.
	{body: "", intent: IntentNone, rule: RuleEmpty},
	{body: "   \t\n", intent: IntentNone, rule: RuleEmpty},
	{body: "\u00a0\u3000", intent: IntentNone, rule: RuleEmpty},
	{body: "😀👍", intent: IntentNone, rule: RuleNoWords},
	{body: "🛑", intent: IntentNone, rule: RuleNoWords},
	{body: "!!!", intent: IntentNone, rule: RuleNoWords},
	{body: "\u200b", intent: IntentNone, rule: RuleNoWords},

	// Opt-in and help are exact only.
	{body: "Yes please", intent: IntentNone, rule: RuleNoMatch},
	{body: "help me", intent: IntentNone, rule: RuleNoMatch},
	{body: "No", intent: IntentNone, rule: RuleNoMatch},

	// The account's own keywords: exact, normalised the same way, never above a standard opt-out.
	{body: "Arrêt!", extra: Keywords{OptOut: []string{"ARRÊT"}}, intent: IntentOptOut, rule: RuleAccountKeyword, keyword: "arret"},
	{body: "STOP PROMOS", extra: Keywords{OptOut: []string{"stop promos"}}, intent: IntentOptOut, rule: RuleAccountKeyword, keyword: "stop promos"},
	{body: "No", extra: Keywords{OptOut: []string{"NO"}}, intent: IntentOptOut, rule: RuleAccountKeyword, keyword: "no"},
	{body: "oui", extra: Keywords{OptIn: []string{"OUI"}}, intent: IntentOptIn, rule: RuleAccountKeyword, keyword: "oui"},
	{body: "Aide?", extra: Keywords{Help: []string{"AIDE"}}, intent: IntentHelp, rule: RuleAccountKeyword, keyword: "aide"},
	{body: "stop", extra: Keywords{OptIn: []string{"STOP"}, Help: []string{"stop"}}, intent: IntentOptOut, rule: RuleExactKeyword, keyword: "stop"},
	{body: "menu", extra: Keywords{OptOut: []string{"MENU"}, Help: []string{"menu"}}, intent: IntentOptOut, rule: RuleAccountKeyword, keyword: "menu"},
	{body: "hello", extra: Keywords{OptOut: []string{"  ", "!!"}}, intent: IntentNone, rule: RuleNoMatch},
}

func TestClassify(t *testing.T) {
	t.Parallel()

	for i, tc := range classifyCases {
		t.Run(fmt.Sprintf("%02d_%q", i, tc.body), func(t *testing.T) {
			t.Parallel()
			got := Classify(tc.body, tc.extra)
			want := Classification{Intent: tc.intent, Rule: tc.rule, Keyword: tc.keyword}
			require.Equal(t, want, got)
		})
	}
}

// TestClassifyStandardOptOuts checks every carrier opt-out keyword in the forms
// people send it: any case, padded, punctuated, with an emoji.
func TestClassifyStandardOptOuts(t *testing.T) {
	t.Parallel()

	keywords := map[string]Intent{
		"STOP": IntentOptOut, "STOPALL": IntentOptOutAll, "UNSUBSCRIBE": IntentOptOut, "CANCEL": IntentOptOut,
		"END": IntentOptOut, "QUIT": IntentOptOut, "REVOKE": IntentOptOut, "OPTOUT": IntentOptOut,
		"OPT OUT": IntentOptOut, "OPT-OUT": IntentOptOut,
	}
	for kw, want := range keywords {
		for _, body := range []string{kw, strings.ToLower(kw), " " + kw + "! ", kw + ".", kw + " 🛑", "\t" + strings.ToLower(kw) + "?!"} {
			t.Run(body, func(t *testing.T) {
				t.Parallel()
				got := Classify(body, Keywords{})
				require.Equal(t, want, got.Intent)
				require.Equal(t, RuleExactKeyword, got.Rule)
			})
		}
	}
}

func TestWords(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body string
		want []string
	}{
		{"case and punctuation", "Hello, World!", []string{"hello", "world"}},
		{"apostrophes join", "don't can’t won´t", []string{"dont", "cant", "wont"}},
		{"hyphen splits", "non-stop OPT-OUT", []string{"non", "stop", "opt", "out"}},
		{"spanish accents", "NO MÁS, señor; ¿envíes?", []string{"no", "mas", "senor", "envies"}},
		{"combining accent", "ma\u0301s", []string{"mas"}},
		{"full-width", "ＯＰＴ－ＯＵＴ", []string{"opt", "out"}},
		{"math italic and bold", "𝑆𝑡𝑜𝑝 𝐄𝐍𝐃", []string{"stop", "end"}},
		{"emoji and variation selector", "stop\uFE0F👍🏽now", []string{"stop", "now"}},
		{"digits kept", "stop2 3x", []string{"stop2", "3x"}},
		{"nothing", " \t😀 ", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, words(tc.body))
		})
	}
}
