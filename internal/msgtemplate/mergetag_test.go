package msgtemplate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wantErr is one expected TagError; offsets and positions are counted by
// hand from the body (é is 2 bytes, 👋 is 4, 日 is 3; each is one rune).
type wantErr struct {
	code     string
	offset   int
	position int
}

func unknownAt(offset, position int) wantErr {
	return wantErr{CodeUnknownMergeTag, offset, position}
}

func malformedAt(offset, position int) wantErr {
	return wantErr{CodeMalformedMergeTag, offset, position}
}

func TestParse(t *testing.T) {
	t.Parallel()

	allKnown := "{{first_name}}{{last_name}}{{reward_amount}}{{referral_link}}{{program_name}}{{points}}{{tier}}{{brand}}"
	tests := []struct {
		name string
		body string
		tags []string  // when the body is valid
		errs []wantErr // when it is not
	}{
		// Valid bodies.
		{name: "no tags", body: "Thanks for joining!", tags: []string{}},
		{name: "empty body", body: "", tags: []string{}},
		{name: "one tag", body: "{{first_name}}", tags: []string{"first_name"}},
		{name: "spaces inside braces", body: "{{ first_name }}", tags: []string{"first_name"}},
		{name: "tab and newline inside braces", body: "{{\tfirst_name\n}}", tags: []string{"first_name"}},
		{name: "two tags with text", body: "Hi {{first_name}} {{last_name}}!", tags: []string{"first_name", "last_name"}},
		{name: "every known tag", body: allKnown, tags: []string{
			"first_name", "last_name", "reward_amount", "referral_link", "program_name", "points", "tier", "brand"}},
		{name: "repeated tag listed once", body: "{{tier}} {{tier}} {{points}}", tags: []string{"tier", "points"}},
		{name: "default", body: `{{first_name | default: "there"}}`, tags: []string{"first_name"}},
		{name: "default without spaces", body: `{{first_name|default:"there"}}`, tags: []string{"first_name"}},
		{name: "default with spaces everywhere", body: `{{ first_name | default : "there" }}`, tags: []string{"first_name"}},
		{name: "empty default", body: `{{first_name | default: ""}}`, tags: []string{"first_name"}},
		{name: "escaped quote and backslash", body: `{{first_name | default: "say \"hi\" \\o/"}}`, tags: []string{"first_name"}},
		{name: "default holding }}", body: `{{first_name | default: "}}"}} ok`, tags: []string{"first_name"}},
		{name: "default holding {{", body: `{{first_name | default: "{{"}} ok`, tags: []string{"first_name"}},
		{name: "contact attribute", body: "{{contact.attributes.city}}", tags: []string{"contact.attributes.city"}},
		{name: "attribute with - and _", body: "{{contact.attributes.favorite-store_2}}", tags: []string{"contact.attributes.favorite-store_2"}},
		{name: "nested attribute", body: "{{contact.attributes.address.zip}}", tags: []string{"contact.attributes.address.zip"}},
		{name: "event data with array index", body: "{{event.data.order.items.0.sku}}", tags: []string{"event.data.order.items.0.sku"}},
		{name: "event key keeps its case", body: "{{ event.data.Amount }}", tags: []string{"event.data.Amount"}},
		{name: "single braces are text", body: "Use code {SAVE10} today", tags: []string{}},
		{name: "spaced braces are text", body: "{ {first_name} }", tags: []string{}},
		{name: "emoji before a tag", body: "🎉 {{first_name}}", tags: []string{"first_name"}},

		// Unknown tags: well formed, but not a name Herald fills.
		{name: "typo", body: "{{frist_name}}", errs: []wantErr{unknownAt(0, 0)}},
		{name: "wrong case", body: "Hi {{First_Name}}", errs: []wantErr{unknownAt(3, 3)}},
		{name: "contact without attributes", body: "{{contact.city}}", errs: []wantErr{unknownAt(0, 0)}},
		{name: "event without data", body: "{{event.amount}}", errs: []wantErr{unknownAt(0, 0)}},
		{name: "attribute singular", body: "{{contact.attribute.city}}", errs: []wantErr{unknownAt(0, 0)}},
		{name: "plain unknown", body: "{{name}}", errs: []wantErr{unknownAt(0, 0)}},
		{name: "default does not excuse unknown", body: `{{nickname | default: "x"}}`, errs: []wantErr{unknownAt(0, 0)}},

		// Malformed tags.
		{name: "unclosed at end", body: "{{first_name", errs: []wantErr{malformedAt(0, 0)}},
		{name: "unclosed mid text", body: "Hi {{first_name, welcome", errs: []wantErr{malformedAt(3, 3)}},
		{name: "empty tag", body: "{{}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "blank tag", body: "x {{   }}", errs: []wantErr{malformedAt(2, 2)}},
		{name: "space in name", body: "{{first name}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "invalid character", body: "{{first_name$}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "unknown filter", body: "{{first_name | upper}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "filter missing", body: "{{first_name |}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "default missing colon", body: `{{first_name | default "x"}}`, errs: []wantErr{malformedAt(0, 0)}},
		{name: "default unquoted", body: "{{first_name | default: x}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "default single quoted", body: "{{first_name | default: 'x'}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "default unterminated", body: `{{first_name | default: "x}}`, errs: []wantErr{malformedAt(0, 0)}},
		{name: "default bad escape", body: `{{first_name | default: "a\nb"}}`, errs: []wantErr{malformedAt(0, 0)}},
		{name: "two filters", body: `{{first_name | default: "x" | default: "y"}}`, errs: []wantErr{malformedAt(0, 0)}},
		{name: "stray close", body: "Hi }} there", errs: []wantErr{malformedAt(3, 3)}},
		{name: "single open brace typo", body: "{first_name}}", errs: []wantErr{malformedAt(11, 11)}},
		{name: "triple braces", body: "{{{first_name}}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "attributes without key", body: "{{contact.attributes}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "attributes trailing dot", body: "{{contact.attributes.}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "empty path segment", body: "{{event.data..x}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "unclosed before next tag", body: "{{first_name {{last_name}}", errs: []wantErr{malformedAt(0, 0)}},
		{name: "unterminated default does not hide later tags", body: `{{first_name | default: "x}} {{frist}}`,
			errs: []wantErr{malformedAt(0, 0), unknownAt(29, 29)}},

		// Positions after multi-byte text.
		{name: "after é", body: "héllo {{frist}}", errs: []wantErr{unknownAt(7, 6)}},
		{name: "after emoji", body: "👋 {{frist}}", errs: []wantErr{unknownAt(5, 2)}},
		{name: "after CJK", body: "日本語{{first_name", errs: []wantErr{malformedAt(9, 3)}},
		{name: "stray close after accent", body: "Olá {{first_name}} }}", errs: []wantErr{malformedAt(20, 19)}},
		{name: "every error reported", body: "{{a}} ok {{}} é }}",
			errs: []wantErr{unknownAt(0, 0), malformedAt(9, 9), malformedAt(17, 16)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Parse(tt.body)
			if tt.errs == nil {
				require.NoError(t, err)
				require.Equal(t, tt.tags, tmpl.Tags())
				require.Equal(t, tt.body, tmpl.Source())
				return
			}
			require.Nil(t, tmpl)
			var perr *ParseError
			require.ErrorAs(t, err, &perr)
			got := make([]wantErr, len(perr.Errors))
			for i, e := range perr.Errors {
				got[i] = wantErr{e.Code, e.Offset, e.Position}
				require.NotEmpty(t, e.Message)
			}
			require.Equal(t, tt.errs, got)
		})
	}
}

func TestParseErrorDetails(t *testing.T) {
	t.Parallel()

	t.Run("unknown tag quotes the tag and suggests a fix", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("Hi {{ frist_name }}!")
		var te *TagError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "{{ frist_name }}", te.Tag)
		require.Contains(t, te.Message, `"first_name"`)
		require.Contains(t, err.Error(), CodeUnknownMergeTag)
	})
	t.Run("attribute typo suggests the attributes prefix", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("{{contact.attribute.city}}")
		var te *TagError
		require.ErrorAs(t, err, &te)
		require.Contains(t, te.Message, `"contact.attributes.city"`)
	})
	t.Run("stray close quotes only the braces", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("a }} b")
		var te *TagError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "}}", te.Tag)
	})
	t.Run("unclosed tag text is clipped on a rune boundary", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("{{first_name " + strings.Repeat("é", 100))
		var te *TagError
		require.ErrorAs(t, err, &te)
		require.LessOrEqual(t, len(te.Tag), maxTagText)
		require.True(t, strings.HasPrefix(te.Tag, "{{first_name é"))
		require.True(t, strings.HasSuffix(te.Tag, "é"))
	})
	t.Run("errors are capped", func(t *testing.T) {
		t.Parallel()
		_, err := Parse(strings.Repeat("}}", 500))
		var perr *ParseError
		require.ErrorAs(t, err, &perr)
		require.Len(t, perr.Errors, maxParseErrors)
		require.True(t, errors.Is(err, perr.Errors[3]))
	})
}

func TestTagsReturnsACopy(t *testing.T) {
	t.Parallel()
	tmpl, err := Parse("{{first_name}} {{tier}}")
	require.NoError(t, err)
	tags := tmpl.Tags()
	tags[0] = "changed"
	require.Equal(t, []string{"first_name", "tier"}, tmpl.Tags())
}
