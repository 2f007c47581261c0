package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/sim"
)

// do makes one request to the mounted simulator and returns the status and
// the decoded JSON answer.
func (b *testBundle) do(t *testing.T, method, path, contentType, body string) (int, any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.server.URL+"/sim"+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), string(raw))
	var got any
	require.NoError(t, json.Unmarshal(raw, &got), string(raw))
	return resp.StatusCode, got
}

func problem(code, field string) map[string]any {
	e := map[string]any{"code": code}
	if field != "" {
		e["field"] = field
	}
	return e
}

// withoutMessage drops the human-readable message from an error envelope,
// leaving what a client branches on.
func withoutMessage(t *testing.T, got any) map[string]any {
	t.Helper()
	env, ok := got.(map[string]any)
	require.True(t, ok, "%v", got)
	e, ok := env["error"].(map[string]any)
	require.True(t, ok, "%v", got)
	require.NotEmpty(t, e["message"])
	delete(e, "message")
	return e
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	herald := newFakeHerald(t, answerTwiML("You are opted out. Reply START to opt back in."))
	b := setup(t, sim.Config{InboundURL: herald.inboundURL()})
	b.send(t, b.messageWithoutCallback())
	other := b.messageWithoutCallback()
	other.To = "+15005550002"
	b.send(t, other)

	status, got := b.do(t, http.MethodGet, "/handsets", "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{"+15005550002", handset}, got)

	for _, query := range []string{"handset=%2B15005550006", "handset=+15005550006"} { // a bare '+' arrives as a space
		status, got = b.do(t, http.MethodGet, "/inbox?"+query, "", "")
		require.Equal(t, http.StatusOK, status, query)
		list, _ := got.([]any)
		require.Len(t, list, 1, query)
		require.Equal(t, "Your reward is ready", list[0].(map[string]any)["body"])
	}

	status, got = b.do(t, http.MethodGet, "/inbox?handset=%2B19999999999", "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{}, got, "an unknown handset has an empty inbox")

	status, got = b.do(t, http.MethodPost, "/reply", "application/json",
		`{"from":"+15005550006","to":"+15005550001","body":"STOP"}`)
	require.Equal(t, http.StatusOK, status)
	replies := got.(map[string]any)["replies"].([]any)
	require.Len(t, replies, 1)
	require.Equal(t, "You are opted out. Reply START to opt back in.", replies[0].(map[string]any)["body"])
	require.Equal(t, "STOP", (<-herald.seen).in.Body)

	status, _ = b.do(t, http.MethodPost, "/reply", "application/x-www-form-urlencoded",
		"from=+15005550006&to=+15005550001&body=HELP")
	require.Equal(t, http.StatusOK, status, "a form works too, bare '+' and all")
	require.Equal(t, "HELP", (<-herald.seen).in.Body)
	require.Len(t, b.sim.Inbox(handset), 3)
}

func TestControlErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		want                                  map[string]any
	}{
		{"inbox without handset", http.MethodGet, "/inbox", "", "", 400, problem("missing_field", "handset")},
		{"reply without body", http.MethodPost, "/reply", "application/json", `{"from":"+15005550006","to":"+15005550001"}`,
			400, problem("missing_field", "body")},
		{"reply that is not JSON", http.MethodPost, "/reply", "application/json", `{"from":`, 400, problem("malformed_json", "")},
		{"reply from a bad number", http.MethodPost, "/reply", "application/json", `{"from":"hello","to":"+15005550001","body":"hi"}`,
			400, problem("invalid_phone_number", "from")},
		{"reply to a number nobody sent from", http.MethodPost, "/reply", "application/json",
			`{"from":"+15005550006","to":"+15005550999","body":"hi"}`, 404, problem("unknown_sender", "to")},
		{"reply Herald refuses", http.MethodPost, "/reply", "application/json",
			`{"from":"+15005550006","to":"+15005550001","body":"hi"}`, 502, problem("inbound_rejected", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			herald := newFakeHerald(t, answerRaw(http.StatusForbidden, "bad signature"))
			b := setup(t, sim.Config{InboundURL: herald.inboundURL()})
			b.send(t, b.messageWithoutCallback())
			status, got := b.do(t, tt.method, tt.path, tt.contentType, tt.body)
			require.Equal(t, tt.status, status)
			require.Equal(t, tt.want, withoutMessage(t, got))
		})
	}
}

// Any other path under the API root answers as Twilio does.
func TestUnknownTwilioPath(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	status, got := b.do(t, http.MethodGet, "/2010-04-01/Accounts/"+testSID+"/Calls.json", "", "")
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, float64(20404), got.(map[string]any)["code"])

	status, got = b.do(t, http.MethodPost, "/2010-04-01/Accounts/AC%22x/Messages.json", "application/x-www-form-urlencoded", "")
	require.Equal(t, http.StatusNotFound, status, "a SID can only be letters and digits")
	require.Equal(t, float64(20404), got.(map[string]any)["code"])
}
