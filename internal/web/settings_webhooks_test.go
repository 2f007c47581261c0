package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/webhook"
)

// settingsReceiver is an account's webhook receiver: it keeps what it is
// sent and answers with a status the test sets.
type settingsReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []settingsReceived
}

type settingsReceived struct {
	signature string
	body      []byte
}

func newSettingsReceiver(t *testing.T, status int) *settingsReceiver {
	rc := &settingsReceiver{status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.got = append(rc.got, settingsReceived{r.Header.Get(webhook.SignatureHeader), body})
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *settingsReceiver) received() []settingsReceived {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]settingsReceived(nil), rc.got...)
}

// settingsAttempts waits until the endpoint's newest delivery has had n
// attempts, and returns it.
func settingsAttempts(t *testing.T, s *site, endpointID string, n int) webhook.Delivery {
	t.Helper()
	var d webhook.Delivery
	require.Eventually(t, func() bool {
		page, err := s.app.Webhooks.Deliveries(context.Background(), s.acct, endpointID, webhook.DeliveryFilter{})
		require.NoError(t, err)
		if len(page.Data) == 0 {
			return false
		}
		d = page.Data[0]
		return len(d.Attempts) >= n
	}, 20*time.Second, 20*time.Millisecond)
	return d
}

func TestSettingsWebhooks(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()
		rc := newSettingsReceiver(t, http.StatusInternalServerError)

		p := b.get("/settings/webhooks")
		require.Equal(t, 1, p.doc.Find("#no-webhooks").Length())
		require.Equal(t, len(webhook.Events), p.doc.Find(`input[name="events"]`).Length())

		// Refused input comes back with the message beside its field, the
		// input kept, and nothing made.
		p = b.post("/settings/webhooks", url.Values{"url": {"ftp://acme.test/hook"}, "events": {webhook.ContactOptedOut}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "url", "url must start with http:// or https://")
		require.Equal(t, "ftp://acme.test/hook", p.doc.Find("#url").AttrOr("value", ""))
		_, checked := p.doc.Find(`input[value="` + webhook.ContactOptedOut + `"]`).Attr("checked")
		require.True(t, checked, "the ticked events stay ticked")
		p = b.post("/settings/webhooks", url.Values{"url": {rc.URL}, "description": {"CRM"}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "events", "events must name at least one event")
		list, err := s.app.Webhooks.List(ctx, s.acct)
		require.NoError(t, err)
		require.Empty(t, list)

		// A new webhook's page shows its secret this once.
		p = b.post("/settings/webhooks", url.Values{"url": {rc.URL}, "description": {settingsXSS},
			"events": {webhook.ContactOptedOut, webhook.MessageFailed}})
		require.Equal(t, http.StatusCreated, p.status, p.text())
		secret := p.doc.Find("#new-secret").AttrOr("value", "")
		require.True(t, strings.HasPrefix(secret, "whsec_"), secret)
		require.Contains(t, p.text(), "it will not be shown again")
		settingsEscaped(t, p)
		list, err = s.app.Webhooks.List(ctx, s.acct)
		require.NoError(t, err)
		require.Len(t, list, 1)
		hook := list[0]
		require.Equal(t, []string{webhook.ContactOptedOut, webhook.MessageFailed}, hook.Events)
		require.True(t, hook.Enabled)
		for _, path := range []string{"/settings/webhooks", "/settings/webhooks/" + hook.ID} {
			p = b.get(path)
			require.Equal(t, http.StatusOK, p.status)
			require.NotContains(t, p.body, secret, "%s shows the secret again", path)
			require.Equal(t, 0, p.doc.Find("#new-secret").Length())
			settingsEscaped(t, p)
		}

		// An event reaches the receiver signed with the secret shown, and
		// the log shows what the receiver answered.
		require.NoError(t, s.app.Webhooks.Emit(ctx, nil, s.acct, webhook.ContactOptedOut, map[string]any{"contact_id": "con_1"}))
		first := settingsAttempts(t, s, hook.ID, 1)
		got := rc.received()
		require.NotEmpty(t, got)
		require.NoError(t, webhook.Verify(secret, got[0].signature, got[0].body, 0, time.Now()))
		p = b.get("/settings/webhooks/" + hook.ID)
		row := p.doc.Find("#delivery-" + first.ID)
		require.Equal(t, 1, row.Length(), p.text())
		require.Contains(t, row.Text(), webhook.ContactOptedOut)
		require.Equal(t, "HTTP 500", row.Find(".status-code").Text())
		require.Contains(t, p.doc.Find("#deliveries .attempts").Text(), "HTTP 500")
		p = b.get("/settings/webhooks/" + hook.ID + "?status=succeeded")
		require.Equal(t, 1, p.doc.Find("#no-deliveries").Length(), "the filter hides a delivery that has not succeeded")

		// Redeliver sends it again; this time the receiver takes it.
		rc.mu.Lock()
		rc.status = http.StatusNoContent
		rc.mu.Unlock()
		p = b.get("/settings/webhooks/" + hook.ID)
		p = b.post("/settings/webhooks/"+hook.ID+"/deliveries/"+first.ID+"/redeliver", nil)
		require.Equal(t, "/settings/webhooks/"+hook.ID, p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "Delivery queued to be sent again.")
		again := settingsAttempts(t, s, hook.ID, 2)
		require.Equal(t, first.ID, again.ID)
		require.Eventually(t, func() bool {
			p = b.get("/settings/webhooks/" + hook.ID + "?status=succeeded")
			return p.doc.Find("#delivery-"+first.ID+" .status-code").Text() == "HTTP 204"
		}, 10*time.Second, 20*time.Millisecond)

		// Editing: refused input changes nothing; good input is saved.
		p = b.post("/settings/webhooks/"+hook.ID, url.Values{"url": {"http://user:pw@acme.test/"}, "events": {webhook.MessageFailed}, "enabled": {"on"}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "url", "must not carry a user name or password")
		require.Equal(t, "http://user:pw@acme.test/", p.doc.Find("#url").AttrOr("value", ""))
		p = b.post("/settings/webhooks/"+hook.ID, url.Values{"url": {rc.URL + "/v2"}, "description": {"CRM"}, "events": {webhook.MessageFailed}})
		require.Equal(t, "/settings/webhooks/"+hook.ID, p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "Webhook saved.")
		saved, err := s.app.Webhooks.Get(ctx, s.acct, hook.ID)
		require.NoError(t, err)
		require.Equal(t, rc.URL+"/v2", saved.URL)
		require.Equal(t, []string{webhook.MessageFailed}, saved.Events)
		require.False(t, saved.Enabled, "an unticked Enabled box disables it")

		// A new secret is shown once and is not the old one.
		p = b.post("/settings/webhooks/"+hook.ID+"/rotate-secret", nil)
		require.Equal(t, http.StatusOK, p.status)
		rotated := p.doc.Find("#new-secret").AttrOr("value", "")
		require.True(t, strings.HasPrefix(rotated, "whsec_"))
		require.Equal(t, "/settings/webhooks/"+hook.ID, p.doc.Find("[data-shown-once]").AttrOr("data-shown-once", ""),
			"a reload asks for the page, not for another secret")
		require.NotEqual(t, secret, rotated)
		require.NotContains(t, b.get("/settings/webhooks/"+hook.ID).body, rotated)

		p = b.post("/settings/webhooks/"+hook.ID+"/delete", nil)
		require.Equal(t, "/settings/webhooks", p.url.Path)
		require.Equal(t, 1, p.doc.Find("#no-webhooks").Length())
		_, err = s.app.Webhooks.Get(ctx, s.acct, hook.ID)
		require.Error(t, err)
	})
}

func TestSettingsWebhooksOfAnotherAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	other := settingsOther(t, s)
	url0 := "https://other.test/hook"
	theirs, err := s.app.Webhooks.Create(ctx, other, webhook.EndpointInput{URL: &url0, Events: &[]string{webhook.MessageFailed}})
	require.NoError(t, err)
	b := s.as(account.RoleAdmin)
	p := b.get("/settings/webhooks")
	require.NotContains(t, p.body, "other.test")
	require.Equal(t, http.StatusNotFound, b.get("/settings/webhooks/"+theirs.ID).status)
	b.get("/settings/webhooks")
	for _, path := range []string{"", "/rotate-secret", "/delete", "/deliveries/dlv_x/redeliver"} {
		form := url.Values{"url": {"https://evil.test/"}, "events": {webhook.MessageFailed}}
		require.Equal(t, http.StatusNotFound, b.post("/settings/webhooks/"+theirs.ID+path, form).status, path)
	}
	got, err := s.app.Webhooks.Get(ctx, other, theirs.ID)
	require.NoError(t, err)
	require.Equal(t, url0, got.URL)
}
