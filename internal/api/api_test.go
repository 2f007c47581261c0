package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
)

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPIDoc, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	served := map[string]bool{}
	for _, rt := range (&Server{}).routes() {
		key := strings.ToLower(rt.method) + " " + rt.path
		served[key] = true
		_, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		require.True(t, ok, "openapi.json does not describe %s %s", rt.method, rt.path)
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			require.True(t, served[method+" "+path], "openapi.json describes %s %s, which is not served", method, path)
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	res := b.do("GET", "/api/v1/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "3.1.0", res.json(t)["openapi"])
}

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	require.Equal(t, http.StatusOK, b.do("GET", "/healthz", "", nil).status)
	res := b.do("GET", "/readyz", "", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "sqlite", res.json(t)["database"])
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	viewerKey := b.keyWithRole(account.RoleViewer)
	editorKey := b.keyWithRole(account.RoleEditor)
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code                    string
	}{
		{"no key", "GET", "/api/v1/contacts", "", nil, 401, "missing_api_key"},
		{"not a key", "GET", "/api/v1/contacts", "nonsense", nil, 401, "invalid_api_key"},
		{"unknown key", "GET", "/api/v1/contacts", "hrld_" + strings.Repeat("A", 43), nil, 401, "invalid_api_key"},
		{"viewer cannot write", "POST", "/api/v1/contacts", viewerKey, map[string]any{"phone": "+17346263333"}, 403, "forbidden"},
		{"editor cannot make keys", "POST", "/api/v1/api-keys", editorKey, map[string]any{"name": "x"}, 403, "forbidden"},
		{"operator has no account", "GET", "/api/v1/contacts", b.operator, nil, 403, "operator_has_no_account"},
		{"account key is not the operator", "GET", "/api/v1/operator/accounts", b.admin, nil, 403, "forbidden"},
		{"unknown route", "GET", "/api/v1/nothing", b.admin, nil, 404, "route_not_found"},
	}
	for _, tc := range cases {
		res := b.do(tc.method, tc.path, tc.key, tc.body)
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
	}
	require.Equal(t, http.StatusOK, b.do("GET", "/api/v1/contacts", viewerKey, nil).status, "a viewer reads")
}

func TestRevokedKeyStopsWorking(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	res := b.do("POST", "/api/v1/api-keys", b.admin, map[string]any{"name": "ci", "role": "viewer"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	created := res.json(t)
	secret := created["secret"].(string)
	require.Equal(t, http.StatusOK, b.do("GET", "/api/v1/account", secret, nil).status)
	list := b.do("GET", "/api/v1/api-keys", b.admin, nil)
	require.NotContains(t, string(list.body), secret, "the secret is shown once")
	require.Equal(t, http.StatusNoContent, b.do("DELETE", "/api/v1/api-keys/"+created["id"].(string), b.admin, nil).status)
	require.Equal(t, http.StatusUnauthorized, b.do("GET", "/api/v1/account", secret, nil).status)
}

func TestBadJSONBodies(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	huge := `{"first_name": "` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name   string
		body   string
		header []string
		status int
		code   string
	}{
		{"malformed", `{"phone": `, nil, 400, "malformed_json"},
		{"not json", `phone=1`, nil, 400, "malformed_json"},
		{"empty", ``, nil, 400, "empty_body"},
		{"unknown field", `{"phone": "+17346263333", "favourite_colour": "red"}`, nil, 400, "unknown_field"},
		{"wrong type", `{"phone": 7346263333}`, nil, 422, "invalid_type"},
		{"trailing data", `{"phone": "+17346263333"} {}`, nil, 400, "malformed_json"},
		{"array", `[]`, nil, 422, "invalid_type"},
		{"too large", huge, nil, 413, "body_too_large"},
		{"form content type", `{"phone": "+17346263333"}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, "unsupported_media_type"},
	}
	for _, tc := range cases {
		res := b.do("POST", "/api/v1/contacts", b.admin, tc.body, tc.header...)
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
	}
	list := b.do("GET", "/api/v1/contacts", b.admin, nil)
	require.Empty(t, list.json(t)["data"], "no bad body wrote anything")
}

func TestProgramsAndOperatorAccounts(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	res := b.do("POST", "/api/v1/programs", b.admin, map[string]any{"name": "Refer a Friend"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	id := res.json(t)["id"].(string)
	require.Equal(t, http.StatusOK, b.do("GET", "/api/v1/programs/"+id, b.admin, nil).status)
	require.Equal(t, 422, b.do("POST", "/api/v1/programs", b.admin, map[string]any{"name": " "}).status)

	res = b.do("POST", "/api/v1/operator/accounts", b.operator, map[string]any{"name": "Beta", "time_zone": "America/Chicago"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	key := res.json(t)["api_key"].(string)
	acct := b.do("GET", "/api/v1/account", key, nil).json(t)
	require.Equal(t, "Beta", acct["name"])
	require.Equal(t, "US", acct["default_country"])
	bad := b.do("POST", "/api/v1/operator/accounts", b.operator, map[string]any{"name": "Gamma", "time_zone": "Nowhere/Land"})
	require.Equal(t, 422, bad.status)
	require.Equal(t, "invalid_time_zone", bad.errorCode(t))
	for _, code := range []string{"XX", "USA", "E1"} {
		bad = b.do("POST", "/api/v1/operator/accounts", b.operator, map[string]any{"name": "Gamma", "default_country": code})
		require.Equal(t, 422, bad.status, code)
		require.Equal(t, "invalid_country", bad.errorCode(t), code)
	}
	res = b.do("POST", "/api/v1/operator/accounts", b.operator, map[string]any{"name": "Delta", "default_country": "gb"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	require.Equal(t, "GB", b.do("GET", "/api/v1/account", res.json(t)["api_key"].(string), nil).json(t)["default_country"])
}
