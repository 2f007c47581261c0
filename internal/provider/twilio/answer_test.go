package twilio_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

// Twilio-compatible carriers name their messages differently; each of
// these ids is kept as it came.
func TestSendKeepsTheCarriersID(t *testing.T) {
	t.Parallel()
	for _, sid := range []string{
		"SM0123456789abcdef0123456789abcdef",   // Twilio
		"b3877c40-da60-4998-90ad-b792e98472af", // a carrier that answers with UUIDs
		"SM_" + strings.Repeat("a", 61),        // the longest kept
	} {
		fake := newFakeTwilio(t, respondWith(201, `{"sid":"`+sid+`","status":"queued","num_segments":"1"}`))
		res, err := twilio.New(nil, nil).Send(t.Context(), provider.Message{
			To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
		})
		require.NoError(t, err, sid)
		require.Equal(t, sid, res.CarrierID)
	}
}

func TestIsCode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"21610": true, "0": true, "1234567890123456": true,
		"": false, "12345678901234567": false, "21x10": false, "-1": false, " 21610": false, "٣": false,
	} {
		require.Equal(t, want, twilio.IsCode(s), "%q", s)
	}
}

// A carrier's answer is the carrier's text; whatever it holds, Send ends
// in a result Herald can store or an error it can act on, and never
// panics.
func FuzzSendAnswer(f *testing.F) {
	f.Add(201, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)
	f.Add(201, `{"sid":"SM\u0000","status":"queued"}`)
	f.Add(200, `{"sid":["SM1"]}`)
	f.Add(400, `{"code":21211,"message":"not a number"}`)
	f.Add(400, `{"code":"99999999999999999999","message":"x"}`)
	f.Add(429, `{"code":{"a":1}}`)
	f.Add(503, "<html>down</html>")
	f.Add(302, "")
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 200 || status > 599 {
			return // not an answer net/http lets a server write
		}
		srv := httptest.NewServer(respondWith(status, body))
		defer srv.Close()
		res, err := twilio.New(nil, nil).Send(t.Context(), provider.Message{
			To: "+15005550006", From: "+15005550001", Body: "hi",
			Credentials: provider.Credentials{AccountSID: testSID, AuthToken: testToken, BaseURL: srv.URL},
		})
		if err == nil {
			require.True(t, status < 300, "status %d taken as a success", status)
			require.True(t, twilio.IsSID(res.CarrierID), "kept carrier id %q", res.CarrierID)
			return
		}
		e, ok := errors.AsType[*provider.Error](err)
		require.True(t, ok, "want *provider.Error, got %T: %v", err, err)
		require.True(t, e.Code == "" || twilio.IsCode(e.Code), "kept code %q", e.Code)
	})
}

// A carrier that redirects the send gets no second request: followed, a
// 301 would have turned the POST into a GET that creates nothing.
func TestSendDoesNotFollowARedirect(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 307, 308} {
		fake := newFakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/moved" {
				respondWith(201, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)(w, r)
				return
			}
			http.Redirect(w, r, "/moved", status)
		})
		_, err := twilio.New(nil, nil).Send(t.Context(), provider.Message{
			To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
		})
		e, ok := errors.AsType[*provider.Error](err)
		require.True(t, ok, "%d: want *provider.Error, got %T: %v", status, err, err)
		require.Equal(t, provider.Permanent, e.Class, "%d", status)
		require.Equal(t, status, e.Status)
		require.Len(t, fake.seen, 1, "%d: one request", status)
	}
}
