package segment

import "testing"

// benchGSM is a typical 120-character GSM-7 body; benchUCS2 is the same
// message with an emoji and a curly apostrophe, 123 UTF-16 units, so it takes
// the multi-segment path with grapheme clusters.
const (
	benchGSM  = "Hi Maria, Sam joined via your link! You've earned a $10 reward. Redeem by Friday: hrld.io/r/Ab3dE9 Reply STOP to opt out"
	benchUCS2 = "Hi Maria \U0001F389 Sam joined with your link! You’ve earned a $10 reward. Redeem by Friday: hrld.io/r/Ab3dE9 Reply STOP to opt out"
)

var benchBodies = []struct {
	name  string
	body  string
	units int
}{
	{"gsm_120", benchGSM, 120},
	{"ucs2_emoji_123", benchUCS2, 123},
}

func BenchmarkCount(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			if got := Count(bb.body).Characters; got != bb.units {
				b.Fatalf("body is %d units, want %d", got, bb.units)
			}
			b.ReportAllocs()
			for b.Loop() {
				Count(bb.body)
			}
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Split(bb.body)
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Analyze(bb.body)
			}
		})
	}
}
