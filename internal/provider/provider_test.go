package provider_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
)

func TestClassOf(t *testing.T) {
	t.Parallel()

	netErr := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want provider.Class
	}{
		{"nil", nil, provider.Unknown},
		{"classified", &provider.Error{Class: provider.Unsubscribed, Code: "21610"}, provider.Unsubscribed},
		{"wrapped classified", fmt.Errorf("delivery: send: %w", &provider.Error{Class: provider.RateLimited}), provider.RateLimited},
		{"deadline is a timeout", context.DeadlineExceeded, provider.Retryable},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), provider.Retryable},
		{"cancel is the caller's call", context.Canceled, provider.Unknown},
		{"foreign error", errors.New("boom"), provider.Unknown},
		{"classified network error keeps its class", &provider.Error{Class: provider.Retryable, Err: netErr}, provider.Retryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, provider.ClassOf(tt.err))
		})
	}
}

func TestErrorUnwrapAndText(t *testing.T) {
	t.Parallel()

	cause := io.ErrUnexpectedEOF
	err := error(&provider.Error{Class: provider.Retryable, Status: 503, Message: "unavailable", Err: cause})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Equal(t, "retryable (http 503): unavailable: unexpected EOF", err.Error())

	err = &provider.Error{Class: provider.InvalidNumber, Status: 400, Code: "21211", Message: "bad To"}
	require.Equal(t, "invalid_number (http 400, code 21211): bad To", err.Error())
}

func TestClassString(t *testing.T) {
	t.Parallel()

	names := map[provider.Class]string{
		provider.Unknown:       "unknown",
		provider.Retryable:     "retryable",
		provider.RateLimited:   "rate_limited",
		provider.Unsubscribed:  "unsubscribed",
		provider.InvalidNumber: "invalid_number",
		provider.Permanent:     "permanent",
		provider.Unauthorized:  "unauthorized",
		provider.Class(99):     "unknown",
	}
	for c, want := range names {
		require.Equal(t, want, c.String())
	}
}

func TestCredentialsNeverPrintTheToken(t *testing.T) {
	t.Parallel()

	const token = "tok-7f3a9c1e55"
	m := provider.Message{ID: "m1", Credentials: provider.Credentials{AccountSID: "AC1", AuthToken: token}}

	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, m)
		require.NotContains(t, out, token, verb)
		require.Contains(t, out, "AC1", verb)
	}

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("send", "credentials", m.Credentials)
	require.NotContains(t, buf.String(), token)
	require.Contains(t, buf.String(), `"auth_token":"********"`)
}

func TestRetryAfterIsCarried(t *testing.T) {
	t.Parallel()

	err := fmt.Errorf("wrapped: %w", &provider.Error{Class: provider.RateLimited, RetryAfter: 3 * time.Second})
	e, ok := errors.AsType[*provider.Error](err)
	require.True(t, ok)
	require.Equal(t, 3*time.Second, e.RetryAfter)
}
