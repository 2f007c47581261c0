package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

// twilioError is Twilio's REST error body, shaped as its docs show it.
func twilioError(code, status int, message string) string {
	return fmt.Sprintf(`{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`,
		code, message, code, status)
}

func TestSendClassifiesTwilioErrors(t *testing.T) {
	t.Parallel()

	now := time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		class      provider.Class
		code       string
		retryAfter time.Duration
	}{
		{"invalid To", 400, nil, twilioError(21211, 400, "The 'To' number 5551234567 is not a valid phone number."), provider.InvalidNumber, "21211", 0},
		{"not a mobile number", 400, nil, twilioError(21614, 400, "'To' number is not a valid mobile number"), provider.InvalidNumber, "21614", 0},
		{"landline", 400, nil, twilioError(21635, 400, "'To' number cannot be a landline"), provider.InvalidNumber, "21635", 0},
		{"unsubscribed recipient", 400, nil, twilioError(21610, 400, "Attempt to send to unsubscribed recipient"), provider.Unsubscribed, "21610", 0},
		{"unreachable from this sender stays permanent", 400, nil, twilioError(21612, 400, "not currently reachable via SMS"), provider.Permanent, "21612", 0},
		{"other 4xx keeps its code", 400, nil, twilioError(21408, 400, "Permission to send an SMS has not been enabled"), provider.Permanent, "21408", 0},
		{"rate limited, Retry-After seconds", 429, http.Header{"Retry-After": {"7"}}, twilioError(20429, 429, "Too Many Requests"), provider.RateLimited, "20429", 7 * time.Second},
		{"rate limited, Retry-After date", 429, http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, twilioError(20429, 429, "Too Many Requests"), provider.RateLimited, "20429", 30 * time.Second},
		{"rate limited, no Retry-After", 429, nil, twilioError(20429, 429, "Too Many Requests"), provider.RateLimited, "20429", 0},
		{"rate limited, garbage Retry-After", 429, http.Header{"Retry-After": {"soon"}}, `{}`, provider.RateLimited, "", 0},
		{"rate limited, absurd Retry-After is capped", 429, http.Header{"Retry-After": {"99999999999999"}}, `{}`, provider.RateLimited, "", 24 * time.Hour},
		{"code 20429 without a 429", 400, nil, twilioError(20429, 400, "Too Many Requests"), provider.RateLimited, "20429", 0},
		{"server error", 500, nil, twilioError(20500, 500, "Internal Server Error"), provider.Retryable, "20500", 0},
		{"unavailable, HTML body", 503, nil, "<html><body>Service Unavailable</body></html>", provider.Retryable, "", 0},
		{"request timeout", 408, nil, "", provider.Retryable, "", 0},
		{"auth failure", 401, nil, twilioError(20003, 401, "Authenticate"), provider.Unauthorized, "20003", 0},
		{"401 without a code", 401, nil, "", provider.Unauthorized, "", 0},
		{"code 20003 without a 401", 403, nil, twilioError(20003, 403, "Authenticate"), provider.Unauthorized, "20003", 0},
		{"403 of another kind stays permanent", 403, nil, twilioError(20008, 403, "Resource not accessible"), provider.Permanent, "20008", 0},
		{"malformed error body", 400, nil, `{"code": 212`, provider.Permanent, "", 0},
		{"malformed success body", 201, nil, `{"sid": "SM`, provider.Permanent, "", 0},
		{"success body without sid", 200, nil, `{"status":"queued"}`, provider.Permanent, "", 0},
		{"success body whose sid holds a NUL", 201, nil, `{"sid":"SM\u0000ab"}`, provider.Permanent, "", 0},
		{"success body whose sid is too long", 201, nil, `{"sid":"SM` + strings.Repeat("a", 63) + `"}`, provider.Permanent, "", 0},
		{"success body whose sid is a sentence", 201, nil, `{"sid":"SM 1; DROP"}`, provider.Permanent, "", 0},
		{"error code too long to be one", 400, nil, `{"code":"` + strings.Repeat("9", 17) + `"}`, provider.Permanent, "", 0},
		{"error code with letters", 400, nil, `{"code":"21x11"}`, provider.Permanent, "", 0},
		{"error code as an object", 400, nil, `{"code":{"n":21610}}`, provider.Permanent, "", 0},
		{"error code as null", 400, nil, `{"code":null}`, provider.Permanent, "", 0},
		{"unusable code still classified by status", 503, nil, `{"code":"x"}`, provider.Retryable, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeTwilio(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, vs := range tt.header {
					w.Header()[k] = vs
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			client := twilio.New(nil, nil, twilio.WithClock(func() time.Time { return now }))

			_, err := client.Send(t.Context(), provider.Message{
				To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
			})
			e, ok := errors.AsType[*provider.Error](err)
			require.True(t, ok, "want *provider.Error, got %T: %v", err, err)
			require.Equal(t, tt.class, e.Class, e.Error())
			require.Equal(t, tt.code, e.Code)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			require.NotEmpty(t, e.Message)
		})
	}
}

func TestSendNetworkErrorIsRetryable(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more

	_, err := twilio.New(nil, nil).Send(t.Context(), provider.Message{
		To: "+15005550006", From: "+15005550001", Body: "hi",
		Credentials: provider.Credentials{AccountSID: testSID, AuthToken: testToken, BaseURL: base},
	})
	e, ok := errors.AsType[*provider.Error](err)
	require.True(t, ok, "%T: %v", err, err)
	require.Equal(t, provider.Retryable, e.Class)
	require.Zero(t, e.Status)
	require.Error(t, e.Err, "the network cause is kept")
}

// hang answers nothing until the client goes away.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func TestSendContextDeadlineSurfacesAsIs(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, hang)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	_, err := twilio.New(nil, nil).Send(ctx, provider.Message{
		To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, classified := errors.AsType[*provider.Error](err)
	require.False(t, classified, "a context error is returned as is, not dressed up as a carrier error")
	require.Equal(t, provider.Retryable, provider.ClassOf(err), "a deadline is a timeout")
}

func TestSendCancelledContextIsNotRetryable(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, hang)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-fake.seen; cancel() }() // cancel once the request is in flight

	_, err := twilio.New(nil, nil).Send(ctx, provider.Message{
		To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, provider.Unknown, provider.ClassOf(err))
}

func TestSendClientTimeoutIsRetryable(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, hang)
	_, err := twilio.New(twilio.NewHTTPClient(100*time.Millisecond), nil).Send(t.Context(), provider.Message{
		To: "+15005550006", From: "+15005550001", Body: "hi", Credentials: fake.credentials(),
	})
	require.Equal(t, provider.Retryable, provider.ClassOf(err), "%v", err)
}

func TestClassifyCallbackError(t *testing.T) {
	t.Parallel()

	tests := map[string]provider.Class{
		"":      provider.Unknown,
		"21610": provider.Unsubscribed,
		"21211": provider.InvalidNumber,
		"30005": provider.InvalidNumber,
		"30006": provider.InvalidNumber,
		"30003": provider.Permanent,
		"30007": provider.Permanent,
		"20429": provider.Permanent, // a rate limit cannot arrive after acceptance
		"20003": provider.Permanent, // nor can a refusal of the credentials
	}
	for code, want := range tests {
		require.Equal(t, want, twilio.ClassifyCallbackError(code), code)
	}
}
