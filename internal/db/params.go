package db

import "strings"

// anonymousParams rewrites a statement's parameters $1, $2, … as SQLite's
// anonymous ? when they appear exactly once each, in order, and returns the
// query unchanged otherwise (a parameter used twice, out of order, or
// written another way). SQLite keeps the name of every $N parameter in a
// list, and the driver asks for each parameter's name on every execution,
// a search of that list: binding a statement of 280 parameters walked it
// 40,000 times, 2.5 s of the one writer's 23 s in a 100,000-message
// promotion. Anonymous parameters have no names to look up.
//
// Quoted strings, quoted identifiers and comments are skipped.
func anonymousParams(query string) string {
	var sb strings.Builder
	next := 1
	last := 0 // query[last:i] is not copied yet
	for i := 0; i < len(query); i++ {
		switch c := query[i]; {
		case c == '\'' || c == '"' || c == '`':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				return query
			}
			i += end + 1 // a doubled quote is two quoted runs back to back
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			i += end
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return query
			}
			i += end + 3
		case c == '?' || c == ':' || c == '@':
			return query // another kind of parameter (or an operator we do not expect)
		case c == '$':
			if i > 0 && isIdentByte(query[i-1]) {
				continue // part of a name
			}
			j := i + 1
			n := 0
			for j < len(query) && query[j] >= '0' && query[j] <= '9' && n <= next {
				n = n*10 + int(query[j]-'0')
				j++
			}
			if j == i+1 || query[i+1] == '0' || n != next || (j < len(query) && isIdentByte(query[j])) {
				return query
			}
			sb.WriteString(query[last:i])
			sb.WriteByte('?')
			last = j
			next++
			i = j - 1
		}
	}
	if next == 1 {
		return query
	}
	sb.WriteString(query[last:])
	return sb.String()
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
