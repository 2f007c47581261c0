package segment

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAnalyze(t *testing.T) {
	t.Parallel()

	ellipses := make([]Culprit, 60)
	for i := range ellipses {
		ellipses[i] = Culprit{Char: "…", Position: i, Replacement: "..."}
	}

	tests := []struct {
		name string
		body string
		want Report
	}{
		{
			name: "GSM-7 body has nothing to report",
			body: "Hello",
			want: Report{Info: Info{GSM7, 5, 1, 160, 155}},
		},
		{
			name: "curly apostrophe",
			body: "It’s here",
			want: Report{
				Info:              Info{UCS2, 9, 1, 70, 61},
				Culprits:          []Culprit{{"’", 2, "'"}},
				Suggested:         "It's here",
				SuggestedSegments: 1,
			},
		},
		{
			name: "one apostrophe costs a segment",
			body: rep("a", 99) + "’",
			want: Report{
				Info:              Info{UCS2, 100, 2, 67, 34},
				Culprits:          []Culprit{{"’", 99, "'"}},
				Suggested:         rep("a", 99) + "'",
				SuggestedSegments: 1,
				SavedSegments:     1,
			},
		},
		{
			name: "one em dash costs two segments",
			body: rep("a", 75) + "—" + rep("b", 74),
			want: Report{
				Info:              Info{UCS2, 150, 3, 67, 51},
				Culprits:          []Culprit{{"—", 75, "-"}},
				Suggested:         rep("a", 75) + "-" + rep("b", 74),
				SuggestedSegments: 1,
				SavedSegments:     2,
			},
		},
		{
			name: "emoji keeps UCS-2: no savings reported",
			body: "“Deal” \U0001F389",
			want: Report{
				Info:              Info{UCS2, 9, 1, 70, 61},
				Culprits:          []Culprit{{"“", 0, `"`}, {"”", 5, `"`}, {"\U0001F389", 7, ""}},
				Suggested:         `"Deal" ` + "\U0001F389",
				SuggestedSegments: 1,
			},
		},
		{
			name: "ZWJ family is one culprit",
			body: "Hi " + family + "!",
			want: Report{
				Info:     Info{UCS2, 15, 1, 70, 55},
				Culprits: []Culprit{{family, 3, ""}},
			},
		},
		{
			name: "small c cedilla is a letter, not a look-alike",
			body: "ça",
			want: Report{
				Info:     Info{UCS2, 2, 1, 70, 68},
				Culprits: []Culprit{{"ç", 0, ""}},
			},
		},
		{
			name: "decomposed accents become precomposed",
			body: eAcuteNFD + "t" + eAcuteNFD,
			want: Report{
				Info:              Info{UCS2, 5, 1, 70, 65},
				Culprits:          []Culprit{{eAcuteNFD, 0, "é"}, {eAcuteNFD, 3, "é"}},
				Suggested:         "été",
				SuggestedSegments: 1,
			},
		},
		{
			name: "tab and no-break space",
			body: "a\tb\u00A0c",
			want: Report{
				Info:              Info{UCS2, 5, 1, 70, 65},
				Culprits:          []Culprit{{"\t", 1, " "}, {"\u00A0", 3, " "}},
				Suggested:         "a b c",
				SuggestedSegments: 1,
			},
		},
		{
			name: "full-width forms",
			body: "Price: ＄５｀",
			want: Report{
				Info:              Info{UCS2, 10, 1, 70, 60},
				Culprits:          []Culprit{{"＄", 7, "$"}, {"５", 8, "5"}, {"｀", 9, "'"}},
				Suggested:         "Price: $5'",
				SuggestedSegments: 1,
			},
		},
		{
			name: "ellipses grow past one GSM-7 segment: no savings",
			body: rep("…", 60),
			want: Report{
				Info:              Info{UCS2, 60, 1, 70, 10},
				Culprits:          ellipses,
				Suggested:         rep(".", 180),
				SuggestedSegments: 2,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tc.want, Analyze(tc.body))
		})
	}
}

// TestReportJSON pins the wire shape other packages and the admin UI read.
func TestReportJSON(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		got  any
		want string
	}{
		{"empty count", Count(""), `{"encoding":"GSM-7","characters":0,"segments":0,"per_segment":160,"remaining":160}`},
		{"GSM-7 report", Analyze("Hi"), `{"encoding":"GSM-7","characters":2,"segments":1,"per_segment":160,"remaining":158}`},
		{"UCS-2 report", Analyze("It’s"), `{"encoding":"UCS-2","characters":4,"segments":1,"per_segment":70,"remaining":66,
			"culprits":[{"char":"’","position":2,"replacement":"'"}],"suggested":"It's","suggested_segments":1}`},
		{"culprit without replacement", Analyze("ç"), `{"encoding":"UCS-2","characters":1,"segments":1,"per_segment":70,"remaining":69,
			"culprits":[{"char":"ç","position":0}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			got, err := json.Marshal(tc.got)
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(got))
		})
	}
}
