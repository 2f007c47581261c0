package storable_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/storable"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
		clean    string
		why      string
	}{
		{"empty", "", true, "", ""},
		{"plain", "Ava's reward", true, "Ava's reward", ""},
		{"beyond ASCII", "Renée 🎉 一", true, "Renée 🎉 一", ""},
		{"escape written out", `\u0000`, true, `\u0000`, ""},
		{"other control characters", "a\tb\x01", true, "a\tb\x01", ""},
		{"NUL", "A\x00va", false, "Ava", "holds a NUL character, which text may not contain"},
		{"only NUL", "\x00\x00", false, "", "holds a NUL character, which text may not contain"},
		{"Latin-1 byte", "Ren\xe9", false, "Ren\uFFFD", "is not UTF-8 text"},
		{"cut rune", "\xf0\x9f\x8e", false, "\uFFFD", "is not UTF-8 text"},
		{"both", "\xff\x00x", false, "\uFFFDx", "holds a NUL character, which text may not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.ok, storable.Text(tt.in))
			require.Equal(t, tt.clean, storable.Clean(tt.in))
			require.True(t, storable.Text(storable.Clean(tt.in)))
			if !tt.ok {
				require.Equal(t, tt.why, storable.Why(tt.in))
			}
		})
	}
}

func TestForm(t *testing.T) {
	t.Parallel()
	const nul, notUTF8 = "holds a NUL character, which text may not contain", "is not UTF-8 text"
	tests := []struct {
		name     string
		in       url.Values
		bad, why string
	}{
		{"empty", url.Values{}, "", ""},
		{"plain", url.Values{"a": {"1"}, "b": {"x", "y"}}, "", ""},
		{"a bad value", url.Values{"a": {"1"}, "b": {"x", "y\x00"}}, "b", nul},
		{"a bad name", url.Values{"a\xff": {"1"}}, "a\xff", notUTF8},
		{"the first in order", url.Values{"z": {"\x00"}, "m": {"\xff"}, "a": {"ok"}}, "m", notUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, why := storable.Form(tt.in)
			require.Equal(t, tt.bad, name)
			require.Equal(t, tt.why, why)
		})
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{`{"tier": "gold", "n": 1, "vip": true, "x": null}`, true},
		{`{"a": [1, "b", {"c": "d"}]}`, true},
		{`{"a": "\\u0000"}`, true},
		{`{"a": "\u0000"}`, false},
		{`{"\u0000": 1}`, false},
		{`{"a": [1, {"b": ["\u0000"]}]}`, false},
		{`{"a": {"b\u0000": 1}}`, false},
		{`"\u0000"`, false},
	}
	for _, tt := range tests {
		var v any
		require.NoError(t, json.Unmarshal([]byte(tt.in), &v), tt.in)
		require.Equal(t, tt.ok, storable.JSON(v), tt.in)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "a", "\x00", "\xff", "Renée", "\xf0\x9f\x8e", "a\x00\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := storable.Clean(s)
		require.True(t, storable.Text(c))
		require.True(t, utf8.ValidString(c))
		if storable.Text(s) {
			require.Equal(t, s, c, "storable text is kept as it is")
		}
	})
}
