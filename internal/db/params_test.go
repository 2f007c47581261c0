package db

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAnonymousParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, want string
	}{
		{"in order", "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)", "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"},
		{"ten and more", "SELECT 1 WHERE a IN ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", "SELECT 1 WHERE a IN (?,?,?,?,?,?,?,?,?,?,?)"},
		{"no parameters", "SELECT 1", "SELECT 1"},
		{"used twice", "UPDATE t SET a = $1 WHERE b < $1", "UPDATE t SET a = $1 WHERE b < $1"},
		{"out of order", "SELECT $2, $1", "SELECT $2, $1"},
		{"starting past one", "SELECT $2", "SELECT $2"},
		{"a gap", "SELECT $1, $3", "SELECT $1, $3"},
		{"leading zero", "SELECT $01", "SELECT $01"},
		{"bare dollar", "SELECT $ FROM t", "SELECT $ FROM t"},
		{"named after", "SELECT $1, :x", "SELECT $1, :x"},
		{"already anonymous", "SELECT ?, $1", "SELECT ?, $1"},
		{"in a string", "SELECT json_extract(d, '$.a'), '$1', $1", "SELECT json_extract(d, '$.a'), '$1', ?"},
		{"doubled quote", "SELECT 'it''s $2', $1", "SELECT 'it''s $2', ?"},
		{"quoted name", `SELECT "a$1", $1`, `SELECT "a$1", ?`},
		{"in a line comment", "SELECT $1 -- not $7\n, $2", "SELECT ? -- not $7\n, ?"},
		{"in a block comment", "SELECT /* $9 */ $1", "SELECT /* $9 */ ?"},
		{"part of a name", "SELECT a$1, $1", "SELECT a$1, ?"},
		{"digits run on into a name", "SELECT $1abc", "SELECT $1abc"},
		{"unclosed string", "SELECT $1, 'oops", "SELECT $1, 'oops"},
		{"unclosed comment", "SELECT $1 /* oops", "SELECT $1 /* oops"},
		{"huge number", "SELECT $99999999999999999999", "SELECT $99999999999999999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, anonymousParams(tt.query))
		})
	}
}

// Whatever the text, a rewrite only ever turns $1, $2, … into ?, in
// order: numbering the ? marks back gives the query it was handed.
func FuzzAnonymousParams(f *testing.F) {
	for _, q := range []string{"SELECT $1, $2", "SELECT '$1', $1 -- $2\n", "SELECT /* */ $1, \"$2\"", "$1$2", "a$1 $1"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		out := anonymousParams(query)
		if out == query || strings.Contains(query, "?") {
			return
		}
		var back strings.Builder
		k := 0
		for i := 0; i < len(out); i++ {
			if out[i] == '?' {
				k++
				back.WriteString("$" + strconv.Itoa(k))
				continue
			}
			back.WriteByte(out[i])
		}
		if back.String() != query {
			t.Fatalf("%q became %q", query, out)
		}
	})
}
