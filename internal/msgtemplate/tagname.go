package msgtemplate

import (
	"fmt"
	"strings"
)

// Prefixes of the open-ended tag families.
const (
	prefixAttributes = "contact.attributes."
	prefixEventData  = "event.data."
)

// tagKind says where a tag's value comes from; an int switch in Render is
// cheaper than looking names up in a map.
type tagKind uint8

const (
	tagFirstName tagKind = iota + 1
	tagLastName
	tagRewardAmount
	tagReferralLink
	tagProgramName
	tagPoints
	tagTier
	tagBrand
	tagAttribute
	tagEventData
)

var simpleTags = map[string]tagKind{
	"first_name":    tagFirstName,
	"last_name":     tagLastName,
	"reward_amount": tagRewardAmount,
	"referral_link": tagReferralLink,
	"program_name":  tagProgramName,
	"points":        tagPoints,
	"tier":          tagTier,
	"brand":         tagBrand,
}

// resolveName maps a tag name to its kind, or explains why it is not one.
func resolveName(name string) (part, *tagFailure) {
	if kind, ok := simpleTags[name]; ok {
		return part{kind: kind, name: name}, nil
	}
	for _, fam := range []struct {
		prefix string
		kind   tagKind
		what   string
	}{{prefixAttributes, tagAttribute, "attribute"}, {prefixEventData, tagEventData, "event data key"}} {
		trimmed := strings.TrimSuffix(fam.prefix, ".")
		if name != trimmed && !strings.HasPrefix(name, fam.prefix) {
			continue
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(name, trimmed), ".")
		if rest == "" {
			return part{}, malformed(0, "{{%s}} needs an %s name, e.g. {{%scity}}", name, fam.what, fam.prefix)
		}
		path := strings.Split(rest, ".")
		for _, seg := range path {
			if seg == "" {
				return part{}, malformed(0, "merge tag %q has an empty path segment", name)
			}
		}
		return part{kind: fam.kind, name: name, path: path}, nil
	}
	return part{}, &tagFailure{code: CodeUnknownMergeTag, msg: unknownMessage(name)}
}

func unknownMessage(name string) string {
	msg := fmt.Sprintf("unknown merge tag %q", name)
	if hint := suggest(name); hint != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", hint)
	}
	return msg
}

// suggest finds the tag a typo most likely meant, or "".
func suggest(name string) string {
	if segs := strings.SplitN(name, ".", 3); len(segs) > 1 {
		head := strings.ToLower(segs[0])
		for _, prefix := range []string{prefixAttributes, prefixEventData} {
			if len(segs) == 3 && distance(strings.ToLower(segs[0]+"."+segs[1]+"."), prefix) <= 2 {
				return prefix + segs[2]
			}
			if len(segs) == 2 && head+"." == prefix[:strings.IndexByte(prefix, '.')+1] {
				return prefix + segs[1]
			}
		}
		return ""
	}
	lower := strings.ToLower(name)
	best, bestDist := "", 3
	for known := range simpleTags {
		if d := distance(lower, known); d < bestDist || (d == bestDist && known < best) {
			best, bestDist = known, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between two short ASCII names.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}
