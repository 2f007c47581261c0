package msgtemplate

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// CodeMissingMergeValue is the stable code for a *MissingValueError, for
// callers that report it through the API's error envelope.
const CodeMissingMergeValue = "missing_merge_value"

// Values are what one message's merge tags render from. The automation
// engine fills it from the contact, the program, the account and the event.
//
// Where each tag's value comes from, first non-blank source wins:
//
//	first_name, last_name   FirstName, LastName
//	program_name, brand     ProgramName, Brand
//	reward_amount           RewardAmount, event.data.reward_amount, event.data.amount
//	points                  Points, event.data.points
//	tier                    Tier, event.data.tier
//	referral_link           ReferralLink, event.data.referral_link, contact.attributes.referral_link
//	contact.attributes.x    Attributes, descending into nested objects at each dot
//	event.data.x            EventData, likewise
//
// The typed fields override event data so a caller can format a value (say a
// reward with its currency, "$25") without rewriting the event. A value is
// missing when absent, nil, a blank or all-space string, an object or an
// array, or a non-finite number; objects are not rendered because Go's
// formatting of a map has no place in a text message.
type Values struct {
	FirstName    string
	LastName     string
	ProgramName  string
	Brand        string
	RewardAmount string
	Points       string
	Tier         string
	ReferralLink string
	// Attributes and EventData are decoded JSON objects: string, float64,
	// json.Number, bool, nil, []any and map[string]any values. Go integer
	// types are accepted too for callers that build them by hand.
	Attributes map[string]any
	EventData  map[string]any
}

// MissingValueError lists every tag that had no value and no fallback, so a
// caller can skip the message with one clear reason instead of sending
// "Hi , your  reward...".
type MissingValueError struct {
	Tags []string // distinct tag names, in order of first use
}

func (e *MissingValueError) Error() string {
	return "msgtemplate: no value and no default for merge tags: " + strings.Join(e.Tags, ", ")
}

// valueSizeHint is the bytes reserved per tag when sizing the result, so a
// typical render (names, amounts, a short link) needs one allocation.
const valueSizeHint = 24

// Render fills the template's tags from v. Missing values use the tag's
// fallback; if any tag has neither, Render returns "" and a
// *MissingValueError naming all of them.
func (t *Compiled) Render(v Values) (string, error) {
	if len(t.parts) == 0 {
		return t.tail, nil
	}
	var b strings.Builder
	b.Grow(t.litLen + valueSizeHint*len(t.parts))
	var missing []string
	for i := range t.parts {
		p := &t.parts[i]
		b.WriteString(p.literal)
		if v.write(&b, p) {
			continue
		}
		if p.hasFallback {
			b.WriteString(p.fallback)
			continue
		}
		missing = appendOnce(missing, p.name)
	}
	if missing != nil {
		return "", &MissingValueError{Tags: missing}
	}
	b.WriteString(t.tail)
	return b.String(), nil
}

func appendOnce(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// write appends p's value to b and reports whether there was one.
func (v *Values) write(b *strings.Builder, p *part) bool {
	switch p.kind {
	case tagFirstName:
		return writeString(b, v.FirstName)
	case tagLastName:
		return writeString(b, v.LastName)
	case tagProgramName:
		return writeString(b, v.ProgramName)
	case tagBrand:
		return writeString(b, v.Brand)
	case tagRewardAmount:
		return writeString(b, v.RewardAmount) ||
			writeAny(b, v.EventData["reward_amount"]) ||
			writeAny(b, v.EventData["amount"])
	case tagPoints:
		return writeString(b, v.Points) || writeAny(b, v.EventData["points"])
	case tagTier:
		return writeString(b, v.Tier) || writeAny(b, v.EventData["tier"])
	case tagReferralLink:
		return writeString(b, v.ReferralLink) ||
			writeAny(b, v.EventData["referral_link"]) ||
			writeAny(b, v.Attributes["referral_link"])
	case tagAttribute:
		return writeAny(b, lookup(v.Attributes, p.path))
	case tagEventData:
		return writeAny(b, lookup(v.EventData, p.path))
	}
	return false
}

// lookup follows a key path through decoded JSON. A segment of digits
// indexes an array.
func lookup(m map[string]any, path []string) any {
	var cur any = m
	for _, key := range path {
		switch node := cur.(type) {
		case map[string]any:
			cur = node[key]
		case map[string]string:
			cur = node[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(node) {
				return nil
			}
			cur = node[i]
		default:
			return nil
		}
	}
	return cur
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func writeString(b *strings.Builder, s string) bool {
	if blank(s) {
		return false
	}
	b.WriteString(s)
	return true
}

// writeAny renders one scalar from decoded JSON, reporting false for
// anything that should count as missing.
func writeAny(b *strings.Builder, x any) bool {
	var buf [32]byte
	switch x := x.(type) {
	case string:
		return writeString(b, x)
	case json.Number:
		return writeNumber(b, string(x))
	case float64:
		return writeFloat(b, x)
	case float32:
		return writeFloat(b, float64(x))
	case int:
		b.Write(strconv.AppendInt(buf[:0], int64(x), 10))
	case int64:
		b.Write(strconv.AppendInt(buf[:0], x, 10))
	case int32:
		b.Write(strconv.AppendInt(buf[:0], int64(x), 10))
	case uint:
		b.Write(strconv.AppendUint(buf[:0], uint64(x), 10))
	case uint64:
		b.Write(strconv.AppendUint(buf[:0], x, 10))
	case uint32:
		b.Write(strconv.AppendUint(buf[:0], uint64(x), 10))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default:
		return false
	}
	return true
}

// writeFloat writes a JSON number decoded as float64 in its shortest form,
// so 25 renders as "25", not "25.0" or "2.5e+01".
func writeFloat(b *strings.Builder, f float64) bool {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return false
	}
	var buf [32]byte
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		// Whole numbers (points, most amounts) take the integer path,
		// several times faster than shortest-float formatting; -0 becomes 0.
		b.Write(strconv.AppendInt(buf[:0], int64(f), 10))
		return true
	}
	b.Write(strconv.AppendFloat(buf[:0], f, 'f', -1, 64))
	return true
}

// writeNumber writes a json.Number as the sender wrote it, except that a
// zero fraction is dropped ("10.00" renders "10") and an exponent is
// expanded; a price such as "10.50" keeps its trailing zero.
func writeNumber(b *strings.Builder, n string) bool {
	if strings.ContainsAny(n, "eE") {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return writeString(b, n)
		}
		return writeFloat(b, f)
	}
	if whole, frac, ok := strings.Cut(n, "."); ok && strings.Trim(frac, "0") == "" && whole != "" {
		n = whole
	}
	if n == "-0" {
		n = "0"
	}
	return writeString(b, n)
}
