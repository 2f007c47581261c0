package msgtemplate

import "strings"

// Sample values of realistic length: previews and segment counts are only
// honest if "{{referral_link}}" renders as something link-sized, not "x".
const (
	SampleFirstName    = "Alex"
	SampleLastName     = "Morgan"
	SampleProgramName  = "Acme Rewards"
	SampleBrand        = "Acme Coffee"
	SampleRewardAmount = "$25"
	SamplePoints       = "150"
	SampleTier         = "Gold"
	SampleReferralLink = "https://acmecoffee.com/r/alex25"
)

// SampleValues returns values that fill every tag this template uses, for
// previews, "Send Test" and the segment estimate in compliance checks. The
// known tags get the Sample* constants; each contact.attributes.x and
// event.data.x tag gets its last key in words ("favorite_store" renders as
// "favorite store"), nested where the path says so. Set Brand to the
// account's own name before rendering to see the real length.
//
// A template that uses both a key and a key below it ({{event.data.order}}
// and {{event.data.order.id}}) cannot have both filled; the deeper one wins
// and Render reports the other as missing.
func (t *Compiled) SampleValues() Values {
	v := Values{
		FirstName:    SampleFirstName,
		LastName:     SampleLastName,
		ProgramName:  SampleProgramName,
		Brand:        SampleBrand,
		RewardAmount: SampleRewardAmount,
		Points:       SamplePoints,
		Tier:         SampleTier,
		ReferralLink: SampleReferralLink,
	}
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case tagAttribute:
			if v.Attributes == nil {
				v.Attributes = map[string]any{}
			}
			setPath(v.Attributes, p.path, sampleText(p.path))
		case tagEventData:
			if v.EventData == nil {
				v.EventData = map[string]any{}
			}
			setPath(v.EventData, p.path, sampleText(p.path))
		}
	}
	return v
}

// setPath stores val at path, creating objects on the way. An existing
// object at the leaf is kept, so the deeper of two overlapping paths wins
// whatever their order.
func setPath(m map[string]any, path []string, val string) {
	for _, key := range path[:len(path)-1] {
		next, ok := m[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[key] = next
		}
		m = next
	}
	leaf := path[len(path)-1]
	if _, isObject := m[leaf].(map[string]any); !isObject {
		m[leaf] = val
	}
}

// sampleText turns the last key of a path into words for a preview.
func sampleText(path []string) string {
	words := strings.Join(strings.FieldsFunc(path[len(path)-1], func(r rune) bool {
		return r == '_' || r == '-'
	}), " ")
	if strings.Trim(words, "0123456789 ") == "" {
		return "sample"
	}
	return words
}
