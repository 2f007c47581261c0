package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

const inboundURL = "http://herald.test/webhooks/twilio/inbound"

func inboundForm(from, to, body string) url.Values {
	return url.Values{"MessageSid": {"SM" + strings.Repeat("a", 32)}, "AccountSid": {testSID}, "From": {from}, "To": {to},
		"Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}}
}

func (b *testBundle) postInbound(form url.Values, sig string) response {
	b.t.Helper()
	return b.do("POST", "/webhooks/twilio/inbound", "", form.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", twilio.SignatureHeader, sig)
}

func (b *testBundle) inboundCount() int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.srv.DB.Read().QueryRowContext(context.Background(), `SELECT count(*) FROM inbound_messages`).Scan(&n))
	return n
}

func TestInboundBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.enableSMS(b.acct, 10)
		c := b.contactWith(b.admin, "+17346263333", "opted_in")
		sign := func(f url.Values) string { return twilio.Sign(testToken, inboundURL, f) }

		// Another account, with its own sub-account and number.
		otherID, _ := b.newAccount("Other")
		res := b.do("PUT", "/api/v1/operator/accounts/"+otherID, b.operator, map[string]any{
			"twilio":  map[string]any{"account_sid": "AC" + strings.Repeat("b", 32), "auth_token": "other-token"},
			"numbers": []map[string]any{{"phone": "+18885550199", "kind": "both"}}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)

		stop := inboundForm("+17346263333", "+18885550100", "STOP")
		huge := inboundForm("+17346263333", "+18885550100", strings.Repeat("x", 70<<10))
		missingFrom := inboundForm("", "+18885550100", "STOP")
		missingFrom.Del("From")
		otherSID := inboundForm("+17346263333", "+18885550100", "STOP")
		otherSID.Set("AccountSid", "AC"+strings.Repeat("b", 32))
		notOurNumber := inboundForm("+17346263333", "+18885550199", "STOP")
		notASID := inboundForm("+17346263333", "+18885550100", "STOP")
		notASID.Set("MessageSid", "SM"+strings.Repeat("a", 3000)) // more than an index entry holds
		longFrom := inboundForm("+1"+strings.Repeat("7", 3000), "+18885550100", "STOP")
		cases := []struct {
			name   string
			form   url.Values
			sig    string
			status int
			code   string
		}{
			{"no signature", stop, "", 403, "invalid_signature"},
			{"wrong signature", stop, twilio.Sign("not-the-token", inboundURL, stop), 403, "invalid_signature"},
			{"signed for another URL", stop, twilio.Sign(testToken, "http://elsewhere.test/webhooks/twilio/inbound", stop), 403, "invalid_signature"},
			{"another account's SID, our token", otherSID, sign(otherSID), 403, "invalid_signature"},
			{"another account's number", notOurNumber, sign(notOurNumber), 422, "unknown_number"},
			{"missing From", missingFrom, sign(missingFrom), 422, "invalid_inbound"},
			{"MessageSid that is no carrier's id", notASID, sign(notASID), 422, "invalid_inbound"},
			{"From that is no address", longFrom, sign(longFrom), 422, "invalid_inbound"},
			{"huge body", huge, sign(huge), 413, "body_too_large"},
		}
		for _, tc := range cases {
			res := b.postInbound(tc.form, tc.sig)
			require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
			require.Equal(t, tc.code, res.errorCode(t), tc.name)
		}
		require.Zero(t, b.inboundCount(), "nothing stored")
		got := b.do("GET", "/api/v1/contacts/"+c, b.admin, nil).json(t)
		require.Equal(t, "opted_in", got["sms_preference"], "nothing changed")

		// The good one: stored once even when the carrier repeats it, answered with TwiML.
		for i := 0; i < 2; i++ {
			res := b.postInbound(stop, sign(stop))
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.Contains(t, res.header.Get("Content-Type"), "text/xml")
			require.Contains(t, string(res.body), "<Response><Message>")
			require.Contains(t, string(res.body), "unsubscribed")
		}
		require.Equal(t, 1, b.inboundCount())
		got = b.do("GET", "/api/v1/contacts/"+c, b.admin, nil).json(t)
		require.Equal(t, "opted_out", got["sms_preference"])
		conv := b.do("GET", "/api/v1/contacts/"+c+"/conversation", b.admin, nil).json(t)["data"].([]any)
		require.Len(t, conv, 2, "the STOP and its confirmation")
	})
}

func TestCarrierHandledOptOutIsNotConfirmedTwice(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	b.enableSMS(b.acct, 10)
	c := b.contactWith(b.admin, "+17346263333", "opted_in")
	f := inboundForm("+17346263333", "+18885550100", "STOP")
	f.Set("OptOutType", "STOP")
	res := b.postInbound(f, twilio.Sign(testToken, inboundURL, f))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.NotContains(t, string(res.body), "<Message>", "Twilio confirmed it already")
	got := b.do("GET", "/api/v1/contacts/"+c, b.admin, nil).json(t)
	require.Equal(t, "opted_out", got["sms_preference"], "but Herald records the change")
}

func TestReplySettings(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	res := b.do("GET", "/api/v1/settings/replies", b.admin, nil)
	require.Equal(t, http.StatusOK, res.status)
	eff := res.json(t)["effective"].(map[string]any)
	require.Contains(t, eff["help_text"], "Reply STOP")
	for _, bad := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"opt_out_text": "Bye."}, "missing_resubscribe"},
		{map[string]any{"help_text": "We are Acme."}, "missing_opt_out"},
		{map[string]any{"opt_out_keywords": []string{"ARRET"}, "opt_in_keywords": []string{"arret"}}, "keyword_conflict"},
		{map[string]any{"help_keywords": []string{"a,b"}}, "invalid_keyword"},
		{map[string]any{"help_text": strings.Repeat("STOP ", 100)}, "too_long"},
	} {
		res := b.do("PUT", "/api/v1/settings/replies", b.admin, bad.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "%v", bad.body)
		require.Equal(t, bad.code, res.errorCode(t))
	}
	res = b.do("PUT", "/api/v1/settings/replies", b.admin, map[string]any{"opt_out_keywords": []string{"arret"}, "brand_name": "Acme"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Equal(t, []any{"ARRET"}, res.json(t)["settings"].(map[string]any)["opt_out_keywords"])
	require.Equal(t, http.StatusForbidden, b.do("PUT", "/api/v1/settings/replies", b.keyWithRole("editor"), map[string]any{}).status)
}

// TestCarrierTokenChangeTakesEffectAtOnce checks the cache of who signs
// carrier webhooks: once the operator gives the sub-account a new token,
// a request signed with it is accepted at once and the old token is not.
func TestCarrierTokenChangeTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	b.enableSMS(b.acct, 10)
	b.contactWith(b.admin, "+17346263333", "opted_in")
	help := inboundForm("+17346263333", "+18885550100", "HELP")
	res := b.postInbound(help, twilio.Sign(testToken, inboundURL, help))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)

	res = b.do("PUT", "/api/v1/operator/accounts/"+b.acct, b.operator, map[string]any{
		"twilio": map[string]any{"account_sid": testSID, "auth_token": "rotated-token", "base_url": "http://127.0.0.1:9/sim"}})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)

	help.Set("MessageSid", "SM"+strings.Repeat("b", 32))
	res = b.postInbound(help, twilio.Sign("rotated-token", inboundURL, help))
	require.Equal(t, http.StatusOK, res.status, "the new token works at once: %s", res.body)
	help.Set("MessageSid", "SM"+strings.Repeat("c", 32))
	res = b.postInbound(help, twilio.Sign(testToken, inboundURL, help))
	require.Equal(t, http.StatusForbidden, res.status, "the old token is refused: %s", res.body)
}
