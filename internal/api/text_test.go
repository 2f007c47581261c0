package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

// A NUL character or bytes that are not UTF-8 fit no PostgreSQL text. In
// a path or a query they are refused before any look-up, on every route
// and both engines alike, instead of failing PostgreSQL's and answering 500.
func TestPathsAndQueriesHoldingTextNoEngineKeeps(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.eachRoute(func(rt route, key string, documented []string) {
			if pathParam.MatchString(rt.path) {
				for _, bad := range []string{"con%00x", "%FF"} {
					res := b.do(rt.method, pathParam.ReplaceAllString(rt.path, bad), key, nil)
					require.Equal(t, http.StatusBadRequest, res.status, "%s %s: %s", rt.method, rt.path, res.body)
					require.Equal(t, "malformed_path", res.errorCode(t), "%s %s", rt.method, rt.path)
				}
			}
			path := pathParam.ReplaceAllString(rt.path, "x")
			for _, name := range documented {
				for bad, why := range map[string]string{"a%00": "holds a NUL character", "%C3": "is not UTF-8 text"} {
					res := b.do(rt.method, path+"?"+name+"="+bad, key, nil)
					require.Equal(t, http.StatusBadRequest, res.status, "%s %s ?%s: %s", rt.method, rt.path, name, res.body)
					require.Equal(t, "malformed_query", res.errorCode(t))
					e := res.json(t)["error"].(map[string]any)
					require.Equal(t, name, e["field"])
					require.Contains(t, e["message"], why)
				}
			}
		})
		// Text with a backslash, or beyond ASCII, is only text.
		res := b.do("GET", "/api/v1/contacts?q="+url.QueryEscape(`\u0000 Renée`), b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	})
}

// A carrier's signed report is kept, not refused: its text is made
// storable (NUL characters dropped, stray bytes replaced) after the
// signature is checked against what was sent.
func TestCarrierTextHoldingNULIsCleaned(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.enableSMS(b.acct, 10)
		c := b.contactWith(b.admin, "+17346263333", "opted_in")

		reply := inboundForm("+17346263333", "+18885550100", "Thanks\x00 for the \xffreward")
		res := b.postInbound(reply, twilio.Sign(testToken, inboundURL, reply))
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		conv := b.do("GET", "/api/v1/contacts/"+c+"/conversation", b.admin, nil)
		require.Equal(t, http.StatusOK, conv.status, "%s", conv.body)
		require.Contains(t, string(conv.body), "Thanks for the \uFFFDreward")

		// A sub-account SID that names nothing Herald keeps is no account's.
		forged := inboundForm("+17346263333", "+18885550100", "STOP")
		forged.Set("AccountSid", testSID+"\x00")
		res = b.postInbound(forged, twilio.Sign(testToken, inboundURL, forged))
		require.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		require.Equal(t, "invalid_signature", res.errorCode(t))

		// A status report for a carrier id, a message id and an idempotency
		// token holding such text is taken like any report for no message.
		path := "/webhooks/twilio/status?message_id=msg%00%FF"
		status := statusForm("SM\x00"+strings.Repeat("a", 32), "delivered")
		res = b.postStatusTo(path, status, func(f url.Values) string {
			return twilio.Sign(testToken, "http://herald.test"+path, f)
		}, "I-Twilio-Idempotency-Token", "tok\xff")
		require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)

		got := b.do("GET", "/api/v1/contacts/"+c, b.admin, nil).json(t)
		require.Equal(t, "opted_in", got["sms_preference"], "nothing else changed")
	})
}
