package msgtemplate

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/heraldsms/herald/internal/segment"
)

// Kind is a template's kind. Marketing messages carry legal duties (say who
// is sending, say how to stop) that transactional ones do not.
type Kind string

const (
	KindTransactional Kind = "transactional"
	KindMarketing     Kind = "marketing"
)

// Valid reports whether k is one of the kinds Herald knows.
func (k Kind) Valid() bool { return k == KindTransactional || k == KindMarketing }

// Stable codes of compliance findings.
const (
	// Problems: a template with one cannot be approved.
	CodeInvalidKind     = "invalid_kind"
	CodeMissingSenderID = "missing_sender_id"
	CodeMissingOptOut   = "missing_opt_out"
	// Warnings: worth fixing, but the template may still be approved.
	CodeTooManySegments     = "too_many_segments"
	CodeThirdPartyShortener = "third_party_shortener"
)

// maxSegments is the length past which a template draws a warning: each
// segment is billed, and long concatenated messages arrive late or split
// on some handsets.
const maxSegments = 3

// Finding is one compliance problem or warning.
type Finding struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is what Check found. Preview and Count describe the body rendered
// with sample values and the account's brand, which is what the segment
// warning is based on; an editor can show them as its live counter.
type Result struct {
	Problems []Finding // refuse approval
	Warnings []Finding // show, do not refuse
	Preview  string
	Count    segment.Info
}

// OK reports whether the template may be approved.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Check applies the sending rules for kind to a template body. brand is the
// account's brand name; a marketing body must contain it (in any case) or
// use {{brand}}, and must say how to opt out: the keyword STOP with a word
// such as "opt out", "unsubscribe", "end", "cancel", "quit" or "stop" within
// a few words of it ("Reply STOP to opt out", "Txt STOP to end").
//
// Only the literal text counts towards these rules, not a tag's fallback,
// which is sent only when a value is missing. Check expects a body that
// parses; callers report Parse errors first. An unparseable body is judged
// on its raw text.
func Check(kind Kind, body string, brand string) Result {
	var res Result
	if !kind.Valid() {
		res.Problems = append(res.Problems, Finding{CodeInvalidKind,
			fmt.Sprintf("template kind must be %q or %q", KindTransactional, KindMarketing)})
	}
	static, usesBrand, preview := body, false, body
	if t, err := Parse(body); err == nil {
		static, usesBrand = t.staticText(), t.uses(tagBrand)
		v := t.SampleValues()
		if strings.TrimSpace(brand) != "" {
			v.Brand = brand
		}
		if out, err := t.Render(v); err == nil {
			preview = out
		}
	} else {
		usesBrand = hasBrandTag(body)
	}
	res.Preview = preview
	if kind == KindMarketing {
		if !usesBrand && !containsFold(static, brand) {
			res.Problems = append(res.Problems, Finding{CodeMissingSenderID,
				"marketing messages must say who is sending: include your brand name or {{brand}}"})
		}
		if !hasOptOut(static) {
			res.Problems = append(res.Problems, Finding{CodeMissingOptOut,
				`marketing messages must say how to opt out, for example "Reply STOP to opt out"`})
		}
	}
	res.Count = segment.Count(res.Preview)
	if res.Count.Segments > maxSegments {
		res.Warnings = append(res.Warnings, Finding{CodeTooManySegments, fmt.Sprintf(
			"with sample values this message is %d %s characters, %d segments; each segment is billed, and more than %d may arrive split or late",
			res.Count.Characters, res.Count.Encoding, res.Count.Segments, maxSegments)})
	}
	if hosts := shorteners(body); len(hosts) > 0 {
		res.Warnings = append(res.Warnings, Finding{CodeThirdPartyShortener, fmt.Sprintf(
			"carriers often filter messages with shared link shorteners (%s); use your own domain",
			strings.Join(hosts, ", "))})
	}
	return res
}

// staticText is the literal text of the template, with a space where each
// tag was so that words on either side of a tag stay apart.
func (t *Compiled) staticText() string {
	var b strings.Builder
	b.Grow(t.litLen + len(t.parts))
	for _, p := range t.parts {
		b.WriteString(p.literal)
		b.WriteByte(' ')
	}
	b.WriteString(t.tail)
	return b.String()
}

func (t *Compiled) uses(kind tagKind) bool {
	for _, p := range t.parts {
		if p.kind == kind {
			return true
		}
	}
	return false
}

// hasBrandTag finds {{brand}} in a body that does not parse as a whole.
func hasBrandTag(body string) bool {
	for rest := body; ; {
		_, after, ok := strings.Cut(rest, "{{")
		if !ok {
			return false
		}
		inner, _, closed := strings.Cut(after, "}}")
		if !closed {
			return false
		}
		name, _, _ := strings.Cut(inner, "|")
		if strings.TrimSpace(name) == "brand" {
			return true
		}
		rest = after
	}
}

func containsFold(s, sub string) bool {
	sub = strings.TrimSpace(sub)
	return sub != "" && strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// optOutWindow is how many words from STOP the opt-out wording may be.
const optOutWindow = 5

var (
	// stopVerbs make a lower-case "stop" an instruction ("reply stop").
	stopVerbs = map[string]bool{"reply": true, "text": true, "txt": true, "send": true,
		"msg": true, "sms": true, "respond": true, "message": true}
	// optOutWords say what STOP does.
	optOutWords = map[string]bool{"unsubscribe": true, "unsub": true, "optout": true,
		"end": true, "cancel": true, "quit": true, "stop": true}
)

// hasOptOut looks for the STOP keyword given as an instruction, near words
// that say it opts out. STOP counts when written in capitals or after a verb
// such as "reply", so that "don't stop now, the sale ends soon" does not.
func hasOptOut(text string) bool {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		if !strings.EqualFold(w, "stop") {
			continue
		}
		if w != "STOP" && (i == 0 || !stopVerbs[strings.ToLower(words[i-1])]) {
			continue
		}
		for j := max(0, i-optOutWindow); j <= min(len(words)-1, i+optOutWindow); j++ {
			if j == i {
				continue
			}
			lw := strings.ToLower(words[j])
			if optOutWords[lw] || lw == "opt" && j+1 < len(words) && strings.EqualFold(words[j+1], "out") {
				return true
			}
		}
	}
	return false
}

// shortenerHosts are shared link shorteners that carriers' spam filters
// distrust, because anyone can hide any destination behind them.
var shortenerHosts = []string{
	"bit.ly", "bitly.com", "tinyurl.com", "goo.gl", "ow.ly", "t.co", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "bl.ink",
	"v.gd", "s.id", "lnkd.in", "shorte.st", "adf.ly", "tiny.one", "short.io",
}

// shorteners lists the shortener hosts that body links to, in list order.
// A host counts only as a whole name or a subdomain's parent: "t.co" is not
// found in "at.com", while "www.bit.ly" and "bit.ly." (ending a sentence) are
// found.
func shorteners(body string) []string {
	lower := asciiLower(body)
	var found []string
	for _, host := range shortenerHosts {
		for from := 0; ; {
			i := strings.Index(lower[from:], host)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(host)
			if (start == 0 || lower[start-1] == '.' || !isHostByte(lower[start-1])) && hostEnds(lower, end) {
				found = append(found, host)
				break
			}
			from = start + 1
		}
	}
	return found
}

// asciiLower lowers ASCII letters only: host names are ASCII, and keeping
// every other byte as it is keeps the work linear and cheap.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// hostEnds reports whether a host name ends at s[end]: a dot ends it only
// when no further label follows.
func hostEnds(s string, end int) bool {
	if end < len(s) && s[end] == '.' {
		end++
	}
	return end == len(s) || !isHostByte(s[end])
}

func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
}
