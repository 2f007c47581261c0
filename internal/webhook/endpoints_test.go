package webhook_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/webhook"
)

func TestValidateURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string // want "" means refused
	}{
		{"https://hooks.example.com/herald", "https://hooks.example.com/herald"},
		{"http://127.0.0.1:9000/hook?x=1", "http://127.0.0.1:9000/hook?x=1"},
		{"http://localhost/hook", "http://localhost/hook"},
		{"  https://example.com  ", "https://example.com"},
		{"HTTPS://example.com/a", "https://example.com/a"},
		{"http://[::1]:8080/", "http://[::1]:8080/"},
		{"", ""},
		{"example.com/hook", ""},
		{"ftp://example.com/hook", ""},
		{"javascript:alert(1)", ""},
		{"file:///etc/passwd", ""},
		{"https://user:pass@example.com/hook", ""},
		{"https://token@example.com/hook", ""},
		{"https:///nohost", ""},
		{"https://example.com/#frag", ""},
		{"https://exa mple.com/", ""},
		{"https://example.com/" + strings.Repeat("a", 2000), ""},
	}
	for _, tc := range cases {
		got, err := webhook.ValidateURL(tc.in)
		if tc.want == "" {
			p, ok := problem.As(err)
			require.True(t, ok, "%q: want a refusal, got %q, %v", tc.in, got, err)
			require.Equal(t, "invalid_url", p.Code, tc.in)
			require.Equal(t, "url", p.Field, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}

func TestValidateEvents(t *testing.T) {
	t.Parallel()
	got, err := webhook.ValidateEvents([]string{"usage.threshold", "contact.sms_opted_out", "usage.threshold"})
	require.NoError(t, err)
	require.Equal(t, []string{"contact.sms_opted_out", "usage.threshold"}, got, "documented order, no repeats")
	all, err := webhook.ValidateEvents(webhook.Events)
	require.NoError(t, err)
	require.Len(t, all, 9)

	_, err = webhook.ValidateEvents([]string{"contact.sms_opted_out", "contact.created"})
	p, ok := problem.As(err)
	require.True(t, ok)
	require.Equal(t, "unknown_event", p.Code)
	require.Equal(t, "events", p.Field)
	_, err = webhook.ValidateEvents(nil)
	require.True(t, problem.Is(err, problem.Invalid))
}

func TestEndpointLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, fastRetries)
		ctx := context.Background()
		e := b.endpoint(t, "https://hooks.example.com/a", webhook.ContactOptedOut, webhook.ContactOptedIn)
		require.True(t, strings.HasPrefix(e.ID, "whk_"))
		require.True(t, e.Enabled)
		require.Equal(t, []string{"contact.sms_opted_out", "contact.sms_opted_in"}, e.Events)
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(e.Secret, "whsec_"))
		require.NoError(t, err)
		require.Len(t, raw, 32)

		var stored string
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT secret FROM webhook_endpoints WHERE id = $1`, e.ID).Scan(&stored))
		require.NotContains(t, stored, e.Secret, "the secret is stored sealed")
		opened, err := b.box.Open(stored)
		require.NoError(t, err)
		require.Equal(t, e.Secret, opened)

		got, err := b.svc.Get(ctx, b.acct, e.ID)
		require.NoError(t, err)
		require.Equal(t, e.Endpoint, got)
		list, err := b.svc.List(ctx, b.acct)
		require.NoError(t, err)
		require.Equal(t, []webhook.Endpoint{e.Endpoint}, list)

		url, no, events := "https://hooks.example.com/b", false, []string{"message.failed"}
		changed, err := b.svc.Update(ctx, b.acct, e.ID, webhook.EndpointInput{URL: &url, Enabled: &no, Events: &events})
		require.NoError(t, err)
		require.Equal(t, url, changed.URL)
		require.False(t, changed.Enabled)
		require.Equal(t, events, changed.Events)

		rotated, err := b.svc.RotateSecret(ctx, b.acct, e.ID)
		require.NoError(t, err)
		require.NotEqual(t, e.Secret, rotated.Secret)

		// Another account sees none of it.
		for _, err := range []error{
			func() error { _, err := b.svc.Get(ctx, b.other, e.ID); return err }(),
			func() error {
				_, err := b.svc.Update(ctx, b.other, e.ID, webhook.EndpointInput{Enabled: &no})
				return err
			}(),
			func() error { _, err := b.svc.RotateSecret(ctx, b.other, e.ID); return err }(),
			func() error {
				_, err := b.svc.Deliveries(ctx, b.other, e.ID, webhook.DeliveryFilter{})
				return err
			}(),
			b.svc.Delete(ctx, b.other, e.ID),
		} {
			require.True(t, problem.Is(err, problem.NotFound), "%v", err)
		}
		otherList, err := b.svc.List(ctx, b.other)
		require.NoError(t, err)
		require.Empty(t, otherList)

		require.NoError(t, b.svc.Delete(ctx, b.acct, e.ID))
		_, err = b.svc.Get(ctx, b.acct, e.ID)
		require.True(t, problem.Is(err, problem.NotFound))
	})
}

func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite), fastRetries)
	ctx := context.Background()
	url, events := "https://example.com", []string{"message.delivered"}
	_, err := b.svc.Create(ctx, b.acct, webhook.EndpointInput{Events: &events})
	require.True(t, problem.Is(err, problem.Invalid))
	_, err = b.svc.Create(ctx, b.acct, webhook.EndpointInput{URL: &url})
	require.True(t, problem.Is(err, problem.Invalid))
	for range 20 {
		b.endpoint(t, url, events...)
	}
	_, err = b.svc.Create(ctx, b.acct, webhook.EndpointInput{URL: &url, Events: &events})
	p, ok := problem.As(err)
	require.True(t, ok)
	require.Equal(t, "too_many_webhooks", p.Code)
}
