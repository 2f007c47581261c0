package sim_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/sim"
)

var smSID = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func TestSendThroughTheTwilioClient(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Clock: fixedClock()})

	m := b.message()
	m.StatusCallback = ""
	res := b.send(t, m)
	require.Regexp(t, smSID, res.CarrierID)
	require.Equal(t, "queued", res.Status)
	require.Equal(t, 1, res.Segments)

	inbox := b.sim.Inbox(handset)
	require.Len(t, inbox, 1)
	require.Equal(t, sim.Received{
		SID: res.CarrierID, AccountSID: testSID, From: sender, To: handset, Body: m.Body, Segments: 1,
		Direction: sim.DirectionAPI, Status: "delivered", ReceivedAt: fixedClock()(),
	}, inbox[0], "with no callback asked for, the final status is recorded at once")
	require.Equal(t, []string{handset}, b.sim.Handsets())
}

// The Message resource as Twilio documents it: strings for counts, RFC 2822
// dates, nulls for what is not known yet.
func TestSendAnswersWithTheMessageResource(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Clock: fixedClock()})

	body := strings.Repeat("a", 161) // one past a single GSM-7 segment's 160
	resp, raw := b.postForm(t, testSID, testSID, testToken, url.Values{"To": {handset}, "From": {sender}, "Body": {body}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, raw)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &got))

	sid, _ := got["sid"].(string)
	require.Regexp(t, smSID, sid)
	uri := "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid
	require.Equal(t, map[string]any{
		"account_sid": testSID, "api_version": "2010-04-01", "body": body,
		"date_created": "Mon, 06 Jan 2025 10:02:00 +0000", "date_updated": "Mon, 06 Jan 2025 10:02:00 +0000",
		"date_sent": nil, "direction": "outbound-api", "error_code": nil, "error_message": nil,
		"from": sender, "messaging_service_sid": nil, "num_media": "0", "num_segments": "2",
		"price": nil, "price_unit": "USD", "sid": sid, "status": "queued",
		"subresource_uris": map[string]any{"media": uri + "/Media.json"}, "to": handset, "uri": uri + ".json",
	}, got)
}

func TestSendFromAMessagingService(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	m := b.message()
	m.From, m.StatusCallback = "MG0123456789abcdef0123456789abcdef", ""
	res := b.send(t, m)
	require.Equal(t, "accepted", res.Status, "Twilio accepts first and picks a sender later")
	require.Equal(t, m.From, b.sim.Inbox(handset)[0].From)
}

func TestSendErrorsMapToProviderClasses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		arrange    func(*sim.Sim)
		modify     func(*provider.Message)
		class      provider.Class
		status     int
		code       string
		retryAfter time.Duration
	}{
		{name: "To not in E.164 form", modify: func(m *provider.Message) { m.To = "5005550006" },
			class: provider.InvalidNumber, status: 400, code: "21211"},
		{name: "To with a zero country code", modify: func(m *provider.Message) { m.To = "+0105550006" },
			class: provider.InvalidNumber, status: 400, code: "21211"},
		{name: "handset unsubscribed at the carrier", arrange: func(s *sim.Sim) { s.SetUnsubscribed(handset, true) },
			class: provider.Unsubscribed, status: 400, code: "21610"},
		{name: "handset is a landline", arrange: func(s *sim.Sim) { s.SetLandline(handset, true) },
			class: provider.InvalidNumber, status: 400, code: "21614"},
		{name: "body over 1600 characters", modify: func(m *provider.Message) { m.Body = strings.Repeat("é", 1601) },
			class: provider.Permanent, status: 400, code: "21617"},
		{name: "wrong token for a known sub-account", modify: func(m *provider.Message) { m.Credentials.AuthToken = otherToken },
			class: provider.Unauthorized, status: 401, code: "20003"},
		{name: "429 storm", arrange: func(s *sim.Sim) {
			s.SetFailure(sim.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond})
		}, class: provider.RateLimited, status: 429, code: "20429", retryAfter: 2 * time.Second},
		{name: "server error", arrange: func(s *sim.Sim) { s.SetFailure(sim.Failure{Status: http.StatusInternalServerError}) },
			class: provider.Retryable, status: 500, code: "20500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sim.Config{})
			b.send(t, b.message()) // the sub-account's token is now known
			if tt.arrange != nil {
				tt.arrange(b.sim)
			}
			m := b.message()
			if tt.modify != nil {
				tt.modify(&m)
			}
			_, err := b.client.Send(t.Context(), m)
			pe, ok := errors.AsType[*provider.Error](err)
			require.True(t, ok, "%T: %v", err, err)
			require.Equal(t, tt.class, pe.Class, pe.Error())
			require.Equal(t, tt.status, pe.Status)
			require.Equal(t, tt.code, pe.Code)
			require.Equal(t, tt.retryAfter, pe.RetryAfter)
			require.Len(t, b.sim.Received(), 1, "a refused message reaches no handset")
			require.Equal(t, 1, b.sim.Accepted(), "nor is it counted as taken")
		})
	}
}

// Refusals the Twilio client never provokes (it checks these fields itself),
// in the words and codes of Twilio's error reference.
func TestSendRefusesLikeTwilio(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name              string
		path, user, token string // default: testSID, testSID, testToken
		form              func(url.Values)
		status, code      int
		message           string
	}{
		{name: "no To", form: func(f url.Values) { f.Del("To") }, status: 400, code: 21604, message: "A 'To' phone number is required."},
		{name: "no From", form: func(f url.Values) { f.Del("From") }, status: 400, code: 21603, message: "A 'From' phone number is required."},
		{name: "no Body", form: func(f url.Values) { f.Del("Body") }, status: 400, code: 21602, message: "Message body is required."},
		{name: "bad To", form: func(f url.Values) { f.Set("To", "555-1234") }, status: 400, code: 21211,
			message: "The 'To' number 555-1234 is not a valid phone number."},
		{name: "bad StatusCallback", form: func(f url.Values) { f.Set("StatusCallback", "/relative") }, status: 400, code: 21609,
			message: "The StatusCallback URL /relative is not a valid URL."},
		{name: "no credentials", user: "-", status: 401, code: 20003, message: "Authenticate"},
		{name: "path SID is not the Basic user", path: otherSID, status: 401, code: 20003, message: "Authenticate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sim.Config{})
			form := url.Values{"To": {handset}, "From": {sender}, "Body": {"hi"}}
			if tt.form != nil {
				tt.form(form)
			}
			path, user, token := cmp.Or(tt.path, testSID), cmp.Or(tt.user, testSID), cmp.Or(tt.token, testToken)
			if user == "-" {
				user, token = "", ""
			}
			resp, raw := b.postForm(t, path, user, token, form)
			require.Equal(t, tt.status, resp.StatusCode, raw)
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(raw), &got))
			require.Equal(t, map[string]any{
				"code": float64(tt.code), "message": tt.message, "status": float64(tt.status),
				"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(tt.code),
			}, got)
			require.Empty(t, b.sim.Received())
		})
	}
}

// Whatever the body, the Message resource is valid JSON and gives the body
// back exactly (a body that is not UTF-8 comes back with U+FFFD in place of
// its bad bytes).
func FuzzSendAnswerIsValidJSON(f *testing.F) {
	for _, body := range []string{"plain", `quote " backslash \ slash /`, "line\nbreak\r\ttab\x00\x1f", "emoji 🎉 and ünïcödé",
		"<b>&amp;</b>", "bad \xff utf-8", "\u2028\u2029"} {
		f.Add(body)
	}
	s := sim.New(sim.Config{InboxTotal: 10})
	f.Cleanup(s.Close)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		form := url.Values{"To": {handset}, "From": {sender}, "Body": {body}}
		req := httptest.NewRequest(http.MethodPost, "/2010-04-01/Accounts/"+testSID+"/Messages.json", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(testSID, testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if body == "" || utf8.RuneCountInString(body) > 1600 {
			require.Equal(t, http.StatusBadRequest, rec.Code)
			return
		}
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		require.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
		var got struct {
			Body string `json:"body"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), rec.Body.String())
		if utf8.ValidString(body) {
			require.Equal(t, body, got.Body)
		} else {
			require.True(t, utf8.ValidString(got.Body))
		}
	})
}
