package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplateBadInput(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown tag", map[string]any{"name": "x", "kind": "transactional", "body": "Hi {{frist_name}}"}, 422, "unknown_merge_tag", "body"},
		{"malformed tag", map[string]any{"name": "x", "kind": "transactional", "body": "Hi {{first_name"}, 422, "malformed_merge_tag", "body"},
		{"wrong kind", map[string]any{"name": "x", "kind": "promotional", "body": "Hi"}, 422, "invalid_kind", "kind"},
		{"kind not a string", map[string]any{"name": "x", "kind": 1, "body": "Hi"}, 422, "invalid_type", "kind"},
		{"no kind", map[string]any{"name": "x", "body": "Hi"}, 422, "required", "kind"},
		{"empty body", map[string]any{"name": "x", "kind": "transactional", "body": ""}, 422, "required", "body"},
		{"no name", map[string]any{"kind": "transactional", "body": "Hi"}, 422, "required", "name"},
		{"oversize body", map[string]any{"name": "x", "kind": "transactional", "body": strings.Repeat("a", 1601)}, 422, "body_too_long", "body"},
		{"too many segments", map[string]any{"name": "x", "kind": "transactional", "body": strings.Repeat("😀", 400)}, 422, "body_too_many_segments", "body"},
		{"invalid UTF-8", []byte("{\"name\": \"x\", \"kind\": \"transactional\", \"body\": \"Hi \xff\xfe there\"}"), 422, "invalid_utf8", "body"},
		{"invalid UTF-8 in the name", []byte("{\"name\": \"\xc3\", \"kind\": \"transactional\", \"body\": \"Hi\"}"), 422, "invalid_utf8", "name"},
		{"unknown field", map[string]any{"name": "x", "kind": "transactional", "body": "Hi", "status": "approved"}, 400, "unknown_field", "status"},
		{"unknown gallery entry", map[string]any{"from_gallery": "nope"}, 422, "unknown_gallery_entry", "from_gallery"},
		{"gallery and body", map[string]any{"from_gallery": "welcome", "body": "Hi"}, 422, "conflicting_fields", "from_gallery"},
		{"malformed JSON", `{"name": `, 400, "malformed_json", ""},
	}
	for _, tc := range cases {
		e := b.refused("POST", "/api/v1/templates", b.admin, tc.body, tc.status, tc.code)
		field, _ := e["field"].(string)
		require.Equal(t, tc.field, field, tc.name)
	}
	require.Empty(t, b.call("GET", "/api/v1/templates", b.admin, nil, 200)["data"], "nothing was saved")

	// Tag errors come with their positions, every one of them.
	e := b.refused("POST", "/api/v1/templates", b.admin, map[string]any{"name": "x", "kind": "transactional",
		"body": "Hi {{frist_name}}, é {{ first_name | nope }}"}, 422, "unknown_merge_tag")
	detail := e["detail"].(map[string]any)
	require.EqualValues(t, 3, detail["position"])
	require.EqualValues(t, 3, detail["offset"])
	all := detail["errors"].([]any)
	require.Len(t, all, 2)
	second := all[1].(map[string]any)
	require.Equal(t, "malformed_merge_tag", second["code"])
	require.EqualValues(t, 22, second["offset"], "bytes: é is two")
	require.EqualValues(t, 21, second["position"], "runes")

	// The same rules hold on an edit, which changes nothing when refused.
	id := b.createTemplate(b.admin, apiRewardBody)["id"].(string)
	base := "/api/v1/templates/" + id
	b.refused("PATCH", base, b.admin, map[string]any{"body": "Hi {{frist_name}}"}, 422, "unknown_merge_tag")
	b.refused("PATCH", base, b.admin, map[string]any{"kind": "promo"}, 422, "invalid_kind")
	b.refused("PATCH", base, b.admin, map[string]any{"from_gallery": "welcome"}, 400, "unknown_field")
	b.refused("PATCH", base, b.admin, []byte("{\"body\": \"\xff\"}"), 422, "invalid_utf8")
	b.refused("POST", base+"/submit", b.admin, map[string]any{"note": "x"}, 400, "unknown_field")
	got := b.call("GET", base, b.admin, nil, 200)
	require.EqualValues(t, 1, got["version"])
	require.Equal(t, apiRewardBody, got["body"])

	b.refused("GET", "/api/v1/templates?status=sent", b.admin, nil, 422, "invalid_status")
	b.refused("GET", "/api/v1/templates?limit=0", b.admin, nil, 422, "invalid_limit")
	b.refused("GET", "/api/v1/templates/tpl_nothing", b.admin, nil, 404, "not_found")
}

func TestTemplatePreview(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	got := b.call("POST", "/api/v1/templates/preview", b.admin, map[string]any{
		"body": "{{brand}}: Hi {{first_name}}, it’s ready", "kind": "transactional", "data": map[string]any{"first_name": "Sam"}}, 200)
	// The account's brand is its name here ("Acme"); the curly apostrophe
	// forces UCS-2 and has a plain look-alike.
	require.Equal(t, "Acme: Hi Sam, it’s ready", got["rendered"])
	require.Equal(t, "UCS-2", got["encoding"])
	require.EqualValues(t, 24, got["characters"])
	require.EqualValues(t, 1, got["segments"])
	require.Equal(t, []any{map[string]any{"char": "’", "position": float64(16), "replacement": "'"}}, got["culprits"])
	require.Equal(t, []any{"brand", "first_name"}, got["merge_tags"])

	// Every list is present even when empty.
	got = b.call("POST", "/api/v1/templates/preview", b.admin, map[string]any{"body": "Hi", "kind": "transactional"}, 200)
	for _, k := range []string{"culprits", "merge_tags", "tag_errors", "missing_values", "problems", "warnings"} {
		require.Equal(t, []any{}, got[k], k)
	}

	got = b.call("POST", "/api/v1/templates/preview", b.admin, map[string]any{"body": "Sale! {{frist_name}}", "kind": "marketing"}, 200)
	require.Len(t, got["tag_errors"], 1)
	require.Len(t, got["problems"], 2)

	b.refused("POST", "/api/v1/templates/preview", b.admin, map[string]any{"body": "Hi", "kind": "promo"}, 422, "invalid_kind")
	b.refused("POST", "/api/v1/templates/preview", b.admin, map[string]any{"body": "Hi", "kind": "transactional", "data": map[string]any{"frist_name": "x"}}, 422, "unknown_merge_tag")
	b.refused("POST", "/api/v1/templates/preview", b.admin, []byte("{\"body\": \"\xff\", \"kind\": \"transactional\"}"), 422, "invalid_utf8")
}

func TestTemplateGallery(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	items := b.call("GET", "/api/v1/template-gallery", b.admin, nil, 200)["data"].([]any)
	require.NotEmpty(t, items)
	var welcome map[string]any
	for _, it := range items {
		m := it.(map[string]any)
		require.EqualValues(t, 1, m["segments"], m["key"])
		require.Equal(t, "GSM-7", m["encoding"])
		if m["key"] == "welcome" {
			welcome = m
		}
	}
	require.NotNil(t, welcome)
	got := b.call("POST", "/api/v1/templates", b.admin, map[string]any{"from_gallery": "welcome", "name": "Hello"}, 201)
	require.Equal(t, "Hello", got["name"])
	require.Equal(t, welcome["body"], got["body"])
	require.Equal(t, "transactional", got["kind"])
	require.Equal(t, "welcome", got["gallery_key"])
}

func TestSendTest(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	tpl := b.createTemplate(b.admin, "{{brand}}: "+apiRewardBody)
	id := tpl["id"].(string)
	path := "/api/v1/templates/" + id + "/test"

	got := b.call("POST", path, b.admin, map[string]any{"to": "+17346263333", "data": map[string]any{"reward_amount": "$30"}}, 202)
	require.Equal(t, "Acme: Hi Alex, your $30 reward is ready.", got["body"])
	require.Equal(t, "+17346263333", got["to"])
	require.Equal(t, true, got["test"])
	require.Equal(t, "sent", got["status"])
	require.Equal(t, tpl["version_id"], got["version_id"])
	require.Equal(t, "msg_test_"+tpl["version_id"].(string), got["message_id"])
	require.Regexp(t, `^key:key_`, got["actor"])
	calls := b.sender.calls()
	require.Len(t, calls, 1)
	require.Equal(t, got["body"], calls[0].Body)
	require.Equal(t, b.acct, calls[0].AccountID)

	for _, to := range []string{"7346263333", "+1 (734) 626-3333", "0044 20 7946 0018", ""} {
		e := b.refused("POST", path, b.admin, map[string]any{"to": to}, 422, "invalid_phone")
		require.Equal(t, "to", e["field"])
	}
	b.refused("POST", path, b.admin, map[string]any{"to": "+17346263333", "data": map[string]any{"first_name": nil}}, 422, "missing_merge_value")
	b.refused("POST", path, b.admin, map[string]any{"to": "+17346263333", "cc": "x"}, 400, "unknown_field")

	for range 19 {
		b.call("POST", path, b.admin, map[string]any{"to": "+17346263333"}, 202)
	}
	res := b.do("POST", path, b.admin, map[string]any{"to": "+17346263333"})
	require.Equal(t, http.StatusTooManyRequests, res.status, "%s", res.body)
	require.Equal(t, "rate_limited", res.errorCode(t))
	require.NotEmpty(t, res.header.Get("Retry-After"))
	require.Len(t, b.sender.calls(), 20)
}
