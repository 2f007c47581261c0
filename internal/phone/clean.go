package phone

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxExtensionDigits is the longest extension recognised; longer trailing
// digit runs after an "x" are not an extension, and the "x" a stray letter.
const maxExtensionDigits = 7

// extensionMarkers introduce an extension, longest first where one is the
// suffix of another ("ext." before "ext"). The input is lower-cased first.
var extensionMarkers = []string{";ext=", "extension", "ext.", "ext", "x", "#"}

// clean reduces raw to what phonenumbers parses: an optional leading '+'
// followed by ASCII digits. It also splits off an extension, and says why
// when raw is not a number at all.
func clean(raw string) (digits, ext string, reason Reason) {
	s := strings.TrimFunc(raw, isBlank)
	switch {
	case s == "":
		return "", "", ReasonEmpty
	case len(s) > MaxInputBytes:
		return "", "", ReasonTooLong
	}
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	// Every rune becomes at most one byte, so the folded form fits here.
	var buf [MaxInputBytes]byte
	folded := buf[:0]
	for _, r := range s {
		b, reason := fold(r)
		if reason != "" {
			return "", "", reason
		}
		folded = append(folded, b)
	}
	main, ext := splitExtension(string(folded))
	out := buf[:0] // main is a copy, so buf can be reused
	for i := 0; i < len(main); i++ {
		switch c := main[i]; {
		case c >= '0' && c <= '9':
			out = append(out, c)
		case c == '+' && len(out) == 0:
			out = append(out, c)
		case c == ' ':
		case c >= 'a' && c <= 'z':
			return "", "", ReasonLetters
		default: // a second or late '+', or ';', '=', '#' outside an extension
			return "", "", ReasonBadCharacters
		}
	}
	if len(out) == 0 || (len(out) == 1 && out[0] == '+') {
		return "", "", ReasonNoDigits
	}
	return string(out), ext, ""
}

// fold maps one rune of a written number onto one ASCII byte: a digit, '+',
// a lower-case letter, one of ";=#" (kept for extension markers), or ' ' for
// any separator. Any other rune yields a Reason.
func fold(r rune) (byte, Reason) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), ""
	case r >= 'a' && r <= 'z':
		return byte(r), ""
	case r >= 'A' && r <= 'Z':
		return byte(r) + ('a' - 'A'), ""
	case r == '+' || r == '＋':
		return '+', ""
	case r == ';' || r == '=' || r == '#':
		return byte(r), ""
	case isSeparator(r):
		return ' ', ""
	case r == utf8.RuneError: // invalid UTF-8 (or U+FFFD itself)
		return 0, ReasonBadCharacters
	case unicode.Is(unicode.Nd, r):
		return '0' + digitValue(r), ""
	case unicode.IsLetter(r):
		return 0, ReasonLetters
	default:
		return 0, ReasonBadCharacters
	}
}

// separators are the non-space, non-dash punctuation people put between
// digit groups, ASCII and fullwidth.
const separators = ".()[]/~．（）［］／～"

// invisibles are the format characters that copying a number from a web
// page, a chat or a spreadsheet tends to bring along: soft hyphen, zero-width
// space, non-joiner and joiner, the left-to-right and right-to-left marks,
// word joiner and byte order mark. Other format characters, such as the
// bidirectional overrides that can make "3333-626-437" display as
// "734-626-3333", are refused.
const invisibles = "\u00AD\u200B\u200C\u200D\u200E\u200F\u2060\uFEFF"

// isSeparator reports whether r only groups digits: white space, any dash,
// the minus sign, the punctuation in separators, or one of the invisibles.
func isSeparator(r rune) bool {
	return isBlank(r) || unicode.Is(unicode.Pd, r) || r == '−' || strings.ContainsRune(separators, r)
}

// isBlank reports whether r may be trimmed from either end of the input.
func isBlank(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(invisibles, r)
}

// digitValue returns the value of r, a decimal digit (Unicode category Nd)
// of any script. Unicode assigns those in contiguous runs of ten from zero
// to nine, so a digit's value is its distance from the start of its range
// in the Nd table, modulo ten.
func digitValue(r rune) byte {
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return byte((r - lo) % 10)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return byte((r - lo) % 10)
		}
	}
	return 0 // not reached: callers pass Nd runes only
}

// splitExtension splits a folded number into its main part and the digits of
// a trailing extension, if it ends with a marker and one to seven digits.
func splitExtension(s string) (main, ext string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if n := len(s) - i; n == 0 || n > maxExtensionDigits {
		return s, ""
	}
	head := strings.TrimRight(s[:i], " ")
	for _, m := range extensionMarkers {
		if strings.HasSuffix(head, m) {
			return strings.TrimRight(head[:len(head)-len(m)], " "), s[i:]
		}
	}
	return s, ""
}
