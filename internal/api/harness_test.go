package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/secret"
	"github.com/heraldsms/herald/internal/webhook"
)

// testBundle is a running API on a fresh database, with an operator key and
// one account's admin key.
type testBundle struct {
	t        testing.TB
	srv      *Server
	http     *httptest.Server
	accounts *account.Store
	operator string
	acct     string
	admin    string
	sender   *fakeTestSender // records "Send Test" messages
	db       *db.DB
	// automations runs no jobs until startJobs (automations_test.go).
	automations *automation.Service
}

func setup(t testing.TB, d *db.DB) *testBundle {
	t.Helper()
	c := clock.System{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	box, err := secret.New("api test key")
	require.NoError(t, err)
	accounts := account.NewStore(d, c, account.WithSecrets(box))
	contacts := contact.NewService(d, c, accounts)
	source := &message.TemplateSource{}
	messages := message.NewService(d, c, log, accounts, contacts, source)
	messages.SetCarrierActions(contacts)
	sender := &fakeTestSender{}
	templates := msgtemplate.NewService(d, c, accounts, sender, log)
	source.Templates = templates
	automations := automation.NewService(d, c, log, accounts, contacts, templates, messages)
	srv := New(Deps{Automations: automations, DB: d, Accounts: accounts, Contacts: contacts, Messages: messages, Clock: c,
		Inbound:   inbound.NewService(d, c, log, accounts, contacts),
		Webhooks:  webhook.NewService(d, c, log, box, webhook.Config{FirstRetry: 20 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond}),
		Templates: templates, PublicURL: "http://herald.test", Logger: log,
		Metrics: metrics.NewService(d, c, log)})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ctx := context.Background()
	_, op, err := accounts.CreateOperatorKey(ctx, "test operator")
	require.NoError(t, err)
	a, key, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme"})
	require.NoError(t, err)
	return &testBundle{t: t, srv: srv, http: hs, accounts: accounts, operator: op, acct: a.ID, admin: key, sender: sender,
		db: d, automations: automations}
}

func setupSQLite(t testing.TB) *testBundle { return setup(t, dbtest.New(t, db.SQLite)) }

// newAccount makes a second tenant and returns its admin key.
func (b *testBundle) newAccount(name string) (string, string) {
	a, key, err := b.accounts.CreateAccount(context.Background(), account.NewAccount{Name: name})
	require.NoError(b.t, err)
	return a.ID, key
}

func (b *testBundle) keyWithRole(role account.Role) string {
	_, key, err := b.accounts.CreateKey(context.Background(), b.acct, role, string(role))
	require.NoError(b.t, err)
	return key
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// errorCode returns the code of an error envelope, failing if the body is
// not one.
func (r response) errorCode(t testing.TB) string {
	t.Helper()
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &env), "body: %s", r.body)
	require.NotEmpty(t, env.Error.Code, "body: %s", r.body)
	require.NotEmpty(t, env.Error.Message, "body: %s", r.body)
	return env.Error.Code
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (b *testBundle) do(method, path, key string, body any, header ...string) response {
	b.t.Helper()
	var rd io.Reader
	contentType := ""
	switch v := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(v), "application/json"
	case []byte:
		rd, contentType = bytes.NewReader(v), "application/json"
	default:
		raw, err := json.Marshal(v)
		require.NoError(b.t, err)
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, b.http.URL+path, rd)
	require.NoError(b.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return response{status: res.StatusCode, header: res.Header, body: raw}
}
