package consent

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Intent is what an inbound reply asks of Herald.
type Intent string

// The intents. Review means the reply may ask to stop but no rule is sure
// enough to act on it: a person decides, and it is never silently dropped.
const (
	IntentOptOut    Intent = "opt_out"
	IntentOptOutAll Intent = "opt_out_all"
	IntentOptIn     Intent = "opt_in"
	IntentHelp      Intent = "help"
	IntentReview    Intent = "review"
	IntentNone      Intent = "none"
)

// Rule names the rule that decided a Classification. It is kept with the
// consent record as evidence, so the names are stable.
type Rule string

// The rules, from the most certain to the least. A long reply goes to review
// even when it asks to stop: too much else is said in it to act without a
// person. Negated and idiom mean every stop word in the reply was one.
const (
	RuleExactKeyword      Rule = "exact_keyword"       // the whole reply is a standard keyword, as carriers match it
	RuleAccountKeyword    Rule = "account_keyword"     // the whole reply is one of the account's own keywords
	RuleSpanishKeyword    Rule = "spanish_keyword"     // the whole reply is a Spanish opt-out word (ALTO, BAJA…)
	RuleSpacedKeyword     Rule = "spaced_keyword"      // an opt-out keyword spelled out ("S T O P")
	RuleReasonableMeans   Rule = "reasonable_means"    // a short reply that plainly asks to stop
	RuleMentionsStopShort Rule = "mentions_stop_short" // a short reply that may mean stop ("cancel my order")
	RuleMentionsStopLong  Rule = "mentions_stop_long"  // a long reply that mentions stopping
	RuleNegated           Rule = "negated"             // "don't stop", "can't stop", "non-stop"
	RuleIdiom             Rule = "idiom"               // "stop by", "bus stop"
	RuleNoMatch           Rule = "no_match"            // words, none of them about consent
	RuleEmpty             Rule = "empty"               // nothing but white space
	RuleNoWords           Rule = "no_words"            // no letter or digit at all (emoji, punctuation)
)

// Classification is the decision on one inbound reply and the evidence for it.
type Classification struct {
	Intent Intent `json:"intent"`
	Rule   Rule   `json:"rule"`
	// Keyword is the normalised keyword or phrase that decided: lower case,
	// accents folded, punctuation dropped, one space between words.
	Keyword string `json:"keyword,omitempty"`
}

// Keywords are an account's own words, added to the standard ones. They match
// only a whole reply, after the same normalisation as the standard words.
type Keywords struct {
	OptOut []string `json:"opt_out,omitempty"`
	OptIn  []string `json:"opt_in,omitempty"`
	Help   []string `json:"help,omitempty"`
}

// A reply is short when it has at most maxShortWords words and its normalised
// text at most maxShortChars characters: about one breath, where the whole
// reply is the request. Emoji and punctuation are not counted.
const (
	maxShortWords = 8
	maxShortChars = 60
)

// Classify decides what an inbound SMS body asks for. It does no I/O.
//
// Carriers (and Twilio's Advanced Opt-Out) act on a reply that is exactly one
// standard keyword, so that layer comes first and is deliberately tolerant:
// case, surrounding white space, punctuation and emoji are ignored ("Stop.",
// " stop!! ", "STOP 🛑"), as are full-width or styled letters. Under the
// FCC's TCPA consent-revocation rule (in force since April 2025), a consumer
// may also revoke consent by any reasonable means, and a reply using "stop",
// "quit", "end", "revoke", "opt out", "cancel" or "unsubscribe" is one. So a
// short reply that plainly asks to stop ("please unsubscribe", "no más
// mensajes") opts out too; one that only may mean it ("cancel my order", or
// anything long that mentions stopping) goes to review; and negations and
// idioms ("don't stop the deals", "stop by our store", "non-stop") do not opt
// out. Where a short reply is unclear the rules lean to opting out: a wrong
// opt-out costs the contact a START, a missed one breaks the law.
//
// Opt-in and help are matched exactly only: an opt-in misread from a sentence
// would send texts to someone who never asked for them.
//
// Every opt-out beats help and opt-in, and the standard words beat the
// account's own, so no account keyword can stop STOP from working.
func Classify(body string, extra Keywords) Classification {
	if strings.TrimFunc(body, unicode.IsSpace) == "" {
		return Classification{Intent: IntentNone, Rule: RuleEmpty}
	}
	ws := words(body)
	if len(ws) == 0 {
		return Classification{Intent: IntentNone, Rule: RuleNoWords}
	}
	text := strings.Join(ws, " ")
	if c, ok := exact(text, extra); ok {
		return c
	}
	if c, ok := spaced(ws); ok {
		return c
	}
	c := scan(ws)
	short := len(ws) <= maxShortWords && utf8.RuneCountInString(text) <= maxShortChars
	if !short && (c.Intent == IntentOptOut || c.Intent == IntentOptOutAll || c.Intent == IntentReview) {
		return Classification{Intent: IntentReview, Rule: RuleMentionsStopLong, Keyword: c.Keyword}
	}
	return c
}

// standardKeywords are the carriers' standard keywords (CTIA, Twilio), plus
// "STOP ALL" as two words. OPT-OUT normalises to "opt out".
var standardKeywords = map[string]Intent{
	"stop": IntentOptOut, "unsubscribe": IntentOptOut, "cancel": IntentOptOut, "end": IntentOptOut,
	"quit": IntentOptOut, "revoke": IntentOptOut, "optout": IntentOptOut, "opt out": IntentOptOut,
	"stopall": IntentOptOutAll, "stop all": IntentOptOutAll,
	"start": IntentOptIn, "unstop": IntentOptIn, "yes": IntentOptIn, "join": IntentOptIn, "subscribe": IntentOptIn,
	"help": IntentHelp, "info": IntentHelp,
}

// spanishKeywords opt out when they are the whole reply. Alone, PARA ("stop!")
// is clear; inside a sentence it means "for", so it is never looked for there.
var spanishKeywords = wordSet("alto parar para baja cancelar detener")

// exact matches the whole normalised reply against the keywords, opt-out
// first, then help, then opt-in; the standard words before the account's.
func exact(text string, extra Keywords) (Classification, bool) {
	std, isStd := standardKeywords[text]
	if isStd && (std == IntentOptOut || std == IntentOptOutAll) {
		return Classification{Intent: std, Rule: RuleExactKeyword, Keyword: text}, true
	}
	if spanishKeywords[text] {
		return Classification{Intent: IntentOptOut, Rule: RuleSpanishKeyword, Keyword: text}, true
	}
	steps := []struct {
		intent Intent
		own    []string
	}{{IntentOptOut, extra.OptOut}, {IntentHelp, extra.Help}, {IntentOptIn, extra.OptIn}}
	for _, s := range steps {
		if isStd && std == s.intent {
			return Classification{Intent: s.intent, Rule: RuleExactKeyword, Keyword: text}, true
		}
		for _, w := range s.own {
			if strings.Join(words(w), " ") == text {
				return Classification{Intent: s.intent, Rule: RuleAccountKeyword, Keyword: text}, true
			}
		}
	}
	return Classification{}, false
}

// spaced catches an opt-out keyword typed one letter at a time ("S T O P",
// "s.t.o.p"). Carriers would not match it, but its meaning is plain.
func spaced(ws []string) (Classification, bool) {
	if len(ws) < 3 {
		return Classification{}, false
	}
	for _, w := range ws {
		if utf8.RuneCountInString(w) != 1 {
			return Classification{}, false
		}
	}
	joined := strings.Join(ws, "")
	if in := standardKeywords[joined]; in == IntentOptOut || in == IntentOptOutAll {
		return Classification{Intent: in, Rule: RuleSpacedKeyword, Keyword: joined}, true
	}
	if spanishKeywords[joined] {
		return Classification{Intent: IntentOptOut, Rule: RuleSpacedKeyword, Keyword: joined}, true
	}
	return Classification{}, false
}

// phrase is a run of words, each given as its alternatives.
type phrase [][]string

// optOutPhrases plainly ask to stop wherever they appear, unless negated. A
// word with alternatives is written "a|b|c".
var optOutPhrases = phrases(
	"opt|opting out",
	"opt me|us out",
	"remove|delete|erase|lose me|us",
	"remove|delete|erase|lose my|this|our number|phone|info|contact",
	"take me|us off",
	"take my|this|our number off",
	"leave me|us alone",
	"no more texts|text|txts|messages|message|msgs|sms|spam",
	"no longer want|wish|need|interested",
	"dont|never text|txt|message|msg|sms|contact|call|email|send|spam me|us|this|again|anymore|any|my",
	"do not text|txt|message|msg|sms|contact|call|email|send|spam me|us|this|again|anymore|any|my",
	"stop|quit texting|messaging|contacting|sending|spamming|calling|emailing",
	"no mas mensajes|mensaje|textos|texto|sms|msj",
	"no me envies|envie|envien|mandes|mande|manden|escribas|escriba|escriban|contactes|contacten|molesten",
	"dame|darme|denme|deme de baja",
	"deja|dejen|dejar de enviar|enviarme|mandar|mandarme|escribir|escribirme|molestar|molestarme",
	"ya no quiero",
	"no quiero recibir|mas|mensajes",
	"quitame|quitenme|borrame|borrenme|eliminame|eliminenme|sacame|sacarme|desuscribirme|desuscribeme",
)

func phrases(specs ...string) []phrase {
	out := make([]phrase, len(specs))
	for i, s := range specs {
		for _, w := range strings.Fields(s) {
			out[i] = append(out[i], strings.Split(w, "|"))
		}
	}
	return out
}

func (p phrase) matchAt(ws []string, i int) bool {
	if i+len(p) > len(ws) {
		return false
	}
	for k, alts := range p {
		if !slices.Contains(alts, ws[i+k]) {
			return false
		}
	}
	return true
}

// What a single word can do in a reply that is not an exact keyword.
const (
	strong  uint8 = 1 << iota // opts out unless negated or an idiom
	weak                      // opts out only when every other word is filler ("cancel please")
	mention                   // flags the reply for review
	filler                    // adds nothing to a weak word ("please", "now", "texts")
)

// wordFlags holds what each word can do. "end", "alto" and "baja" are too
// common as plain words ("at the end", "precio alto") to flag a reply alone.
var wordFlags = func() map[string]uint8 {
	m := map[string]uint8{}
	add := func(flags uint8, list string) {
		for _, w := range strings.Fields(list) {
			m[w] |= flags
		}
	}
	add(strong|mention, "stop stopall unsubscribe unsub optout revoke")
	add(weak|mention, "quit cancel cancelar detener parar")
	add(weak, "end alto baja")
	add(mention, "stops stopped stopping unsubscribed unsubscribing quits quitting cancels cancelled canceled "+
		"cancelling canceling cancellation revoked remove removed removing desuscribir")
	add(filler, "please pls plz now right immediately asap already just i we want to it all this these that them "+
		"me my us our you thanks thank thx ok okay yes no text texts txt messages message msgs sms subscription number "+
		"por favor ya mi los todo todos quiero mensajes suscripcion gracias")
	return m
}()

// negators before a word (at most one of intensifiers between) mean the
// opposite: "don't stop", "can't stop", "do not stop", "never ever stop",
// "non-stop". Plain "no" is not one: "No. Stop." asks to stop.
var (
	negators     = wordSet("dont not never cant cannot wont non didnt doesnt couldnt wouldnt shouldnt isnt aint nunca")
	intensifiers = wordSet("ever even really just")
)

// Idioms in which "stop" is a visit or a place, not a request.
var (
	stopIdiomAfter  = wordSet("by in into over sign signs light lights")
	stopIdiomBefore = wordSet("bus pit one last next full truck rest first")
)

// scan reads a reply that is not an exact keyword, as if it were short:
// the first plain request to stop opts out (reasonable means); otherwise the
// first mention not explained away is for review; otherwise the first
// negation or idiom is kept as the reason for doing nothing.
func scan(ws []string) Classification {
	explained := make([]bool, len(ws))
	why := Classification{Intent: IntentNone, Rule: RuleNoMatch}
	explain := func(i, n int, rule Rule) {
		for k := i; k < i+n; k++ {
			explained[k] = true
		}
		if why.Rule == RuleNoMatch {
			why = Classification{Intent: IntentNone, Rule: rule, Keyword: strings.Join(ws[i:i+n], " ")}
		}
	}
	for _, p := range optOutPhrases {
		for i := range ws {
			switch {
			case !p.matchAt(ws, i):
			case negated(ws, i):
				explain(i, len(p), RuleNegated)
			default:
				return Classification{Intent: IntentOptOut, Rule: RuleReasonableMeans, Keyword: strings.Join(ws[i:i+len(p)], " ")}
			}
		}
	}
	for i, w := range ws {
		f := wordFlags[w]
		switch {
		case explained[i] || f&(strong|weak) == 0:
		case negated(ws, i):
			explain(i, 1, RuleNegated)
		case w == "stop" && idiom(ws, i):
			explain(i, 1, RuleIdiom)
		case f&strong != 0 || onlyFiller(ws):
			in := IntentOptOut
			if w == "stopall" {
				in = IntentOptOutAll
			}
			return Classification{Intent: in, Rule: RuleReasonableMeans, Keyword: w}
		}
	}
	for i, w := range ws {
		if !explained[i] && wordFlags[w]&mention != 0 {
			return Classification{Intent: IntentReview, Rule: RuleMentionsStopShort, Keyword: w}
		}
	}
	return why
}

func negated(ws []string, i int) bool {
	for j := i - 1; j >= 0 && j >= i-2; j-- {
		if negators[ws[j]] {
			return true
		}
		if !intensifiers[ws[j]] {
			return false
		}
	}
	return false
}

func idiom(ws []string, i int) bool {
	return (i+1 < len(ws) && stopIdiomAfter[ws[i+1]]) || (i > 0 && stopIdiomBefore[ws[i-1]])
}

func onlyFiller(ws []string) bool {
	for _, w := range ws {
		if wordFlags[w]&(strong|weak|filler) == 0 {
			return false
		}
	}
	return true
}

// words normalises a body into the words that are matched: lower case,
// full-width and mathematical styled letters made plain, accents removed
// (ñ becomes n: no keyword needs the difference, and many phones type neither),
// apostrophes, combining marks and invisible format characters dropped
// ("don't" is "dont"), and anything else that is not a letter or digit (space,
// punctuation, emoji, invalid UTF-8) taken as a break between words.
func words(body string) []string {
	var b strings.Builder
	b.Grow(len(body))
	for _, r := range body {
		r, keep := fold(r)
		switch {
		case !keep:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// fold maps one rune to its plain lower-case form; keep is false for a rune
// that is dropped without breaking the word.
func fold(r rune) (folded rune, keep bool) {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII forms
		r -= 0xFEE0
	case r >= 0x1D400 && r <= 0x1D6A3: // mathematical letters: 13 styles of A–Z then a–z
		r = 'a' + (r-0x1D400)%52%26
	}
	switch {
	case strings.ContainsRune("'`´ʼ‘’′", r):
		return 0, false
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0, false
	}
	r = unicode.ToLower(r)
	if f, ok := accentFold[r]; ok {
		r = f
	}
	return r, true
}

// accentFold removes the accents of Spanish and the other Latin-script
// languages Herald's users text in, after lower-casing.
var accentFold = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ç': 'c',
	'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ı': 'i',
	'ñ': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y',
}

func wordSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(list) {
		m[w] = true
	}
	return m
}
