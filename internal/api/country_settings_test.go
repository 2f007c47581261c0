package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

func TestCountrySettings(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		defaults := map[string]any{"allowed_countries": []any{"US", "CA"}}
		viewer := b.keyWithRole("viewer")
		res := b.do("GET", "/api/v1/settings/countries", viewer, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, defaults, res.json(t))

		in := map[string]any{"allowed_countries": []string{"us", " GB ", "US"}}
		require.Equal(t, http.StatusForbidden, b.do("PUT", "/api/v1/settings/countries", viewer, in).status)
		require.Equal(t, http.StatusForbidden, b.do("PUT", "/api/v1/settings/countries", b.keyWithRole("editor"), in).status)
		require.Equal(t, defaults, b.do("GET", "/api/v1/settings/countries", viewer, nil).json(t), "a refused write changes nothing")

		res = b.do("PUT", "/api/v1/settings/countries", b.admin, in)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		want := map[string]any{"allowed_countries": []any{"US", "GB"}}
		require.Equal(t, want, res.json(t), "codes are normalised as the web page normalises them, and kept once")
		require.Equal(t, want, b.do("GET", "/api/v1/settings/countries", viewer, nil).json(t))
		require.Equal(t, want["allowed_countries"], b.do("GET", "/api/v1/account", viewer, nil).json(t)["allowed_countries"])

		// Another account's countries are its own, both ways.
		_, otherKey := b.newAccount("Other")
		require.Equal(t, defaults, b.do("GET", "/api/v1/settings/countries", otherKey, nil).json(t))
		res = b.do("PUT", "/api/v1/settings/countries", otherKey, map[string]any{"allowed_countries": []string{"MX"}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, want, b.do("GET", "/api/v1/settings/countries", viewer, nil).json(t))

		// An empty list is kept, as on the web page: no country is allowed.
		res = b.do("PUT", "/api/v1/settings/countries", b.admin, map[string]any{"allowed_countries": []string{}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, map[string]any{"allowed_countries": []any{}}, res.json(t))
		require.Equal(t, []any{}, b.do("GET", "/api/v1/account", viewer, nil).json(t)["allowed_countries"])

		// The operator still sets them too, and the admin sees what was set.
		res = b.do("PUT", "/api/v1/operator/accounts/"+b.acct, b.operator, map[string]any{"allowed_countries": []string{"ca", "US"}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, []any{"CA", "US"}, res.json(t)["account"].(map[string]any)["allowed_countries"])
		require.Equal(t, map[string]any{"allowed_countries": []any{"CA", "US"}}, b.do("GET", "/api/v1/settings/countries", viewer, nil).json(t))
	})
}

func TestCountrySettingsRefuseBadInput(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	set := func(codes ...any) map[string]any { return map[string]any{"allowed_countries": codes} }
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"three letters", set("USA"), 422, "invalid_country", "allowed_countries"},
		{"one letter", set("U"), 422, "invalid_country", "allowed_countries"},
		{"digits", set("U1"), 422, "invalid_country", "allowed_countries"},
		{"no such country", set("XX"), 422, "invalid_country", "allowed_countries"},
		{"a code no phone has", set("EU"), 422, "invalid_country", "allowed_countries"},
		{"empty code", set("US", ""), 422, "invalid_country", "allowed_countries"},
		{"a good code then a bad one", set("GB", "USA"), 422, "invalid_country", "allowed_countries"},
		{"a number in the list", set(5), 422, "invalid_type", "allowed_countries"},
		{"a string for the list", map[string]any{"allowed_countries": "US"}, 422, "invalid_type", "allowed_countries"},
		{"null for the list", map[string]any{"allowed_countries": nil}, 422, "required", "allowed_countries"},
		{"empty object", map[string]any{}, 422, "required", "allowed_countries"},
		{"unknown field", map[string]any{"allowed_countries": []string{"GB"}, "countries": []string{"GB"}}, 400, "unknown_field", "countries"},
		{"an operator field", map[string]any{"allowed_countries": []string{"GB"}, "sms_enabled": true}, 400, "unknown_field", "sms_enabled"},
		{"not JSON", "{", 400, "malformed_json", ""},
		{"no body", nil, 400, "empty_body", ""},
	}
	for _, tc := range cases {
		res := b.do("PUT", "/api/v1/settings/countries", b.admin, tc.body)
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
		if tc.field != "" {
			require.Equal(t, tc.field, res.json(t)["error"].(map[string]any)["field"], tc.name)
		}
	}
	require.Equal(t, map[string]any{"allowed_countries": []any{"US", "CA"}},
		b.do("GET", "/api/v1/settings/countries", b.admin, nil).json(t), "nothing was stored")
	acct := b.do("GET", "/api/v1/account", b.admin, nil).json(t)
	require.Equal(t, false, acct["sms_enabled"], "an operator field sent alongside is not applied")
}

func TestAllowingACountryLetsMessagesGoThere(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.enableSMS(b.acct, 100)
		tpl := b.approvedTemplate(b.admin, "transactional", "Acme: your reward was sent.")
		uk := b.contactWith(b.admin, "+447400123456", "opted_in")
		send := func() map[string]any {
			res := b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": uk, "template_id": tpl})
			require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
			return res.json(t)
		}
		m := send()
		require.Equal(t, "skipped", m["status"])
		require.Equal(t, "country_not_allowed", m["reason"])

		res := b.do("PUT", "/api/v1/settings/countries", b.admin, map[string]any{"allowed_countries": []string{"US", "CA", "GB"}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		m = send()
		require.Equal(t, "queued", m["status"], "%v", m)
		require.Empty(t, m["reason"])
	})
}
