package api

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every route refuses a query parameter openapi.json does not give it, and
// takes every one it does: the document and the router cannot drift apart.
func TestEveryRouteTakesOnlyItsDocumentedQuery(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	b.eachRoute(func(rt route, key string, documented []string) {
		path := pathParam.ReplaceAllString(rt.path, "x")

		res := b.do(rt.method, path+"?zz_bogus=1", key, nil)
		require.Equal(t, http.StatusBadRequest, res.status, "%s %s: %s", rt.method, rt.path, res.body)
		require.Equal(t, "unknown_parameter", res.errorCode(t), "%s %s", rt.method, rt.path)

		if rt.method != "GET" {
			return // only lists take parameters; a GET has no side effects to undo
		}
		for _, name := range documented {
			res := b.do(rt.method, path+"?"+name+"=", key, nil)
			if res.status >= 400 {
				code := res.errorCode(t)
				require.NotContains(t, []string{"unknown_parameter", "repeated_parameter", "malformed_query"}, code,
					"%s %s refused its documented %q", rt.method, rt.path, name)
			}
		}
	})
}

// pathParam matches a route's path parameters, such as {id}.
var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// eachRoute calls fn for every route but the carriers' webhooks, with the
// key of a caller the route allows and the query parameters openapi.json
// gives it.
func (b *testBundle) eachRoute(fn func(rt route, key string, documented []string)) {
	b.t.Helper()
	documented, err := queryParams(openAPIDoc)
	require.NoError(b.t, err)
	for _, rt := range b.srv.routes() {
		if rt.access == carrier {
			continue
		}
		key := b.admin
		if rt.access == operator {
			key = b.operator
		}
		fn(rt, key, documented[rt.method+" "+rt.path])
	}
}

func TestBadQueries(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	cases := []struct {
		name, method, target string
		code, field          string
		mentions             string
	}{
		{"a filter the list does not have", "GET", "/api/v1/contacts?external_id=m-1", "unknown_parameter", "external_id", "sms_preference"},
		{"a misspelt filter", "GET", "/api/v1/messages?stauts=sent", "unknown_parameter", "stauts", "status"},
		{"the limit queue is only limit-queued", "GET", "/api/v1/limit-queue?status=sent", "unknown_parameter", "status", "cursor, limit"},
		{"a list without filters", "GET", "/api/v1/automations?status=draft", "unknown_parameter", "status", "no query parameters"},
		{"a parameter on a write", "POST", "/api/v1/contacts?dry_run=true", "unknown_parameter", "dry_run", "no query parameters"},
		{"a filter given twice", "GET", "/api/v1/contacts?limit=5&limit=500", "repeated_parameter", "limit", "2 times"},
		{"a bad escape", "GET", "/api/v1/contacts?q=%zz", "malformed_query", "", "cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "POST" {
				body = map[string]any{"phone": "+17346263333", "external_id": "dry"}
			}
			res := b.do(tc.method, tc.target, b.admin, body)
			require.Equal(t, http.StatusBadRequest, res.status, res.body)
			require.Equal(t, tc.code, res.errorCode(t))
			e := res.json(t)["error"].(map[string]any)
			if tc.field == "" {
				require.NotContains(t, e, "field")
			} else {
				require.Equal(t, tc.field, e["field"])
			}
			require.Contains(t, e["message"], tc.mentions)
		})
	}
	list := b.do("GET", "/api/v1/contacts", b.admin, nil)
	require.Equal(t, http.StatusOK, list.status)
	require.Empty(t, list.json(t)["data"], "a refused write wrote nothing")

	t.Run("documented filters still work", func(t *testing.T) {
		res := b.do("GET", "/api/v1/contacts?sms_preference=opted_in&limit=5&q=", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, res.body)
	})
	t.Run("authentication comes first", func(t *testing.T) {
		res := b.do("GET", "/api/v1/contacts?zz_bogus=1", "", nil)
		require.Equal(t, http.StatusUnauthorized, res.status, res.body)
	})
	t.Run("a carrier's extra parameter reaches the signature check", func(t *testing.T) {
		res := b.do("POST", "/webhooks/twilio/status?zz_bogus=1", "", "MessageSid=SM1",
			"Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusForbidden, res.status, res.body)
	})
}

func FuzzCheckQuery(f *testing.F) {
	for _, seed := range []string{"", "a=1", "a=1&a=2", "b=", "%zz", "a=1;b=2", "a", "&&", "a=%41"} {
		f.Add(seed)
	}
	allowed := []string{"a", "c"}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.NewRequest("GET", "http://h/x", nil)
		require.NoError(t, err)
		r.URL.RawQuery = raw
		if err := checkQuery(r, "GET /x", allowed); err != nil {
			return
		}
		// What passes names only allowed parameters, each once.
		for name, vs := range r.URL.Query() {
			require.Contains(t, allowed, name)
			require.Len(t, vs, 1)
		}
	})
}
