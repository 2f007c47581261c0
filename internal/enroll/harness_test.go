package enroll_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/enroll"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/secret"
)

// testBundle is the enrollment handler on a fresh database, with the real
// account, contact, message and inbound services behind it, and one
// account with one program.
type testBundle struct {
	t        *testing.T
	http     *httptest.Server
	clock    *clock.Fake
	accounts *account.Store
	contacts *contact.Service
	messages *message.Service
	inbound  *inbound.Service
	acct     account.Account
	program  account.Program
}

const senderNumber = "+18885550100"

func setup(t *testing.T, d *db.DB, limits ...enroll.Limits) *testBundle {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	box, err := secret.New("enroll test key")
	require.NoError(t, err)
	accounts := account.NewStore(d, c, account.WithSecrets(box))
	contacts := contact.NewService(d, c, accounts)
	messages := message.NewService(d, c, log, accounts, contacts, &message.TemplateSource{})
	svc := enroll.NewService(d, c, log, accounts, contacts, messages)
	in := inbound.NewService(d, c, log, accounts, contacts)
	in.Confirmer = svc
	l := enroll.DefaultLimits
	if len(limits) > 0 {
		l = limits[0]
	}
	hs := httptest.NewServer(enroll.NewHandler(svc, log, c, l))
	t.Cleanup(hs.Close)
	a, _, err := accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme Inc", BrandName: "Acme"})
	require.NoError(t, err)
	p, err := accounts.CreateProgram(ctx, a.ID, account.NewProgram{Name: "Acme Rewards"})
	require.NoError(t, err)
	return &testBundle{t: t, http: hs, clock: c, accounts: accounts, contacts: contacts, messages: messages,
		inbound: in, acct: a, program: p}
}

// enableSMS gives the account a sender number and turns SMS on, as the
// operator would; the double opt-in text needs both.
func (b *testBundle) enableSMS() {
	b.t.Helper()
	on := true
	nums := []account.NumberInput{{Phone: senderNumber, Kind: account.NumberBoth, MPS: 1}}
	_, err := b.accounts.Configure(context.Background(), b.acct.ID, account.Setup{SMSEnabled: &on, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "token"}})
	require.NoError(b.t, err)
}

func (b *testBundle) settings(e account.EnrollSettings) {
	b.t.Helper()
	_, err := b.accounts.SetEnrollSettings(context.Background(), b.acct.ID, e)
	require.NoError(b.t, err)
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), "body: %s", r.body)
	return m
}

// errorCode returns the code of an error envelope.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	env := r.json(t)["error"].(map[string]any)
	require.NotEmpty(t, env["message"], "body: %s", r.body)
	return env["code"].(string)
}

func (b *testBundle) request(req *http.Request) response {
	b.t.Helper()
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *testBundle) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.http.URL+path, nil)
	require.NoError(b.t, err)
	return b.request(req)
}

// postForm submits the hosted page's form, as a browser without scripts
// does; header pairs are added to the request.
func (b *testBundle) postForm(path string, form url.Values, header ...string) response {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.http.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.request(req)
}

// postJSON submits as an integrator's script would.
func (b *testBundle) postJSON(path string, body any) response {
	b.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(b.t, err)
	req, err := http.NewRequest("POST", b.http.URL+path, strings.NewReader(string(raw)))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	return b.request(req)
}

func (b *testBundle) page() string { return "/enroll/" + b.program.ID }

// contactByPhone returns the account's contact with a number, failing if
// there is none.
func (b *testBundle) contactByPhone(e164 string) contact.Contact {
	b.t.Helper()
	c, err := b.contacts.FindByPhone(context.Background(), b.acct.ID, e164)
	require.NoError(b.t, err)
	return c
}

func (b *testBundle) consents(contactID string) []consent.Record {
	b.t.Helper()
	records, err := b.contacts.Consents(context.Background(), b.acct.ID, contactID)
	require.NoError(b.t, err)
	return records
}

func (b *testBundle) contactCount() int {
	b.t.Helper()
	page, err := b.contacts.List(context.Background(), b.acct.ID, contact.Filter{Limit: 100})
	require.NoError(b.t, err)
	return len(page.Data)
}

// reply delivers a text from a handset to the account's number.
func (b *testBundle) reply(from, body string) inbound.Message {
	b.t.Helper()
	a, err := b.accounts.Get(context.Background(), b.acct.ID)
	require.NoError(b.t, err)
	m, err := b.inbound.Handle(context.Background(), a, inbound.Reply{CarrierID: id.New("SM"),
		From: from, To: senderNumber, Body: body})
	require.NoError(b.t, err)
	return m
}

func evidenceOf(t *testing.T, r consent.Record) map[string]any {
	t.Helper()
	var ev map[string]any
	require.NoError(t, json.Unmarshal(r.Evidence, &ev))
	return ev
}
