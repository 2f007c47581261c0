package segment

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzCount feeds arbitrary bodies (invalid UTF-8 included) to Count, Split and
// Analyze: none may panic, and the split must agree with the count and obey
// every rule checkSplit knows.
func FuzzCount(f *testing.F) {
	for _, tc := range countCases {
		f.Add(tc.body)
	}
	f.Add("“Smart” quotes — and… more\t" + grin)
	f.Add("\u0600a\u0600\u0600" + flagUS + "\U0001F1FA" + "\r\r\n\n")
	f.Add(rep("a", 66) + "\xf0\x9f\x98" + rep("b", 10))

	f.Fuzz(func(t *testing.T, body string) {
		info := Count(body)
		require.Equal(t, body == "", info.Segments == 0)
		require.GreaterOrEqual(t, info.Remaining, 0)
		require.Less(t, info.Remaining, info.PerSegment+1)
		checkSplit(t, body)

		r := Analyze(body)
		require.Equal(t, info, r.Info)
		if info.Encoding == GSM7 {
			require.Empty(t, r.Culprits)
			return
		}
		require.NotEmpty(t, r.Culprits)
		runes := utf8.RuneCountInString(body)
		for _, c := range r.Culprits {
			require.Less(t, c.Position, runes)
		}
		if r.Suggested != "" {
			require.Equal(t, Count(r.Suggested).Segments, r.SuggestedSegments)
		}
	})
}
