package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/jobs"
	"github.com/heraldsms/herald/internal/webhook"
)

func TestWebhookEndpointsThroughTheAPI(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		res := b.do("POST", "/api/v1/webhooks", b.admin, map[string]any{
			"url": "https://hooks.example.com/herald", "events": []string{"contact.sms_opted_out", "usage.threshold"},
			"description": "CRM"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		created := res.json(t)
		id, secret := created["id"].(string), created["secret"].(string)
		require.True(t, strings.HasPrefix(id, "whk_"))
		require.True(t, strings.HasPrefix(secret, "whsec_"))
		require.Equal(t, true, created["enabled"])

		for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/" + id} {
			got := b.do("GET", path, b.keyWithRole(account.RoleViewer), nil)
			require.Equal(t, http.StatusOK, got.status, "a viewer reads %s", path)
			require.NotContains(t, string(got.body), secret, "the secret is shown once")
			require.NotContains(t, string(got.body), `"secret"`)
		}
		list := b.do("GET", "/api/v1/webhooks", b.admin, nil).json(t)
		require.Len(t, list["data"], 1)
		require.Len(t, list["events"], 9)

		res = b.do("PATCH", "/api/v1/webhooks/"+id, b.admin, map[string]any{"enabled": false, "events": []string{"message.failed"}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, false, res.json(t)["enabled"])
		require.Equal(t, []any{"message.failed"}, res.json(t)["events"])
		require.Equal(t, "https://hooks.example.com/herald", res.json(t)["url"], "fields not sent are kept")

		res = b.do("POST", "/api/v1/webhooks/"+id+"/rotate-secret", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.NotEqual(t, secret, res.json(t)["secret"])

		res = b.do("GET", "/api/v1/webhooks/"+id+"/deliveries", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Empty(t, res.json(t)["data"])

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/api/v1/webhooks/"+id, b.admin, nil).status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/api/v1/webhooks/"+id, b.admin, nil).status)
	})
}

func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	res := b.do("POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "https://ok.example.com", "events": []string{"message.failed"}})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	id := res.json(t)["id"].(string)
	_, otherKey := b.newAccount("Other")
	viewerKey := b.keyWithRole(account.RoleViewer)
	editorKey := b.keyWithRole(account.RoleEditor)
	good := []string{"message.failed"}

	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code                    string
	}{
		{"no url", "POST", "/api/v1/webhooks", b.admin, map[string]any{"events": good}, 422, "invalid_url"},
		{"not a url", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "hooks", "events": good}, 422, "invalid_url"},
		{"ftp", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "ftp://example.com/x", "events": good}, 422, "invalid_url"},
		{"credentials", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "https://u:p@example.com/x", "events": good}, 422, "invalid_url"},
		{"no events", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "https://example.com"}, 422, "required"},
		{"empty events", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "https://example.com", "events": []string{}}, 422, "required"},
		{"unknown event", "POST", "/api/v1/webhooks", b.admin,
			map[string]any{"url": "https://example.com", "events": []string{"message.failed", "message.exploded"}}, 422, "unknown_event"},
		{"events not a list", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "https://example.com", "events": "message.failed"}, 422, "invalid_type"},
		{"unknown field", "POST", "/api/v1/webhooks", b.admin, map[string]any{"url": "https://example.com", "events": good, "secret": "mine"}, 400, "unknown_field"},
		{"patch bad url", "PATCH", "/api/v1/webhooks/" + id, b.admin, map[string]any{"url": "javascript:alert(1)"}, 422, "invalid_url"},
		{"patch unknown event", "PATCH", "/api/v1/webhooks/" + id, b.admin, map[string]any{"events": []string{"nope"}}, 422, "unknown_event"},
		{"unknown id", "GET", "/api/v1/webhooks/whk_01jgz0000000000000000000000", b.admin, nil, 404, "not_found"},
		{"another account's id", "GET", "/api/v1/webhooks/" + id, otherKey, nil, 404, "not_found"},
		{"another account's patch", "PATCH", "/api/v1/webhooks/" + id, otherKey, map[string]any{"enabled": false}, 404, "not_found"},
		{"another account's delete", "DELETE", "/api/v1/webhooks/" + id, otherKey, nil, 404, "not_found"},
		{"another account's rotate", "POST", "/api/v1/webhooks/" + id + "/rotate-secret", otherKey, nil, 404, "not_found"},
		{"another account's log", "GET", "/api/v1/webhooks/" + id + "/deliveries", otherKey, nil, 404, "not_found"},
		{"unknown delivery", "POST", "/api/v1/webhooks/" + id + "/deliveries/whd_01jgz0000000000000000000000/redeliver", b.admin, nil, 404, "not_found"},
		{"bad status filter", "GET", "/api/v1/webhooks/" + id + "/deliveries?status=lost", b.admin, nil, 422, "invalid_status"},
		{"bad cursor", "GET", "/api/v1/webhooks/" + id + "/deliveries?cursor=xyz", b.admin, nil, 422, "invalid_cursor"},
		{"viewer cannot create", "POST", "/api/v1/webhooks", viewerKey, map[string]any{"url": "https://example.com", "events": good}, 403, "forbidden"},
		{"editor cannot create", "POST", "/api/v1/webhooks", editorKey, map[string]any{"url": "https://example.com", "events": good}, 403, "forbidden"},
		{"editor cannot rotate", "POST", "/api/v1/webhooks/" + id + "/rotate-secret", editorKey, nil, 403, "forbidden"},
	}
	for _, tc := range cases {
		res := b.do(tc.method, tc.path, tc.key, tc.body)
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		require.Equal(t, tc.code, res.errorCode(t), tc.name)
	}
	list := b.do("GET", "/api/v1/webhooks", b.admin, nil).json(t)
	require.Len(t, list["data"], 1, "no bad request wrote anything")
	require.Equal(t, true, list["data"].([]any)[0].(map[string]any)["enabled"])
}

// TestWebhookDeliveryLogAndRedeliver runs a delivery end to end: an event,
// a receiver that refuses twice, the log through the API, a redelivery.
func TestWebhookDeliveryLogAndRedeliver(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		hooks := b.srv.Webhooks
		workers := river.NewWorkers()
		hooks.AddWorkers(workers)
		require.NoError(t, jobs.Migrate(ctx, d, log))
		q, err := jobs.New(d, log, workers, jobs.Config{Queues: map[string]int{webhook.Queue: 2}, FetchPollInterval: 20 * time.Millisecond, Test: true})
		require.NoError(t, err)
		hooks.SetQueue(q)
		require.NoError(t, q.Start(ctx))
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, q.Stop(stopCtx))
		})

		var (
			mu     sync.Mutex
			bodies []string
		)
		var secret string
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			bodies = append(bodies, string(raw))
			ts, sig, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Herald-Signature"), "t="), ",v1=")
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(ts + "." + string(raw)))
			if hex.EncodeToString(m.Sum(nil)) != sig {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if len(bodies) <= 2 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rcv.Close)

		res := b.do("POST", "/api/v1/webhooks", b.admin, map[string]any{"url": rcv.URL, "events": []string{"usage.threshold"}})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		id := res.json(t)["id"].(string)
		mu.Lock()
		secret = res.json(t)["secret"].(string)
		mu.Unlock()

		require.NoError(t, hooks.Emit(ctx, nil, b.acct, webhook.UsageThreshold, webhook.UsageThresholdData{Mark: 50, Month: "2026-03", Used: 50, Limit: 100}))
		var del map[string]any
		require.Eventually(t, func() bool {
			page := b.do("GET", "/api/v1/webhooks/"+id+"/deliveries", b.admin, nil).json(t)
			data := page["data"].([]any)
			if len(data) != 1 {
				return false
			}
			del = data[0].(map[string]any)
			return del["status"] == "succeeded"
		}, 20*time.Second, 20*time.Millisecond)
		attempts := del["attempts"].([]any)
		require.Len(t, attempts, 3)
		for i, want := range []float64{500, 500, 200} {
			require.Equal(t, want, attempts[i].(map[string]any)["status_code"])
		}
		require.Equal(t, "usage.threshold", del["event"])

		res = b.do("POST", "/api/v1/webhooks/"+id+"/deliveries/"+del["id"].(string)+"/redeliver", b.admin, nil)
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(bodies) == 4
		}, 20*time.Second, 20*time.Millisecond)
		mu.Lock()
		require.Equal(t, bodies[0], bodies[3], "a redelivery is the same delivery")
		mu.Unlock()
	})
}
