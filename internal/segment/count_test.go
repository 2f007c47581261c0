package segment

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bodies used by several tests. Their costs, worked out from the code charts:
// an emoji outside the Basic Multilingual Plane is a surrogate pair (2 UTF-16
// units); a flag is two regional indicators (4 units); a thumbs-up with a skin
// tone is two such emoji (4 units); the family is man, woman, girl, boy (2
// units each) joined by three ZWJs (1 unit each): 11 units.
const (
	grin      = "\U0001F600"                                                 // 😀
	flagUS    = "\U0001F1FA\U0001F1F8"                                       // 🇺🇸
	flagFR    = "\U0001F1EB\U0001F1F7"                                       // 🇫🇷
	thumbSkin = "\U0001F44D\U0001F3FD"                                       // 👍🏽
	family    = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466" // 👨‍👩‍👧‍👦
	eAcuteNFD = "e\u0301"                                                    // e + combining acute: looks like é, is not GSM-7
)

var rep = strings.Repeat

type countCase struct {
	name      string
	body      string
	enc       Encoding
	chars     int
	segments  int
	per       int
	remaining int
}

// countCases are worked out by hand from the GSM 03.38 tables (default
// alphabet and extension table) and the carriers' segment rules: 160/153
// septets, 70/67 UTF-16 units, and greedy packing that never splits an escape
// pair, a surrogate pair or (in UCS-2) a grapheme cluster that fits a segment.
var countCases = []countCase{
	// GSM-7 lengths around the segment limits.
	{"empty", "", GSM7, 0, 0, 160, 160},
	{"short", "hello", GSM7, 5, 1, 160, 155},
	{"160 septets is one segment", rep("a", 160), GSM7, 160, 1, 160, 0},
	{"161 septets is 153+8", rep("a", 161), GSM7, 161, 2, 153, 145},
	{"153*2 septets", rep("a", 306), GSM7, 306, 2, 153, 0},
	{"153*2+1 septets", rep("a", 307), GSM7, 307, 3, 153, 152},
	{"153*10 septets", rep("a", 1530), GSM7, 1530, 10, 153, 0},
	{"153*10+1 septets", rep("a", 1531), GSM7, 1531, 11, 153, 152},

	// The extension table costs two septets and its escape pair is never split.
	{"euro alone", "€", GSM7, 2, 1, 160, 158},
	{"euro makes 158 into 160", rep("a", 158) + "€", GSM7, 160, 1, 160, 0},
	{"euro pushes 160 to 161", rep("a", 159) + "€", GSM7, 161, 2, 153, 145},
	{"euro after 153 still one segment", rep("a", 153) + "€", GSM7, 155, 1, 160, 5},
	{"euro ends segment one exactly", rep("a", 151) + "€" + rep("b", 10), GSM7, 163, 2, 153, 143},
	{"euro at septet 153 moves whole", rep("a", 152) + "€" + rep("b", 10), GSM7, 164, 2, 153, 141},
	{"escape moved costs a segment", rep("a", 152) + "€" + rep("b", 152), GSM7, 306, 3, 153, 152},
	{"80 euros is 160 septets", rep("€", 80), GSM7, 160, 1, 160, 0},
	{"81 euros is 76+5", rep("€", 81), GSM7, 162, 2, 153, 143},
	{"brackets and braces", "[]{}", GSM7, 8, 1, 160, 152},
	{"backslash caret tilde bar", `\^~|`, GSM7, 8, 1, 160, 152},
	{"form feed is in the extension table", "\f", GSM7, 2, 1, 160, 158},

	// The default alphabet beyond ASCII.
	{"at pound dollar yen", "@£$¥", GSM7, 4, 1, 160, 156},
	{"latin letters of the default alphabet", "£¥èéùìòÇØøÅåÆæßÉÄÖÑÜ§¿äöñüà¤¡", GSM7, 29, 1, 160, 131},
	{"greek capitals of the default alphabet", "ΔΦΓΛΩΠΨΣΘΞ", GSM7, 10, 1, 160, 150},
	{"underscore", "_", GSM7, 1, 1, 160, 159},
	{"CRLF", "\r\n", GSM7, 2, 1, 160, 158},
	{"LF", "Line 1\nLine 2", GSM7, 13, 1, 160, 147},
	{"CRLF past 160", rep("a", 159) + "\r\n", GSM7, 161, 2, 153, 145},
	{"capital C cedilla", "Ça va", GSM7, 5, 1, 160, 155},
	{"precomposed e acute", "é", GSM7, 1, 1, 160, 159},
	{"160 non-ASCII GSM letters", rep("Ç", 160), GSM7, 160, 1, 160, 0},
	{"greek omega of the table", "\u03A9", GSM7, 1, 1, 160, 159},

	// One character outside both tables sends everything in UCS-2.
	{"small c cedilla", "ça va", UCS2, 5, 1, 70, 65},
	{"a acute", "á", UCS2, 1, 1, 70, 69},
	{"E circumflex", "Ê", UCS2, 1, 1, 70, 69},
	{"greek Alpha Beta are not latin A B", "\u0391\u0392\u0393", UCS2, 3, 1, 70, 67},
	{"ohm sign is not omega", "\u2126", UCS2, 1, 1, 70, 69},
	{"tab", "a\tb", UCS2, 3, 1, 70, 67},
	{"backtick", "`code`", UCS2, 6, 1, 70, 64},
	{"curly apostrophe", "it’s", UCS2, 4, 1, 70, 66},
	{"curly double quotes", "“Hi”", UCS2, 4, 1, 70, 66},
	{"en dash", "a–b", UCS2, 3, 1, 70, 67},
	{"em dash", "a—b", UCS2, 3, 1, 70, 67},
	{"no-break space", "a\u00A0b", UCS2, 3, 1, 70, 67},
	{"ellipsis", "Wait…", UCS2, 5, 1, 70, 65},
	{"NUL is not @", "\x00", UCS2, 1, 1, 70, 69},
	{"ESC is not a character", "\x1b", UCS2, 1, 1, 70, 69},
	{"cent sign", "¢", UCS2, 1, 1, 70, 69},
	{"micro sign", "µ", UCS2, 1, 1, 70, 69},
	{"chinese", "你好", UCS2, 2, 1, 70, 68},
	{"invalid UTF-8 counts as U+FFFD", "\xff", UCS2, 1, 1, 70, 69},
	{"astral letter is a surrogate pair", "\U0001D400", UCS2, 2, 1, 70, 68},
	{"decomposed e acute", eAcuteNFD, UCS2, 2, 1, 70, 68},
	{"extension chars cost 1 in UCS-2", "{[€]} " + grin, UCS2, 8, 1, 70, 62},

	// UCS-2 lengths around the segment limits.
	{"70 units is one segment", rep("ж", 70), UCS2, 70, 1, 70, 0},
	{"71 units is 67+4", rep("ж", 71), UCS2, 71, 2, 67, 63},
	{"67*2 units", rep("ж", 134), UCS2, 134, 2, 67, 0},
	{"67*2+1 units", rep("ж", 135), UCS2, 135, 3, 67, 66},
	{"150 units", rep("a", 150) + grin, UCS2, 152, 3, 67, 49},

	// Surrogate pairs.
	{"one emoji", grin, UCS2, 2, 1, 70, 68},
	{"emoji and text", "Hello " + grin, UCS2, 8, 1, 70, 62},
	{"emoji filling 70 exactly", rep("a", 68) + grin, UCS2, 70, 1, 70, 0},
	{"35 emoji is 70 units", rep(grin, 35), UCS2, 70, 1, 70, 0},
	{"36 emoji is 33+3", rep(grin, 36), UCS2, 72, 2, 67, 61},
	{"67 emoji need 3 segments not 2", rep(grin, 67), UCS2, 134, 3, 67, 65},
	{"emoji past 70", rep("a", 69) + grin, UCS2, 71, 2, 67, 63},
	{"emoji ends segment one exactly", rep("a", 65) + grin + rep("a", 10), UCS2, 77, 2, 67, 57},
	{"emoji at unit 67 moves whole", rep("a", 66) + grin + rep("a", 10), UCS2, 78, 2, 67, 55},
	{"moved emoji costs a segment", rep("a", 66) + grin + rep("a", 66), UCS2, 134, 3, 67, 66},

	// Grapheme clusters.
	{"flag", flagUS, UCS2, 4, 1, 70, 66},
	{"flag at the boundary", rep("a", 65) + flagUS + rep("a", 5), UCS2, 74, 2, 67, 58},
	{"two flags are two clusters", rep("a", 66) + flagUS + flagFR, UCS2, 74, 2, 67, 59},
	{"skin tone", thumbSkin, UCS2, 4, 1, 70, 66},
	{"skin tone at the boundary", rep("a", 64) + thumbSkin + rep("a", 10), UCS2, 78, 2, 67, 53},
	{"ZWJ family", family, UCS2, 11, 1, 70, 59},
	{"ZWJ family at the boundary", rep("a", 60) + family + rep("a", 10), UCS2, 81, 2, 67, 46},
	{"ZWJ family ends segment one", rep("a", 56) + family + rep("a", 10), UCS2, 77, 2, 67, 57},
	{"heart with variation selector", "\u2764\uFE0F", UCS2, 2, 1, 70, 68},
	{"combining accent at the boundary", rep("a", 66) + eAcuteNFD + rep("a", 10), UCS2, 78, 2, 67, 55},
	{"cluster longer than a segment", "a" + rep("\u0301", 100), UCS2, 101, 2, 67, 33},
	{"CRLF at the UCS-2 boundary", rep("ж", 66) + "\r\n" + rep("ж", 5), UCS2, 73, 2, 67, 60},
}

func TestCount(t *testing.T) {
	t.Parallel()

	require.GreaterOrEqual(t, len(countCases), 60)
	for _, tc := range countCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			want := Info{Encoding: tc.enc, Characters: tc.chars, Segments: tc.segments, PerSegment: tc.per, Remaining: tc.remaining}
			require.Equal(t, want, Count(tc.body))
		})
	}
}

// TestCountDoesNotAllocateForGSM7 is the one test here that is not parallel:
// testing.AllocsPerRun refuses to run in a parallel test, since other tests'
// allocations would be counted too.
func TestCountDoesNotAllocateForGSM7(t *testing.T) {
	for _, body := range []string{"", benchGSM, rep("a", 152) + "€" + rep("b", 152), "£¥èéùìò ΔΦΓ €"} {
		allocs := testing.AllocsPerRun(100, func() { Count(body) })
		require.Zero(t, allocs, "body %q", body)
	}
}
