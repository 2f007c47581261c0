package api

import (
	"net/http"

	"github.com/stretchr/testify/require"
)

// testSID and testToken are the carrier sub-account the tests set up.
const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "test-auth-token"
)

// enableSMS sets an account up as the operator would: a carrier
// sub-account, one number for both kinds, SMS on.
func (b *testBundle) enableSMS(accountID string, limit int) {
	b.t.Helper()
	res := b.do("PUT", "/api/v1/operator/accounts/"+accountID, b.operator, map[string]any{
		"sms_enabled": true, "monthly_limit": limit,
		"twilio":  map[string]any{"account_sid": testSID, "auth_token": testToken, "base_url": "http://127.0.0.1:9/sim"},
		"numbers": []map[string]any{{"phone": "+18885550100", "kind": "both", "mps": 5}},
	})
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
}

// approvedTemplate creates a template and has the operator approve it.
func (b *testBundle) approvedTemplate(key, kind, body string) string {
	b.t.Helper()
	res := b.do("POST", "/api/v1/templates", key, map[string]any{"name": "T " + kind, "kind": kind, "body": body})
	require.Equal(b.t, http.StatusCreated, res.status, "%s", res.body)
	id := res.json(b.t)["id"].(string)
	res = b.do("POST", "/api/v1/templates/"+id+"/submit", key, nil)
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
	res = b.do("POST", "/api/v1/operator/templates/"+id+"/approve", b.operator, map[string]any{})
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
	return id
}

// contactWith creates a contact with a phone and a preference.
func (b *testBundle) contactWith(key, phone, pref string) string {
	b.t.Helper()
	body := map[string]any{"phone": phone, "first_name": "Ava"}
	if pref != "" {
		body["sms_preference"] = pref
	}
	res := b.do("POST", "/api/v1/contacts", key, body)
	require.Equal(b.t, http.StatusCreated, res.status, "%s", res.body)
	return res.json(b.t)["id"].(string)
}
