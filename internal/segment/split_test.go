package segment

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body string
		want []string
	}{
		{"empty", "", nil},
		{"one segment", "hi", []string{"hi"}},
		{"160 septets", rep("a", 160), []string{rep("a", 160)}},
		{"161 septets", rep("a", 161), []string{rep("a", 153), rep("a", 8)}},
		{"euro at septet 153 moves whole", rep("a", 152) + "€" + rep("b", 10), []string{rep("a", 152), "€" + rep("b", 10)}},
		{"euro ends segment one", rep("a", 151) + "€" + rep("b", 10), []string{rep("a", 151) + "€", rep("b", 10)}},
		{"moved escape costs a segment", rep("a", 152) + "€" + rep("b", 152), []string{rep("a", 152), "€" + rep("b", 151), "b"}},
		{"70 units", rep("ж", 70), []string{rep("ж", 70)}},
		{"71 units", rep("ж", 71), []string{rep("ж", 67), rep("ж", 4)}},
		{"emoji at unit 67", rep("a", 66) + grin + rep("a", 10), []string{rep("a", 66), grin + rep("a", 10)}},
		{"emoji pairs", rep(grin, 67), []string{rep(grin, 33), rep(grin, 33), grin}},
		{"flag", rep("a", 65) + flagUS + rep("a", 5), []string{rep("a", 65), flagUS + rep("a", 5)}},
		{"skin tone", rep("a", 64) + thumbSkin + rep("a", 10), []string{rep("a", 64), thumbSkin + rep("a", 10)}},
		{"ZWJ family", rep("a", 60) + family + rep("a", 10), []string{rep("a", 60), family + rep("a", 10)}},
		{"combining accent", rep("a", 66) + eAcuteNFD + rep("a", 10), []string{rep("a", 66), eAcuteNFD + rep("a", 10)}},
		{"CRLF in UCS-2", rep("ж", 66) + "\r\n" + rep("ж", 5), []string{rep("ж", 66), "\r\n" + rep("ж", 5)}},
		{"cluster longer than a segment", "a" + rep("\u0301", 100), []string{"a" + rep("\u0301", 66), rep("\u0301", 34)}},
		{"long cluster after text", rep("ж", 60) + "a" + rep("\u0301", 100), []string{rep("ж", 60) + "a" + rep("\u0301", 6), rep("\u0301", 67), rep("\u0301", 27)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tc.want, Split(tc.body))
			checkSplit(t, tc.body)
		})
	}
}

// TestSplitProperties checks every body of the count table, and a few long
// mixed ones, against the rules a carrier's split follows.
func TestSplitProperties(t *testing.T) {
	t.Parallel()

	bodies := []string{
		rep("Hi {name}, your reward is €10! ", 20),
		rep("Merci, ça marche ", 20),
		rep("ab"+flagUS+thumbSkin+family+eAcuteNFD+"\r\n", 15),
		rep("x"+grin, 100),
		rep("y", 67) + rep(family, 10),
	}
	for _, tc := range countCases {
		bodies = append(bodies, tc.body)
	}
	for _, body := range bodies {
		checkSplit(t, body)
	}
}

// checkSplit asserts what must hold for the split of any body: as many parts
// as Count says, joined they give body back, each within its limit and the
// units adding up to Count's, no boundary inside a rune or (in UCS-2) inside a
// grapheme cluster that fits a segment, and greedy: no part could have taken
// what starts the next one.
func checkSplit(t *testing.T, body string) {
	t.Helper()

	info := Count(body)
	parts := Split(body)
	require.Len(t, parts, info.Segments, "body %q", body)
	require.Equal(t, body, strings.Join(parts, ""))
	if body == "" {
		return
	}

	measure := septetsOf
	if info.Encoding == UCS2 {
		measure = utf16Of
	}
	total := 0
	for i, p := range parts {
		require.NotEmpty(t, p)
		u := measure(p)
		require.LessOrEqual(t, u, info.PerSegment, "part %d of %q", i, body)
		total += u
		if i < len(parts)-1 {
			next := firstUnit(parts[i+1], info.Encoding)
			require.Greater(t, u+measure(next), info.PerSegment, "part %d of %q could take %q", i, body, next)
		}
	}
	require.Equal(t, info.Characters, total)
	require.Equal(t, info.PerSegment-measure(parts[len(parts)-1]), info.Remaining)

	// A boundary must be a rune boundary of the whole body, and in UCS-2 a
	// grapheme boundary unless the cluster is too long for any segment.
	runeStarts := make([]bool, len(body)+1)
	for i := range body {
		runeStarts[i] = true
	}
	clusterStarts := make([]bool, len(body)+1)
	g := uniseg.NewGraphemes(body)
	for g.Next() {
		from, to := g.Positions()
		if utf16Of(body[from:to]) > ucs2Multi {
			for i := range body[from:to] {
				clusterStarts[from+i] = true
			}
		} else {
			clusterStarts[from] = true
		}
	}
	off := 0
	for _, p := range parts[:len(parts)-1] {
		off += len(p)
		require.True(t, runeStarts[off], "cut inside a rune at byte %d of %q", off, body)
		if info.Encoding == UCS2 {
			require.True(t, clusterStarts[off], "cut inside a grapheme cluster at byte %d of %q", off, body)
		}
	}
}

// septetsOf measures a GSM-7 text the way the standard does, without the
// package's tables: the extension characters cost 2, the rest 1.
func septetsOf(s string) int {
	n := 0
	for _, r := range s {
		n++
		if strings.ContainsRune("\f^{}\\[~]|€", r) {
			n++
		}
	}
	return n
}

// utf16Of measures a text in UTF-16 code units with the standard library.
func utf16Of(s string) int {
	return len(utf16.Encode([]rune(s)))
}

// firstUnit returns what a segment starting with s must take whole: a rune in
// GSM-7; in UCS-2 a grapheme cluster, or its first rune when the cluster is too
// long for any segment.
func firstUnit(s string, enc Encoding) string {
	first := []rune(s)[0]
	if enc == GSM7 {
		return string(first)
	}
	cluster, _, _, _ := uniseg.FirstGraphemeClusterInString(s, -1)
	if utf16Of(cluster) > ucs2Multi {
		return string(first)
	}
	return cluster
}
