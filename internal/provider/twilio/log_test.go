package twilio_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

// syncBuffer is a bytes.Buffer safe to share with a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestExchangeLogRedactsSecrets(t *testing.T) {
	t.Parallel()

	// A token with characters that form-encoding changes, so both its raw and
	// its encoded spelling must be scrubbed.
	const token = "s3cr3t+tok/en=value"
	const callbackPassword = "cb-pa55word"
	basic := base64.StdEncoding.EncodeToString([]byte(testSID + ":" + token))

	// Twilio echoing the token back is unlikely; it makes the response-body
	// scrubbing observable.
	fake := newFakeTwilio(t, respondWith(http.StatusBadRequest,
		`{"code": 21211, "message": "bad number, token `+token+`", "status": 400}`))
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	_, err := twilio.New(nil, log).Send(t.Context(), provider.Message{
		ID:             "msg_redact",
		To:             "+15005550006",
		From:           "+15005550001",
		Body:           "the body mentions " + token,
		StatusCallback: "https://herald:" + callbackPassword + "@herald.example/webhooks/twilio/status",
		Credentials:    provider.Credentials{AccountSID: testSID, AuthToken: token, BaseURL: fake.URL},
	})
	require.Equal(t, provider.InvalidNumber, provider.ClassOf(err))
	got := <-fake.seen
	require.Equal(t, token, got.pass, "the real request still carries the real token")

	out := logs.String()
	for _, secret := range []string{token, url.QueryEscape(token), basic, callbackPassword} {
		require.NotContains(t, out, secret)
	}

	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &line), out)
	require.Equal(t, "carrier exchange", line["msg"])
	require.Equal(t, "DEBUG", line["level"])
	require.Equal(t, "msg_redact", line["message_id"])
	require.Equal(t, "Basic ********", line["authorization"])
	require.Equal(t, float64(400), line["status"])
	require.Contains(t, line["url"], "/2010-04-01/Accounts/"+testSID+"/Messages.json", "what is not secret stays readable")
	require.Contains(t, line["request_body"], "the+body+mentions+********")
	require.Contains(t, line["request_body"], url.QueryEscape("https://herald:xxxxx@herald.example"))
	require.Contains(t, line["response_body"], "bad number, token ********")
}

func TestExchangeLogSkippedAboveDebug(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, respondWith(http.StatusCreated, `{"sid":"SM1","status":"queued"}`))
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))

	_, err := twilio.New(nil, log).Send(t.Context(), provider.Message{
		To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
	})
	require.NoError(t, err)
	require.Empty(t, logs.String())
}
