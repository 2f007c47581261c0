package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

func TestEnrollmentSettings(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		res := b.do("GET", "/api/v1/settings/enrollment", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		body := res.json(t)
		require.Equal(t, map[string]any{"message_frequency": "", "terms_url": "", "double_opt_in": false}, body["settings"])
		require.Equal(t, "Msg frequency varies.", body["effective"].(map[string]any)["message_frequency"])

		in := map[string]any{"message_frequency": "  Up to 4 msgs/month. ", "terms_url": "https://acme.example/sms-terms", "double_opt_in": true}
		res = b.do("PUT", "/api/v1/settings/enrollment", b.admin, in)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		want := map[string]any{"message_frequency": "Up to 4 msgs/month.", "terms_url": "https://acme.example/sms-terms", "double_opt_in": true}
		require.Equal(t, want, res.json(t)["settings"])
		res = b.do("GET", "/api/v1/settings/enrollment", b.keyWithRole("viewer"), nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, want, res.json(t)["settings"], "stored, and readable by a viewer")

		res = b.do("PUT", "/api/v1/settings/enrollment", b.keyWithRole("editor"), in)
		require.Equal(t, http.StatusForbidden, res.status, "only an admin changes them")

		other, otherKey := b.newAccount("Globex")
		res = b.do("GET", "/api/v1/settings/enrollment", otherKey, nil)
		require.Equal(t, false, res.json(t)["settings"].(map[string]any)["double_opt_in"], "another account's stay its own: %s", other)
	})
}

func TestEnrollmentSettingsValidation(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	long := make([]byte, 101)
	for i := range long {
		long[i] = 'x'
	}
	cases := []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"frequency too long", map[string]any{"message_frequency": string(long)}, "too_long", "message_frequency"},
		{"frequency on two lines", map[string]any{"message_frequency": "Up to 4\nmsgs"}, "invalid_text", "message_frequency"},
		{"terms not a link", map[string]any{"terms_url": "our terms page"}, "invalid_url", "terms_url"},
		{"terms script", map[string]any{"terms_url": "javascript:alert(1)"}, "invalid_url", "terms_url"},
		{"terms ftp", map[string]any{"terms_url": "ftp://acme.example/terms"}, "invalid_url", "terms_url"},
		{"terms with credentials", map[string]any{"terms_url": "https://user:pw@acme.example/terms"}, "invalid_url", "terms_url"},
		{"double opt-in not a boolean", map[string]any{"double_opt_in": "yes"}, "invalid_type", "double_opt_in"},
		{"unknown field", map[string]any{"frequency": "weekly"}, "unknown_field", "frequency"},
	}
	for _, tc := range cases {
		res := b.do("PUT", "/api/v1/settings/enrollment", b.admin, tc.body)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
		require.Equal(t, tc.field, res.json(t)["error"].(map[string]any)["field"], tc.name)
	}
	res := b.do("GET", "/api/v1/settings/enrollment", b.admin, nil)
	require.Equal(t, map[string]any{"message_frequency": "", "terms_url": "", "double_opt_in": false}, res.json(t)["settings"],
		"nothing was stored")
}
