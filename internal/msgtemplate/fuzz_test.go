package msgtemplate

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"Hi {{first_name}}!",
		`{{ first_name | default: "there" }}`,
		`{{first_name | default: "a \"b\" \\ }} {{"}}`,
		"{{contact.attributes.address.zip}} {{event.data.items.0.sku}}",
		"{{event.data.order}} {{event.data.order.id}}",
		"{{first_name",
		"}} {{}} {{{x}}}",
		"héllo 👋 {{frist}} 日本語 }}",
		"{{brand}}: Reply STOP to opt out bit.ly/x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tmpl, err := Parse(body)
		if err != nil {
			checkParseError(t, body, err)
			return
		}
		out, err := tmpl.Render(tmpl.SampleValues())
		if err != nil {
			var merr *MissingValueError
			if !errors.As(err, &merr) || len(merr.Tags) == 0 {
				t.Fatalf("Render with samples: %v", err)
			}
			for _, tag := range merr.Tags {
				if !slices.Contains(tmpl.Tags(), tag) {
					t.Fatalf("missing tag %q not among Tags() %v", tag, tmpl.Tags())
				}
			}
		}
		if !strings.Contains(body, "{{") && out != body {
			t.Fatalf("body without tags rendered to %q", out)
		}
		for _, tag := range tmpl.Tags() {
			if _, err := Parse("{{" + tag + "}}"); err != nil {
				t.Fatalf("tag %q does not parse on its own: %v", tag, err)
			}
		}
		_ = Check(KindMarketing, body, "Acme")
	})
}

// checkParseError holds every error to what an editor relies on: a known
// code, and an offset that points at "{{" or "}}" with a matching rune
// position, in source order.
func checkParseError(t *testing.T, body string, err error) {
	t.Helper()
	var perr *ParseError
	if !errors.As(err, &perr) || len(perr.Errors) == 0 || len(perr.Errors) > maxParseErrors {
		t.Fatalf("unexpected error %v", err)
	}
	if !strings.Contains(body, "{{") && !strings.Contains(body, "}}") {
		t.Fatalf("body without braces failed: %v", err)
	}
	last := -1
	for _, te := range perr.Errors {
		if te.Code != CodeUnknownMergeTag && te.Code != CodeMalformedMergeTag {
			t.Fatalf("code %q", te.Code)
		}
		if te.Offset <= last || te.Offset+2 > len(body) {
			t.Fatalf("offset %d out of order or range", te.Offset)
		}
		last = te.Offset
		if head := body[te.Offset : te.Offset+2]; head != "{{" && head != "}}" {
			t.Fatalf("offset %d points at %q", te.Offset, head)
		}
		if want := utf8.RuneCountInString(body[:te.Offset]); te.Position != want {
			t.Fatalf("position %d, want %d", te.Position, want)
		}
		if !strings.HasPrefix(body[te.Offset:], te.Tag) || te.Tag == "" {
			t.Fatalf("tag %q is not the source at %d", te.Tag, te.Offset)
		}
	}
}
