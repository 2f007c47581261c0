package segment

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestSeptets checks single characters against the GSM 03.38 default alphabet
// and extension table as the standard prints them, with the characters people
// most often assume to be in GSM-7 and are not.
func TestSeptets(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		chars string
		want  int
	}{
		{"default alphabet, non-ASCII", "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", 1},
		{"default alphabet, ASCII relocated", "@$_", 1},
		{"default alphabet, controls", "\n\r", 1},
		{"default alphabet, space", " ", 1},
		{"extension table", "\f^{}\\[]~|€", 2},
		{"accented letters GSM lacks", "çáíóúâêîôûãõëïÿÀÁÂÃÈÊËÌÍÎÏÒÓÔÕÙÚÛÝ", 0},
		{"greek letters that look latin", "\u0391\u0392\u0395\u0397\u0399\u039A\u039C\u039D\u039F\u03A1\u03A4\u03A5\u03A7\u0396", 0},
		{"greek small letters", "αβγδλμπσω", 0},
		{"look-alike signs", "\u2126\u2206", 0},
		{"typography", "‘’‚‛“”„–—…•\u00A0\u2009", 0},
		{"ASCII GSM lacks", "`\t\x00\x1b\x7f\v", 0},
		{"currency GSM lacks", "¢₹₽₩", 0},
		{"emoji", grin, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			for _, r := range tc.chars {
				require.Equal(t, tc.want, septets(r), "%q U+%04X", r, r)
			}
		})
	}
}

// TestPrintableASCII: of printable ASCII, GSM-7 lacks only the backtick, and
// carries nine characters in its extension table.
func TestPrintableASCII(t *testing.T) {
	t.Parallel()

	for r := rune(0x20); r <= 0x7E; r++ {
		want := 1
		switch {
		case r == '`':
			want = 0
		case strings.ContainsRune(`^{}\[~]|`, r):
			want = 2
		}
		require.Equal(t, want, septets(r), "%q", r)
	}
}

// TestAlphabetSize counts every Unicode scalar value GSM-7 can carry: the
// default alphabet's 128 codes less the escape, and the extension table's 10
// characters.
func TestAlphabetSize(t *testing.T) {
	t.Parallel()

	var basic, ext int
	for r := rune(0); r <= unicode.MaxRune; r++ {
		switch septets(r) {
		case 1:
			basic++
		case 2:
			ext++
		}
	}
	require.Equal(t, 127, basic)
	require.Equal(t, 10, ext)
}
