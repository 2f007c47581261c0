package segment

import (
	"strings"
	"unicode/utf8"
)

// Culprit is one character, as a reader sees it (a grapheme cluster), that
// GSM-7 cannot carry and that therefore sends the whole body in UCS-2.
type Culprit struct {
	Char string `json:"char"`
	// Position is the index, in runes, of the character's first rune in the body.
	Position int `json:"position"`
	// Replacement is a GSM-7 look-alike for Char, when there is one.
	Replacement string `json:"replacement,omitempty"`
}

// Report is Count's answer plus what a template author needs to make a UCS-2
// body cheaper: most such bodies are forced into UCS-2 by a curly quote or a
// dash that a word processor slipped in, and cost two or three times as many
// segments as the same text with a plain quote.
type Report struct {
	Info
	Culprits []Culprit `json:"culprits,omitempty"`
	// Suggested is the body with every look-alike replaced, when there is one.
	Suggested string `json:"suggested,omitempty"`
	// SuggestedSegments is Suggested's segment count.
	SuggestedSegments int `json:"suggested_segments,omitempty"`
	// SavedSegments is how many segments Suggested saves, reported only when
	// it travels in GSM-7 (if an emoji keeps it in UCS-2, the look-alikes are
	// still worth fixing but rarely save a segment).
	SavedSegments int `json:"saved_segments,omitempty"`
}

// Analyze counts body and, for a UCS-2 body, lists the characters that forced
// UCS-2 and suggests GSM-7 look-alikes for the ones that have them. Look-alikes
// are typography only (quotes, dashes, spaces, ellipses, bullets, full-width
// forms, and a letter with a combining accent that GSM-7 has precomposed): a
// letter is never changed into another one, so 'ç' and 'á' are reported
// without a replacement.
func Analyze(body string) Report {
	r := Report{Info: Count(body)}
	if r.Encoding == GSM7 {
		return r
	}
	var suggested strings.Builder
	suggested.Grow(len(body))
	replaced := false
	pos, state := 0, -1
	for off := 0; off < len(body); {
		var n int
		n, state = nextCluster(body[off:], state)
		cluster := body[off : off+n]
		off += n
		out := cluster
		if !fitsGSM(cluster) {
			repl, ok := lookAlike(cluster)
			r.Culprits = append(r.Culprits, Culprit{Char: cluster, Position: pos, Replacement: repl})
			if ok {
				out, replaced = repl, true
			}
		}
		suggested.WriteString(out)
		pos += utf8.RuneCountInString(cluster)
	}
	if !replaced {
		return r
	}
	r.Suggested = suggested.String()
	s := Count(r.Suggested)
	r.SuggestedSegments = s.Segments
	if s.Encoding == GSM7 && s.Segments < r.Segments {
		r.SavedSegments = r.Segments - s.Segments
	}
	return r
}

// fitsGSM reports whether GSM-7 can carry every rune of s.
func fitsGSM(s string) bool {
	_, ok := gsmSeptets(s)
	return ok
}

// lookAlike returns the GSM-7 text that looks like cluster, if there is one.
func lookAlike(cluster string) (string, bool) {
	r, size := utf8.DecodeRuneInString(cluster)
	if size == len(cluster) {
		return runeLookAlike(r)
	}
	s, ok := precomposed[cluster]
	return s, ok
}

// runeLookAlike returns the GSM-7 text that looks like r, if there is one.
func runeLookAlike(r rune) (string, bool) {
	if s, ok := lookAlikes[r]; ok {
		return s, true
	}
	// Full-width forms of ASCII (U+FF01 to U+FF5E) look like their ASCII
	// originals, all of which GSM-7 carries but the backtick.
	if r >= 0xFF01 && r <= 0xFF5E {
		a := r - 0xFEE0
		if a == '`' {
			return "'", true
		}
		return string(a), true
	}
	return "", false
}

// lookAlikes maps characters outside GSM-7 to GSM-7 text that reads the same.
var lookAlikes = map[rune]string{
	// Single quotes, apostrophes and primes.
	'\u2018': "'", // ‘ left single quotation mark
	'\u2019': "'", // ’ right single quotation mark
	'\u201A': "'", // ‚ single low-9 quotation mark
	'\u201B': "'", // ‛ single high-reversed-9 quotation mark
	'\u2032': "'", // ′ prime
	'\u2035': "'", // ‵ reversed prime
	'\u02B9': "'", // ʹ modifier letter prime
	'\u02BB': "'", // ʻ modifier letter turned comma
	'\u02BC': "'", // ʼ modifier letter apostrophe
	'\u02BD': "'", // ʽ modifier letter reversed comma
	'\u02C8': "'", // ˈ modifier letter vertical line
	'\u00B4': "'", // ´ acute accent
	'`':      "'", // grave accent: the one printable ASCII character GSM-7 lacks

	// Double quotes.
	'\u201C': `"`, // “ left double quotation mark
	'\u201D': `"`, // ” right double quotation mark
	'\u201E': `"`, // „ double low-9 quotation mark
	'\u201F': `"`, // ‟ double high-reversed-9 quotation mark
	'\u2033': `"`, // ″ double prime
	'\u2036': `"`, // ‶ reversed double prime
	'\u00AB': `"`, // « left-pointing double angle quotation mark
	'\u00BB': `"`, // » right-pointing double angle quotation mark
	'\u02BA': `"`, // ʺ modifier letter double prime
	'\u02EE': `"`, // ˮ modifier letter double apostrophe
	'\u275D': `"`, // ❝ heavy double turned comma quotation mark ornament
	'\u275E': `"`, // ❞ heavy double comma quotation mark ornament
	'\u301D': `"`, // 〝 reversed double prime quotation mark
	'\u301E': `"`, // 〞 double prime quotation mark

	// Hyphens, dashes and minus signs.
	'\u2010': "-", // ‐ hyphen
	'\u2011': "-", // ‑ non-breaking hyphen
	'\u2012': "-", // ‒ figure dash
	'\u2013': "-", // – en dash
	'\u2014': "-", // — em dash
	'\u2015': "-", // ― horizontal bar
	'\u2212': "-", // − minus sign
	'\uFE58': "-", // ﹘ small em dash
	'\uFE63': "-", // ﹣ small hyphen-minus

	// Spaces and line breaks.
	'\t':     " ",  // character tabulation
	'\u00A0': " ",  // no-break space
	'\u1680': " ",  // ogham space mark
	'\u2000': " ",  // en quad
	'\u2001': " ",  // em quad
	'\u2002': " ",  // en space
	'\u2003': " ",  // em space
	'\u2004': " ",  // three-per-em space
	'\u2005': " ",  // four-per-em space
	'\u2006': " ",  // six-per-em space
	'\u2007': " ",  // figure space
	'\u2008': " ",  // punctuation space
	'\u2009': " ",  // thin space
	'\u200A': " ",  // hair space
	'\u202F': " ",  // narrow no-break space
	'\u205F': " ",  // medium mathematical space
	'\u3000': " ",  // ideographic space
	'\u0085': "\n", // next line
	'\u2028': "\n", // line separator
	'\u2029': "\n", // paragraph separator

	// Dots, bullets and other punctuation.
	'\u2026': "...", // … horizontal ellipsis
	'\u2024': ".",   // ․ one dot leader
	'\u2025': "..",  // ‥ two dot leader
	'\u2022': "-",   // • bullet
	'\u2023': "-",   // ‣ triangular bullet
	'\u2043': "-",   // ⁃ hyphen bullet
	'\u2044': "/",   // ⁄ fraction slash
	'\u2215': "/",   // ∕ division slash
	'\u00A6': "|",   // ¦ broken bar
	'\u02C6': "^",   // ˆ modifier letter circumflex accent
	'\u02DC': "~",   // ˜ small tilde
}

// precomposed maps a letter followed by a combining accent (as text pasted
// from some systems arrives, decomposed) to the precomposed letter that the
// default alphabet has.
var precomposed = map[string]string{
	"a\u0300": "à", "e\u0300": "è", "i\u0300": "ì", "o\u0300": "ò", "u\u0300": "ù",
	"e\u0301": "é", "E\u0301": "É",
	"A\u0308": "Ä", "O\u0308": "Ö", "U\u0308": "Ü", "a\u0308": "ä", "o\u0308": "ö", "u\u0308": "ü",
	"N\u0303": "Ñ", "n\u0303": "ñ",
	"A\u030A": "Å", "a\u030A": "å",
	"C\u0327": "Ç",
}
