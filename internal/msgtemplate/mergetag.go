package msgtemplate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Stable error codes, shared with the REST API's error envelope.
const (
	// CodeUnknownMergeTag: the tag is well formed but Herald has no value
	// for that name (a typo such as {{frist_name}}).
	CodeUnknownMergeTag = "unknown_merge_tag"
	// CodeMalformedMergeTag: the braces, name, filter or fallback string
	// cannot be read (unclosed {{, empty tag, stray }}, bad filter...).
	CodeMalformedMergeTag = "malformed_merge_tag"
)

// maxParseErrors bounds the errors kept for one body, so that a pasted
// megabyte of braces costs a bounded amount of work and response size.
const maxParseErrors = 50

// maxTagText bounds TagError.Tag, which quotes the offending source text.
const maxTagText = 64

// TagError is one problem in a template body. Offset and Position both
// point at the first brace of the tag (or of a stray "}}"): Offset in bytes
// for Go code, Position in runes for an editor that counts characters.
type TagError struct {
	Code     string // CodeUnknownMergeTag or CodeMalformedMergeTag
	Message  string // for people; not stable
	Offset   int    // byte offset of the tag start
	Position int    // rune index of the tag start
	Tag      string // the tag as written, clipped to 64 bytes
}

func (e *TagError) Error() string {
	return fmt.Sprintf("%s at position %d: %s", e.Code, e.Position, e.Message)
}

// ParseError holds every TagError found in one body, in source order.
// errors.As(err, &tagErr) finds the first one.
type ParseError struct {
	Errors []*TagError
}

func (e *ParseError) Error() string {
	if len(e.Errors) == 1 {
		return "msgtemplate: " + e.Errors[0].Error()
	}
	return fmt.Sprintf("msgtemplate: %d merge tag errors; first: %s", len(e.Errors), e.Errors[0].Error())
}

// Unwrap exposes each TagError to errors.Is and errors.As.
func (e *ParseError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, te := range e.Errors {
		errs[i] = te
	}
	return errs
}

// part is the literal text before one tag, then the tag itself.
type part struct {
	literal     string
	kind        tagKind
	name        string   // canonical tag name, as listed by Tags
	path        []string // key path for attribute and event tags
	fallback    string
	hasFallback bool
}

// Compiled is a parsed template body. It is immutable, so one value can be
// cached per template version and rendered concurrently.
type Compiled struct {
	source string
	parts  []part
	tail   string   // literal text after the last tag
	tags   []string // distinct tag names in order of first use
	litLen int      // bytes of literal text, to size the render buffer
}

// Source returns the body the template was parsed from.
func (t *Compiled) Source() string { return t.source }

// Tags lists the distinct merge tags the body uses, in order of first
// appearance, for the template's merge_tags in API responses.
func (t *Compiled) Tags() []string {
	out := make([]string, len(t.tags))
	copy(out, t.tags)
	return out
}

// Parse compiles a template body. On failure it returns a *ParseError with
// every problem found, so an editor can underline them all at once.
func Parse(body string) (*Compiled, error) {
	p := parser{src: body}
	p.run()
	if len(p.errs) > 0 {
		return nil, &ParseError{Errors: p.errs}
	}
	t := &Compiled{source: body, parts: p.parts, tail: body[p.litStart:], litLen: p.litLen}
	t.litLen += len(t.tail)
	seen := make(map[string]bool, len(p.parts))
	for _, pt := range p.parts {
		if !seen[pt.name] {
			seen[pt.name] = true
			t.tags = append(t.tags, pt.name)
		}
	}
	return t, nil
}

type parser struct {
	src      string
	parts    []part
	errs     []*TagError
	litStart int // start of the literal text not yet attached to a part
	litLen   int
	runePos  int // rune count of src[:runeOff], advanced lazily
	runeOff  int
}

// run scans literal text for "{{" and "}}", parsing each tag in turn.
func (p *parser) run() {
	i := 0
	for i < len(p.src) && len(p.errs) < maxParseErrors {
		open := strings.Index(p.src[i:], "{{")
		closing := strings.Index(p.src[i:], "}}")
		if closing >= 0 && (open < 0 || closing < open) {
			at := i + closing
			p.fail(at, at+2, CodeMalformedMergeTag, "stray }} without a matching {{")
			i = at + 2
			continue
		}
		if open < 0 {
			return
		}
		start := i + open
		pt, end, err := p.parseTag(start)
		if err != nil {
			i = err.end
			if i == 0 {
				i = p.resumeAfter(err.resume)
			}
			p.fail(start, i, err.code, err.msg)
			continue
		}
		pt.literal = p.src[p.litStart:start]
		p.litLen += len(pt.literal)
		p.parts = append(p.parts, pt)
		p.litStart = end
		i = end
	}
}

// resumeAfter picks where scanning resumes after a bad tag: just past the next
// "}}" or at the next "{{", whichever comes first, so one typo does not
// hide the errors (or the valid tags) after it.
func (p *parser) resumeAfter(from int) int {
	rest := p.src[from:]
	closing := strings.Index(rest, "}}")
	open := strings.Index(rest, "{{")
	switch {
	case closing >= 0 && (open < 0 || closing < open):
		return from + closing + 2
	case open >= 0:
		return from + open
	}
	return len(p.src)
}

// fail records an error. Errors arrive in source order, so the rune
// position is counted on from the previous one rather than from the start.
func (p *parser) fail(start, end int, code, msg string) {
	p.runePos += utf8.RuneCountInString(p.src[p.runeOff:start])
	p.runeOff = start
	p.errs = append(p.errs, &TagError{
		Code:     code,
		Message:  msg,
		Offset:   start,
		Position: p.runePos,
		Tag:      clip(p.src[start:end], maxTagText),
	})
}

// clip shortens s to at most n bytes without splitting a rune.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// tagFailure is a problem inside one tag. end is the tag's end when it is
// known (a well-formed tag with a bad name); otherwise resume is where
// recovery starts looking for it.
type tagFailure struct {
	code   string
	msg    string
	resume int
	end    int
}

func malformed(at int, format string, args ...any) *tagFailure {
	return &tagFailure{code: CodeMalformedMergeTag, msg: fmt.Sprintf(format, args...), resume: at}
}

// parseTag reads one tag starting at the "{{" at start and returns it with
// the offset just past its "}}".
func (p *parser) parseTag(start int) (part, int, *tagFailure) {
	s := p.src
	j := p.skipSpace(start + 2)
	nameStart := j
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	name := s[nameStart:j]
	j = p.skipSpace(j)
	if name == "" {
		if strings.HasPrefix(s[j:], "}}") {
			return part{}, 0, malformed(j, "empty merge tag {{}}")
		}
		return part{}, 0, p.unexpected(j, "a merge tag name")
	}
	var fallback string
	hasFallback := j < len(s) && s[j] == '|'
	if hasFallback {
		fb, next, fail := p.parseDefault(j + 1)
		if fail != nil {
			return part{}, 0, fail
		}
		fallback = fb
		j = p.skipSpace(next)
	}
	if !strings.HasPrefix(s[j:], "}}") {
		if hasFallback {
			return part{}, 0, p.unexpected(j, "}} after the default value")
		}
		return part{}, 0, p.unexpected(j, fmt.Sprintf("}} or | after %q", name))
	}
	// The name is judged last: "{{first name}}" is a shape problem, not
	// an unknown tag called "first".
	pt, fail := resolveName(name)
	if fail != nil {
		fail.end = j + 2
		return part{}, 0, fail
	}
	pt.fallback, pt.hasFallback = fallback, hasFallback
	return pt, j + 2, nil
}

// unexpected explains what was found at j where want was expected, naming
// the common case of a tag that was never closed.
func (p *parser) unexpected(j int, want string) *tagFailure {
	s := p.src
	switch {
	case j >= len(s):
		return malformed(j, "merge tag is not closed with }}")
	case strings.HasPrefix(s[j:], "{{"):
		return malformed(j, "merge tag is not closed with }} before the next {{")
	}
	r, _ := utf8.DecodeRuneInString(s[j:])
	return malformed(j, "expected %s, found %q", want, r)
}

// parseDefault reads ` default: "text"` after the '|' at from-1.
func (p *parser) parseDefault(from int) (string, int, *tagFailure) {
	s := p.src
	j := p.skipSpace(from)
	k := j
	for k < len(s) && (isLetter(s[k]) || s[k] == '_') {
		k++
	}
	if filter := s[j:k]; filter != "default" {
		if filter == "" {
			return "", 0, p.unexpected(j, `a filter after | (only default: "..." is supported)`)
		}
		return "", 0, malformed(k, `unknown filter %q; only default: "..." is supported`, filter)
	}
	j = p.skipSpace(k)
	if j >= len(s) || s[j] != ':' {
		return "", 0, p.unexpected(j, "':' after default")
	}
	j = p.skipSpace(j + 1)
	if j >= len(s) || s[j] != '"' {
		return "", 0, p.unexpected(j, `a double-quoted default value such as "there"`)
	}
	return p.parseString(j)
}

// parseString reads a double-quoted string starting at the quote at q. The
// common case, no escapes, returns a substring of the source.
func (p *parser) parseString(q int) (string, int, *tagFailure) {
	s := p.src
	var b []byte
	from := q + 1
	for k := from; k < len(s); k++ {
		switch s[k] {
		case '"':
			if b == nil {
				return s[from:k], k + 1, nil
			}
			return string(append(b, s[from:k]...)), k + 1, nil
		case '\\':
			if k+1 < len(s) && (s[k+1] == '"' || s[k+1] == '\\') {
				b = append(b, s[from:k]...)
				b = append(b, s[k+1])
				k++
				from = k + 1
				continue
			}
			if k+1 >= len(s) {
				return "", 0, malformed(q+1, `default value is missing its closing "`)
			}
			r, _ := utf8.DecodeRuneInString(s[k+1:])
			return "", 0, malformed(k, `unsupported escape \%c in default value; only \" and \\ are allowed`, r)
		}
	}
	return "", 0, malformed(q+1, `default value is missing its closing "`)
}

func (p *parser) skipSpace(j int) int {
	for j < len(p.src) {
		switch p.src[j] {
		case ' ', '\t', '\n', '\r':
			j++
		default:
			return j
		}
	}
	return j
}
