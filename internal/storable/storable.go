// Package storable says which text Herald keeps. PostgreSQL's text and
// jsonb hold only valid UTF-8 without the NUL character; SQLite would keep
// either. Herald refuses such text on both engines alike, at the edge where
// the refusal can name its field, and cleans it where it must keep what
// came (a carrier's report) rather than refuse it.
package storable

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Text reports whether s is valid UTF-8 holding no NUL character.
func Text(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// Clean returns s made storable: bytes that are not UTF-8 become U+FFFD
// and NUL characters are dropped.
func Clean(s string) string {
	if Text(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// Why says what is wrong with text that is not storable, as the end of a
// sentence naming it: "first_name " + Why(v).
func Why(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "holds a NUL character, which text may not contain"
	}
	return "is not UTF-8 text"
}

// Form returns the first name in vs, in sorted order, that is not
// storable or has a value that is not, with Why of what is wrong; or two
// empty strings when all are storable.
func Form(vs url.Values) (name, why string) {
	var bad []string
	for n, values := range vs {
		if !Text(n) || slices.ContainsFunc(values, func(v string) bool { return !Text(v) }) {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return "", ""
	}
	name = slices.Min(bad) // the same request always names the same field
	if !Text(name) {
		return name, Why(name)
	}
	i := slices.IndexFunc(vs[name], func(v string) bool { return !Text(v) })
	return name, Why(vs[name][i])
}

// JSON reports whether every string in a decoded JSON value (object keys
// included) is storable. Values of other types hold no text.
func JSON(v any) bool {
	switch v := v.(type) {
	case string:
		return Text(v)
	case map[string]any:
		for k, e := range v {
			if !Text(k) || !JSON(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !JSON(e) {
				return false
			}
		}
	}
	return true
}
