package msgtemplate

import (
	"context"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// maxDataKeys bounds the sample values a preview or test send may carry.
const maxDataKeys = 100

// PreviewInput is a body being edited: the live counter's question.
type PreviewInput struct {
	Body string `json:"body"`
	Kind string `json:"kind"`
	// Data maps merge tag names ("first_name", "event.data.order.id") to
	// values used instead of the samples; null makes a value missing, to
	// see a fallback.
	Data map[string]any `json:"data"`
}

// Preview is the live counter's answer. Every list is present, empty when
// there is nothing to say.
type Preview struct {
	Rendered          string            `json:"rendered"`
	Encoding          segment.Encoding  `json:"encoding"`
	Characters        int               `json:"characters"`
	Segments          int               `json:"segments"`
	PerSegment        int               `json:"per_segment"`
	Remaining         int               `json:"remaining"`
	Culprits          []segment.Culprit `json:"culprits"`
	Suggested         string            `json:"suggested"`
	SuggestedSegments int               `json:"suggested_segments"`
	SavedSegments     int               `json:"saved_segments"`
	MergeTags         []string          `json:"merge_tags"`
	TagErrors         []map[string]any  `json:"tag_errors"`
	MissingValues     []string          `json:"missing_values"`
	Problems          []Finding         `json:"problems"`
	Warnings          []Finding         `json:"warnings"`
}

// Preview renders a body with sample values, the account's brand and the
// given data, and reports what it costs and what review would say. Unlike
// saving, it does not refuse a body with bad merge tags or over the limits:
// it lists them, so an editor can show them while the author types.
func (s *Service) Preview(ctx context.Context, accountID string, in PreviewInput) (Preview, error) {
	kind, err := ParseKind(in.Kind, "kind")
	if err != nil {
		return Preview{}, err
	}
	if !utf8.ValidString(in.Body) {
		return Preview{}, problem.Invalidf(CodeInvalidUTF8, "body", "body is not valid UTF-8")
	}
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Rendered: in.Body, MergeTags: []string{}, TagErrors: []map[string]any{}, MissingValues: []string{},
		Warnings: []Finding{}}
	if c, err := Parse(in.Body); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			for _, te := range pe.Errors {
				p.TagErrors = append(p.TagErrors, tagErrorDetail(te))
			}
		}
	} else {
		p.MergeTags = c.Tags()
		if p.Rendered, p.MissingValues, err = renderWith(c, a.Brand(), in.Data); err != nil {
			return Preview{}, err
		}
	}
	res := Check(kind, in.Body, a.Brand())
	p.Problems = append([]Finding{}, res.Problems...)
	p.Warnings = append(p.Warnings, res.Warnings...)
	if len(p.MissingValues) > 0 {
		p.Warnings = append(p.Warnings, Finding{CodeMissingMergeValue,
			"no value and no default for " + strings.Join(p.MissingValues, ", ") + "; a message to such a contact is skipped"})
	}
	p.fill(segment.Analyze(p.Rendered))
	if err := CheckLength(segment.Count(p.Rendered), "body"); err != nil {
		pe, _ := problem.As(err)
		p.Problems = append(p.Problems, Finding{pe.Code, pe.Message})
	}
	return p, nil
}

func (p *Preview) fill(r segment.Report) {
	p.Encoding, p.Characters, p.Segments, p.PerSegment, p.Remaining = r.Encoding, r.Characters, r.Segments, r.PerSegment, r.Remaining
	p.Culprits, p.Suggested, p.SuggestedSegments, p.SavedSegments = r.Culprits, r.Suggested, r.SuggestedSegments, r.SavedSegments
	if p.Culprits == nil {
		p.Culprits = []segment.Culprit{}
	}
}

// renderWith renders c from sample values, the brand and data, in that
// order of precedence (data wins). Tags left without a value (data set them
// to null and they have no fallback) are listed, and rendered from their
// samples so the counter still measures a whole message.
func renderWith(c *Compiled, brand string, data map[string]any) (string, []string, error) {
	v, err := sampleValues(c, brand, data, false)
	if err != nil {
		return "", nil, err
	}
	out, err := c.Render(v)
	var missing *MissingValueError
	if !errors.As(err, &missing) {
		return out, []string{}, err
	}
	if v, err = sampleValues(c, brand, data, true); err != nil {
		return "", nil, err
	}
	out, err = c.Render(v)
	return out, missing.Tags, err
}

// sampleValues builds the values of a preview or a test send: the samples,
// then the brand, then data. With skipNull, a null in data keeps the sample.
func sampleValues(c *Compiled, brand string, data map[string]any, skipNull bool) (Values, error) {
	v := c.SampleValues()
	if strings.TrimSpace(brand) != "" {
		v.Brand = brand
	}
	if len(data) > maxDataKeys {
		return v, problem.Invalidf("too_many_values", "data", "data may hold at most %d values", maxDataKeys)
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad key reported is always the same one
	for _, k := range keys {
		if data[k] == nil && skipNull {
			continue
		}
		if err := v.set(k, data[k]); err != nil {
			return v, err
		}
	}
	return v, nil
}

// set stores one value by merge tag name. Scalars only: an object or an
// array is not something a text message can show.
func (v *Values) set(tag string, val any) error {
	field := "data." + tag
	switch val.(type) {
	case nil, string, float64, bool:
	default:
		return problem.Invalidf("invalid_merge_value", field, "the value of %s must be a string, a number, true, false or null", tag)
	}
	pt, fail := resolveName(tag)
	if fail != nil || !isTagName(tag) {
		return problem.Invalidf(CodeUnknownMergeTag, field, "%q is not a merge tag; data keys are tag names such as first_name", tag)
	}
	var b strings.Builder
	writeAny(&b, val)
	s := b.String()
	switch pt.kind {
	case tagAttribute:
		v.Attributes = withPath(v.Attributes, pt.path, val)
	case tagEventData:
		v.EventData = withPath(v.EventData, pt.path, val)
	default:
		*v.simpleField(pt.kind) = s
	}
	return nil
}

func isTagName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func (v *Values) simpleField(k tagKind) *string {
	return map[tagKind]*string{
		tagFirstName: &v.FirstName, tagLastName: &v.LastName, tagProgramName: &v.ProgramName, tagBrand: &v.Brand,
		tagRewardAmount: &v.RewardAmount, tagPoints: &v.Points, tagTier: &v.Tier, tagReferralLink: &v.ReferralLink,
	}[k]
}

// withPath stores val at path, replacing whatever lies on the way.
func withPath(m map[string]any, path []string, val any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	cur := m
	for _, key := range path[:len(path)-1] {
		next, ok := cur[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[key] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = val
	return m
}

// GalleryItem is a gallery entry with what it costs, measured with sample
// values and the account's brand.
type GalleryItem struct {
	Key         string           `json:"key"`
	Name        string           `json:"name"`
	Kind        Kind             `json:"kind"`
	EventType   string           `json:"event_type"`
	Description string           `json:"description"`
	Body        string           `json:"body"`
	Encoding    segment.Encoding `json:"encoding"`
	Characters  int              `json:"characters"`
	Segments    int              `json:"segments"`
	MergeTags   []string         `json:"merge_tags"`
}

// Gallery lists the starting points, measured for the account.
func (s *Service) Gallery(ctx context.Context, accountID string) ([]GalleryItem, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	entries := Gallery()
	out := make([]GalleryItem, 0, len(entries))
	for _, e := range entries {
		c, err := Parse(e.Body)
		if err != nil {
			return nil, tagProblem(err)
		}
		info := measure(c, a.Brand())
		out = append(out, GalleryItem{Key: e.Key, Name: e.Name, Kind: e.Kind, EventType: e.EventType,
			Description: e.Description, Body: e.Body, Encoding: info.Encoding, Characters: info.Characters,
			Segments: info.Segments, MergeTags: c.Tags()})
	}
	return out, nil
}
