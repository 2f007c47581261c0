package segment

import "unicode/utf8"

// Encoding is the data coding a carrier picks for a body.
type Encoding string

const (
	// GSM7 is the GSM 03.38 default alphabet, 7 bits a character.
	GSM7 Encoding = "GSM-7"
	// UCS2 is 16 bits a code unit; carriers send UTF-16, surrogate pairs included.
	UCS2 Encoding = "UCS-2"
)

// Limits, in carrier units, of one segment. A concatenated body loses 6 octets
// of every segment to the user data header: 7 septets in GSM-7, 3 code units in
// UCS-2.
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// escape marks code 0x1B of the default alphabet: it is not a character but the
// escape to the extension table.
const escape rune = -1

// defaultAlphabet is the GSM 03.38 default alphabet in code order, 0x00 to
// 0x7F, laid out 16 codes a row so that it can be checked against the
// standard's table column by column. Where it differs from ASCII it matters:
// '@' is 0x00, '$' is 0x02, '_' is 0x11, 0x24 is the currency sign '¤', 0x40
// is '¡' and 0x60 is '¿', so the backtick has no code at all.
//
// 0x09 is CAPITAL C with cedilla, as the ETSI table draws it. The Unicode
// consortium's mapping file reads it as small c with cedilla, and some
// gateways follow one, some the other; Herald follows the standard, so 'ç'
// sends a body in UCS-2 and 'Ç' does not.
var defaultAlphabet = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', escape, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// extensionTable holds the characters of the GSM 03.38 extension table, each
// sent as the escape 0x1B followed by the code given here. The table's other
// codes are unassigned (or national single-shift tables, which carriers do not
// use for this kind of traffic).
var extensionTable = map[byte]rune{
	0x0A: '\f',
	0x14: '^',
	0x28: '{',
	0x29: '}',
	0x2F: '\\',
	0x3C: '[',
	0x3D: '~',
	0x3E: ']',
	0x40: '|',
	0x65: '€',
}

// costTableSize covers every rune of the default alphabet (the highest is 'Ω',
// U+03A9) so that septets is one array index for all of them.
const costTableSize = 0x400

// costs is the GSM-7 cost, in septets, of each rune below costTableSize:
// 1 for the default alphabet, 2 for the extension table, 0 for neither.
var costs = buildCosts()

func buildCosts() *[costTableSize]uint8 {
	var t [costTableSize]uint8
	for _, r := range defaultAlphabet {
		if r != escape {
			t[r] = 1
		}
	}
	for _, r := range extensionTable {
		if r < costTableSize {
			t[r] = 2
		}
	}
	return &t
}

// septets returns what r costs in GSM-7: 1 or 2 septets, or 0 when GSM-7
// cannot carry it.
func septets(r rune) int {
	if uint32(r) < costTableSize {
		return int(costs[r])
	}
	if r == '€' { // the only character of either table above U+03FF
		return 2
	}
	return 0
}

// gsmSeptets returns the length of body in septets, and false when a
// character of body is outside GSM-7. It is the first step of every count, so
// it walks ASCII bytes without decoding them.
func gsmSeptets(body string) (int, bool) {
	n := 0
	for i := 0; i < len(body); {
		if c := body[i]; c < utf8.RuneSelf {
			k := costs[c]
			if k == 0 {
				return 0, false
			}
			n += int(k)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		k := septets(r)
		if k == 0 {
			return 0, false
		}
		n += k
		i += size
	}
	return n, true
}

// utf16Units returns what r costs in UCS-2: 2 code units outside the Basic
// Multilingual Plane, 1 inside it. Bytes that are not UTF-8 arrive here as
// U+FFFD, which is what a carrier would be sent in their place.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// utf16Len returns the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n += utf16Units(r)
		i += size
	}
	return n
}
