package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

func TestSendSkipsWhoMayNotBeTexted(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.approvedTemplate(b.admin, "transactional", "Hi {{first_name}}, your {{reward_amount}} reward is approved.")

		ok := b.contactWith(b.admin, "+17346263333", "opted_in")
		res := b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": ok, "template_id": tpl, "data": map[string]any{"reward_amount": "$10"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "SMS is off until the operator enables it")
		require.Equal(t, "sms_not_enabled", res.errorCode(t))

		b.enableSMS(b.acct, 100)
		cases := []struct {
			name, phone, pref, status, reason string
		}{
			{"opted in", "+14155550142", "opted_in", "queued", ""},
			{"never asked", "+13125550199", "", "skipped", "not_opted_in"},
			{"opted out", "+16175550123", "opted_out", "skipped", "not_opted_in"},
			{"abroad", "+447400123456", "opted_in", "skipped", "country_not_allowed"},
		}
		for _, tc := range cases {
			c := b.contactWith(b.admin, tc.phone, tc.pref)
			res := b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": c, "template_id": tpl, "data": map[string]any{"reward_amount": "$10"}})
			require.Equal(t, http.StatusAccepted, res.status, "%s: %s", tc.name, res.body)
			m := res.json(t)
			require.Equal(t, tc.status, m["status"], tc.name)
			require.Equal(t, tc.reason, m["reason"], tc.name)
			require.Equal(t, "Hi Ava, your $10 reward is approved.", m["body"], "rendered once, at creation")
			require.Equal(t, "GSM-7", m["encoding"])
			require.Equal(t, float64(1), m["segments"])
		}

		// A missing value with no fallback is the developer's to fix.
		res = b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": ok, "template_id": tpl})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Equal(t, "missing_merge_value", res.errorCode(t))

		// Bad references.
		for _, bad := range []struct {
			body   map[string]any
			status int
			code   string
		}{
			{map[string]any{"contact_id": ok}, 422, "required"},
			{map[string]any{"template_id": tpl}, 422, "required"},
			{map[string]any{"contact_id": "con_nope", "template_id": tpl}, 404, "not_found"},
			{map[string]any{"external_id": "nobody", "template_id": tpl}, 404, "not_found"},
			{map[string]any{"external_id": "x' OR '1'='1", "template_id": tpl}, 404, "not_found"},
			{map[string]any{"external_id": "nul\x00byte", "template_id": tpl}, 422, "invalid_text"},
			{map[string]any{"contact_id": ok, "template_id": tpl, "data": map[string]any{"n": []any{"a\x00"}}}, 422, "invalid_text"},
			{map[string]any{"external_id": strings.Repeat("é", 5000), "template_id": tpl}, 404, "not_found"},
			{map[string]any{"contact_id": "con_nul\x00", "template_id": tpl}, 422, "invalid_text"},
			{map[string]any{"contact_id": ok, "template_id": "tpl_nope"}, 404, "not_found"},
			{map[string]any{"contact_id": ok, "external_id": "x", "template_id": tpl}, 422, "invalid_request"},
			{map[string]any{"contact_id": ok, "template_id": tpl, "kind": "promo"}, 422, "invalid_kind"},
			{map[string]any{"contact_id": ok, "template_id": tpl, "program_id": "prg_nope", "data": map[string]any{"reward_amount": 1}}, 404, "not_found"},
			{map[string]any{"contact_id": ok, "template_id": tpl, "data": map[string]any{"reward_amount": strings.Repeat("$", 1570)}}, 422, "body_too_long"},
			{map[string]any{"contact_id": ok, "template_id": tpl, "data": map[string]any{"reward_amount": strings.Repeat("$", 1500)}}, 422, "body_too_many_segments"},
		} {
			res := b.do("POST", "/api/v1/messages", b.admin, bad.body)
			require.Equal(t, bad.status, res.status, "%v: %s", bad.body, res.body)
			require.Equal(t, bad.code, res.errorCode(t), "%v", bad.body)
		}

		// An unapproved template cannot be sent.
		res = b.do("POST", "/api/v1/templates", b.admin, map[string]any{"name": "Draft", "kind": "transactional", "body": "Hello"})
		draft := res.json(t)["id"].(string)
		res = b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": ok, "template_id": draft})
		require.Equal(t, "template_not_approved", res.errorCode(t))

		list := b.do("GET", "/api/v1/messages?status=skipped", b.admin, nil).json(t)
		require.Len(t, list["data"], 3)
		out := b.do("GET", "/api/v1/outcomes", b.admin, nil).json(t)
		counts := out["counts"].(map[string]any)
		require.Equal(t, float64(1), counts["processing"])
		require.Equal(t, float64(3), counts["skipped"])
		require.Equal(t, "invalid_status", b.do("GET", "/api/v1/outcomes?status=lost", b.admin, nil).errorCode(t))
		require.Equal(t, "invalid_time", b.do("GET", "/api/v1/messages?from=yesterday", b.admin, nil).errorCode(t))
		for _, path := range []string{"/api/v1/messages", "/api/v1/outcomes"} {
			require.Equal(t, "invalid_error_code", b.do("GET", path+"?error_code=3000x", b.admin, nil).errorCode(t), path)
			res := b.do("GET", path+"?error_code=30007", b.admin, nil)
			require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.body)
			require.Empty(t, res.json(t)["data"], "%s: no message has the code", path)
		}
	})
}

func TestMonthlyLimitAndTheLimitQueue(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.enableSMS(b.acct, 2)
		promo := b.approvedTemplate(b.admin, "marketing", "Acme: 2x points this weekend! Reply STOP to opt out.")
		receipt := b.approvedTemplate(b.admin, "transactional", "Acme: your reward was sent.")
		// Each promotion goes to its own contact (the frequency cap allows one
		// a day), in a zone where it is daytime now (the sending window).
		c := b.daytimeContact("+17346263333")
		others := []string{b.daytimeContact("+17346263334"), b.daytimeContact("+17346263335")}
		send := func(tpl, to string) map[string]any {
			res := b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": to, "template_id": tpl})
			require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
			return res.json(t)
		}
		first, second := send(promo, others[0]), send(promo, c)
		require.Equal(t, "queued", first["status"])
		require.Equal(t, "queued", second["status"])
		require.Equal(t, "limit_queued", send(promo, others[1])["status"], "past the limit")

		// A transactional message takes the allowance of the newest waiting
		// marketing message, which moves to the queue.
		require.Equal(t, "queued", send(receipt, c)["status"])
		bumped := b.do("GET", "/api/v1/messages/"+second["id"].(string), b.admin, nil).json(t)
		require.Equal(t, "limit_queued", bumped["status"])
		usage := b.do("GET", "/api/v1/usage", b.admin, nil).json(t)
		require.Equal(t, float64(2), usage["used"])
		require.Equal(t, float64(100), usage["notified"], "the 100 % mark was announced")

		queue := b.do("GET", "/api/v1/limit-queue", b.admin, nil).json(t)["data"].([]any)
		require.Len(t, queue, 2)
		editor := b.keyWithRole("editor")
		require.Equal(t, http.StatusForbidden, b.do("POST", "/api/v1/limit-queue/send", editor, map[string]any{"all": true}).status)

		// Release one, after the contact opted out: the rules are checked again.
		res := b.do("PUT", "/api/v1/contacts/"+c+"/sms-preference", b.admin, map[string]any{"preference": "opted_out"})
		require.Equal(t, http.StatusOK, res.status)
		// Each id given twice counts once.
		res = b.do("POST", "/api/v1/limit-queue/send", b.admin, map[string]any{"ids": []string{second["id"].(string),
			"msg_unknown", second["id"].(string), "msg_unknown"}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, map[string]any{"released": float64(0), "cancelled": float64(0), "skipped": float64(1), "not_queued": float64(1)}, res.json(t))

		res = b.do("POST", "/api/v1/limit-queue/cancel", b.admin, map[string]any{"all": true})
		require.Equal(t, float64(1), res.json(t)["cancelled"])
		require.Empty(t, b.do("GET", "/api/v1/limit-queue", b.admin, nil).json(t)["data"])

		for _, bad := range []map[string]any{{}, {"ids": []string{"a"}, "all": true}, {"ids": make([]string, 1001)}} {
			res := b.do("POST", "/api/v1/limit-queue/send", b.admin, bad)
			require.Equal(t, http.StatusUnprocessableEntity, res.status, "%v", bad)
		}
	})
}

// A setup the operator is refused changes nothing, whichever of its parts
// is refused and whenever: the numbers it would replace, the limit and the
// carrier it would set, and SMS, which stays on.
func TestARefusedOperatorSetupChangesNothing(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.enableSMS(b.acct, 10)
		other, _ := b.newAccount("Other")
		b.enableSMSWith(other, "+18885550199")
		path := "/api/v1/operator/accounts/" + b.acct
		before := b.do("PUT", path, b.operator, map[string]any{}).json(t)

		newCarrier := map[string]any{"account_sid": "AC" + strings.Repeat("f", 32), "auth_token": "new-token"}
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			code   string
		}{
			{"no numbers left to send from", map[string]any{"monthly_limit": 5, "twilio": newCarrier,
				"numbers": []map[string]any{}}, 422, "sms_not_ready"},
			{"another account's number", map[string]any{"monthly_limit": 5, "twilio": newCarrier,
				"numbers": []map[string]any{{"phone": "+18885550199", "kind": "both"}}}, 409, "number_taken"},
			{"a bad number after good fields", map[string]any{"monthly_limit": 5, "sms_enabled": false,
				"numbers": []map[string]any{{"phone": "+18885550100", "kind": "both", "mps": -1}}}, 422, "invalid_mps"},
		} {
			res := b.do("PUT", path, b.operator, tc.body)
			require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
			require.Equal(t, tc.code, res.errorCode(t), tc.name)
			after := b.do("PUT", path, b.operator, map[string]any{}).json(t)
			require.Equal(t, before["numbers"], after["numbers"], tc.name)
			acct, was := after["account"].(map[string]any), before["account"].(map[string]any)
			for _, field := range []string{"sms_enabled", "monthly_limit", "twilio"} {
				require.Equal(t, was[field], acct[field], "%s: %s", tc.name, field)
			}
		}
	})
}

// enableSMSWith sets an account up to send from phone.
func (b *testBundle) enableSMSWith(accountID, phone string) {
	b.t.Helper()
	res := b.do("PUT", "/api/v1/operator/accounts/"+accountID, b.operator, map[string]any{
		"sms_enabled": true, "twilio": map[string]any{"account_sid": testSID, "auth_token": testToken},
		"numbers": []map[string]any{{"phone": phone, "kind": "both"}},
	})
	require.Equal(b.t, http.StatusOK, res.status, "%s", res.body)
}

func TestOperatorSetupRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	path := "/api/v1/operator/accounts/" + b.acct
	cases := []struct {
		name string
		body map[string]any
		code string
	}{
		{"negative limit", map[string]any{"monthly_limit": -1}, "invalid_monthly_limit"},
		{"bad sid", map[string]any{"twilio": map[string]any{"account_sid": "XX1", "auth_token": "t"}}, "invalid_account_sid"},
		{"no token", map[string]any{"twilio": map[string]any{"account_sid": testSID}}, "invalid_auth_token"},
		{"bad base url", map[string]any{"twilio": map[string]any{"account_sid": testSID, "auth_token": "t", "base_url": "ftp://x"}}, "invalid_base_url"},
		{"credentials in url", map[string]any{"twilio": map[string]any{"account_sid": testSID, "auth_token": "t", "base_url": "http://u:p@x"}}, "invalid_base_url"},
		{"query in url", map[string]any{"twilio": map[string]any{"account_sid": testSID, "auth_token": "t", "base_url": "http://x/sim?v=1"}}, "invalid_base_url"},
		{"fragment in url", map[string]any{"twilio": map[string]any{"account_sid": testSID, "auth_token": "t", "base_url": "http://x/sim#top"}}, "invalid_base_url"},
		{"empty query in url", map[string]any{"twilio": map[string]any{"account_sid": testSID, "auth_token": "t", "base_url": "http://x/sim?"}}, "invalid_base_url"},
		{"three numbers", map[string]any{"numbers": []map[string]any{{"phone": "+18885550100", "kind": "both"}, {"phone": "+18885550101", "kind": "marketing"}}}, "invalid_numbers"},
		{"number not e164", map[string]any{"numbers": []map[string]any{{"phone": "888-555-0100", "kind": "both"}}}, "invalid_phone"},
		{"bad kind", map[string]any{"numbers": []map[string]any{{"phone": "+18885550100", "kind": "promo"}}}, "invalid_number_kind"},
		{"bad country", map[string]any{"allowed_countries": []string{"USA"}}, "invalid_country"},
		{"enable without carrier", map[string]any{"sms_enabled": true}, "sms_not_ready"},
	}
	for _, tc := range cases {
		res := b.do("PUT", path, b.operator, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
	}
	acct := b.do("GET", "/api/v1/account", b.admin, nil).json(t)
	require.Equal(t, false, acct["sms_enabled"])
	require.NotContains(t, acct, "auth_token")
	require.Equal(t, http.StatusNotFound, b.do("PUT", "/api/v1/operator/accounts/acc_nope", b.operator, map[string]any{}).status)

	b.enableSMS(b.acct, 10)
	shown := b.do("GET", "/api/v1/operator/accounts/"+b.acct, b.operator, nil)
	require.NotContains(t, string(shown.body), testToken, "the token is never shown")
}

// statusForm is a status callback as Twilio posts it.
func statusForm(sid, status string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "AccountSid": {testSID},
		"From": {"+18885550100"}, "To": {"+17346263333"}, "ApiVersion": {"2010-04-01"}}
}

func (b *testBundle) postStatus(form url.Values, sign func(url.Values) string, header ...string) response {
	b.t.Helper()
	return b.postStatusTo("/webhooks/twilio/status", form, sign, header...)
}

// postStatusTo posts a status callback to a path that may carry a query,
// as the status callback URL Herald gives with each send does.
func (b *testBundle) postStatusTo(path string, form url.Values, sign func(url.Values) string, header ...string) response {
	b.t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded", twilio.SignatureHeader, sign(form)}, header...)
	return b.do("POST", path, "", form.Encode(), h...)
}

func TestStatusCallbackBadInput(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, statusCallbackBadInput)
}

func statusCallbackBadInput(t *testing.T, d *db.DB) {
	b := setup(t, d)
	b.enableSMS(b.acct, 10)
	good := func(f url.Values) string {
		return twilio.Sign(testToken, "http://herald.test/webhooks/twilio/status", f)
	}
	cases := []struct {
		name   string
		form   url.Values
		sign   func(url.Values) string
		status int
		code   string
	}{
		{"no signature", statusForm("SM1", "delivered"), func(url.Values) string { return "" }, 403, "invalid_signature"},
		{"wrong token", statusForm("SM1", "delivered"), func(f url.Values) string {
			return twilio.Sign("other", "http://herald.test/webhooks/twilio/status", f)
		}, 403, "invalid_signature"},
		{"wrong url", statusForm("SM1", "delivered"), func(f url.Values) string {
			return twilio.Sign(testToken, "http://evil.test/webhooks/twilio/status", f)
		}, 403, "invalid_signature"},
		{"tampered after signing", statusForm("SM1", "delivered"), func(f url.Values) string {
			sig := good(f)
			f.Set("MessageStatus", "failed")
			return sig
		}, 403, "invalid_signature"},
		{"unknown sub-account", func() url.Values {
			f := statusForm("SM1", "delivered")
			f.Set("AccountSid", "AC"+strings.Repeat("9", 32))
			return f
		}(), good, 403, "invalid_signature"},
		{"missing MessageSid", func() url.Values { f := statusForm("SM1", "delivered"); f.Del("MessageSid"); f.Del("SmsSid"); return f }(), good, 422, "invalid_callback"},
		// Longer than a PostgreSQL index entry can hold: kept for later, it
		// would fail the write of every report committed with it.
		{"MessageSid that is no carrier's id", statusForm("SM"+strings.Repeat("a", 3000), "delivered"), good, 422, "invalid_callback"},
		{"MessageSid with a space", statusForm("SM1 SM2", "delivered"), good, 422, "invalid_callback"},
		{"ErrorCode that is no code", func() url.Values {
			f := statusForm("SM1", "failed")
			f.Set("ErrorCode", strings.Repeat("3", 40))
			return f
		}(), good, 422, "invalid_callback"},
	}
	for _, tc := range cases {
		res := b.postStatus(tc.form, tc.sign)
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
	}
	// A token is kept under a unique index; PostgreSQL answered 500 for
	// one of 3,000 random characters.
	res := b.postStatus(statusForm("SM1", "delivered"), good, "I-Twilio-Idempotency-Token", strings.Repeat("t", 257))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
	require.Equal(t, "invalid_callback", res.errorCode(t))
	res = b.postStatus(statusForm("SM1", "delivered"), good, "I-Twilio-Idempotency-Token", strings.Repeat("t", 256))
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)

	huge := statusForm("SM1", "delivered")
	huge.Set("Body", strings.Repeat("x", 100<<10))
	res = b.postStatus(huge, good)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.status)

	// A good signature for a message Herald does not know is accepted (and
	// kept for when its send result is written), never an error.
	res = b.postStatus(statusForm("SMunknown", "delivered"), good)
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)

	// The URL Herald gives with each send names the message; Twilio signs
	// it with that query. A name moved to another message after signing is
	// refused; one that names nothing Herald is sending, however odd, is
	// only a name: the report is taken like any other, at once.
	signedFor := func(path string) func(url.Values) string {
		return func(f url.Values) string { return twilio.Sign(testToken, "http://herald.test"+path, f) }
	}
	moved := b.postStatusTo("/webhooks/twilio/status?message_id=msg_b", statusForm("SM2", "delivered"),
		signedFor("/webhooks/twilio/status?message_id=msg_a"))
	require.Equal(t, http.StatusForbidden, moved.status, "%s", moved.body)
	require.Equal(t, "invalid_signature", moved.errorCode(t))
	for _, name := range []string{"msg_unknown", "", "%2E%2E%2Fmsg", strings.Repeat("m", 2000), "msg_a&message_id=msg_b"} {
		path := "/webhooks/twilio/status?message_id=" + name
		start := time.Now()
		res := b.postStatusTo(path, statusForm("SM3", "delivered"), signedFor(path))
		require.Equal(t, http.StatusNoContent, res.status, "%q: %s", name, res.body)
		require.Less(t, time.Since(start), time.Second, "%q: a report naming no message being sent does not wait", name)
	}
}

// Paging through the messages and the outcomes log gives every message
// once, newest first, and ends with an empty cursor; a cursor this API did
// not give is refused.
func TestMessagesAndOutcomesPageThroughEveryMessage(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.enableSMS(b.acct, 100)
		tpl := b.approvedTemplate(b.admin, "transactional", "Hi {{first_name}}, your reward is approved.")
		var made []string
		for i := range 7 {
			pref := "opted_in"
			if i%3 == 2 {
				pref = "" // skipped: never asked
			}
			c := b.contactWith(b.admin, fmt.Sprintf("+141555501%02d", i), pref)
			res := b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": c, "template_id": tpl})
			require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
			made = append(made, res.json(t)["id"].(string))
		}
		slices.Reverse(made) // newest first
		// Another account's messages are never on the pages.
		other, otherKey := b.newAccount("Other")
		b.enableSMSWith(other, "+18885550199")
		otherTpl := b.approvedTemplate(otherKey, "transactional", "Other {{first_name}}")
		oc := b.contactWith(otherKey, "+14155550150", "opted_in")
		res := b.do("POST", "/api/v1/messages", otherKey, map[string]any{"contact_id": oc, "template_id": otherTpl})
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)

		for _, list := range []struct{ path, idField string }{
			{"/api/v1/messages", "id"}, {"/api/v1/outcomes", "message_id"},
		} {
			var seen []string
			cursor, pages := "", 0
			for {
				page := b.do("GET", list.path+"?limit=3&cursor="+cursor, b.admin, nil)
				require.Equal(t, http.StatusOK, page.status, "%s", page.body)
				body := page.json(t)
				for _, m := range body["data"].([]any) {
					seen = append(seen, m.(map[string]any)[list.idField].(string))
				}
				pages++
				if cursor = body["next_cursor"].(string); cursor == "" {
					break
				}
				require.Less(t, pages, 5, "%s: the pages end", list.path)
			}
			require.Equal(t, made, seen, list.path)
			require.Equal(t, 3, pages, list.path)

			// A filtered list pages within its filter.
			var skipped []string
			for cursor = ""; ; {
				body := b.do("GET", list.path+"?limit=1&status=skipped&cursor="+cursor, b.admin, nil).json(t)
				for _, m := range body["data"].([]any) {
					skipped = append(skipped, m.(map[string]any)[list.idField].(string))
				}
				if cursor = body["next_cursor"].(string); cursor == "" {
					break
				}
			}
			require.Equal(t, []string{made[1], made[4]}, skipped, "%s: messages 5 and 2, newest first", list.path)

			for _, bad := range []string{"!!", "Z2FyYmFnZQ", base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("msg_", 20)))} {
				res := b.do("GET", list.path+"?cursor="+bad, b.admin, nil)
				require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s %q: %s", list.path, bad, res.body)
				require.Equal(t, "invalid_cursor", res.errorCode(t))
			}
		}
	})
}
