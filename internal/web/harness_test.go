package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/sim"
	"github.com/heraldsms/herald/internal/user"
)

// password is every test user's password.
const password = "test password 123"

// simSID is the carrier sub-account the test account uses on the
// built-in simulator.
const simSID = "AC00000000000000000000000000000001"

// site is a whole running Herald (API, admin web, simulator, workers) on a
// fresh database, with one account that can send and a user per role.
type site struct {
	t    testing.TB
	app  *app.App
	url  string
	acct string
	// users holds the email of each role's user; "operator" has none.
	users map[account.Role]string
}

func newSite(t testing.TB, engine db.Engine) *site {
	t.Helper()
	dbOpts := dbtest.Options(t, engine)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	cfg := config.Config{Addr: ln.Addr().String(), PublicURL: base, DataDir: dbOpts.DataDir, DatabaseURL: dbOpts.URL,
		SecretKey: "web test", Simulator: true, LogLevel: "error", LogFormat: "text"}
	a, err := app.Open(context.Background(), cfg, discardLogger(),
		app.WithSimulator(func(c *sim.Config) { c.CallbackDelay = 10 * time.Millisecond }),
		app.WithDelivery(func(c *delivery.Config) { c.Poll = 20 * time.Millisecond }),
		// Password hashing at its real cost takes seconds per hash under
		// the race detector; the cost is not what these tests are about.
		app.WithUsers(user.WithCost(user.Cost{MemoryKiB: 1024, Passes: 1})))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.ServeListener(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		<-served
		_ = a.Close()
	})
	s := &site{t: t, app: a, url: base, users: map[account.Role]string{}}
	acct, _, err := a.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Acme", BrandName: "Acme Rewards"})
	require.NoError(t, err)
	s.acct = acct.ID
	on, limit := true, int64(1000)
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth, MPS: 50}}
	_, err = a.Accounts.Configure(ctx, acct.ID, account.Setup{SMSEnabled: &on, MonthlyLimit: &limit, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "sim-token", BaseURL: base + "/sim"}})
	require.NoError(t, err)
	for _, role := range []account.Role{account.RoleViewer, account.RoleEditor, account.RoleAdmin, account.RoleOperator} {
		n := user.New{AccountID: acct.ID, Email: string(role) + "@acme.test", Role: role, Password: password}
		if role == account.RoleOperator {
			n.AccountID, n.Email = "", "operator@herald.test"
		}
		_, err := a.Users.Create(ctx, n)
		require.NoError(t, err)
		s.users[role] = n.Email
	}
	return s
}

// browser is one person's browser: a cookie jar, and the CSRF token of the
// last page it loaded, as a form on that page would send it.
type browser struct {
	t    testing.TB
	site *site
	c    *http.Client
	csrf string
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(s.t, err)
	return &browser{t: s.t, site: s, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// as signs a browser in as the user of a role.
func (s *site) as(role account.Role) *browser {
	b := s.browser()
	b.signIn(s.users[role], password)
	return b
}

func (b *browser) signIn(email, pw string) *page {
	b.t.Helper()
	b.get("/signin")
	p := b.post("/signin", url.Values{"email": {email}, "password": {pw}})
	return p
}

// page is a response, its body parsed as HTML.
type page struct {
	status int
	url    *url.URL
	header http.Header
	body   string
	doc    *goquery.Document
}

// text is the page's visible text, whitespace folded.
func (p *page) text() string { return strings.Join(strings.Fields(p.doc.Text()), " ") }

func (b *browser) get(path string) *page {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil, nil)
}

// post sends a form with the CSRF token of the last page loaded.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if f.Get("csrf_token") == "" {
		f.Set("csrf_token", b.csrf)
	}
	return b.do(http.MethodPost, path, strings.NewReader(f.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// postWithoutToken sends a form as a forged cross-site request would.
func (b *browser) postWithoutToken(path string, form url.Values) *page {
	b.t.Helper()
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// htmx sends a request as htmx does: the token in a header, HX-Request set.
func (b *browser) htmx(method, path string, form url.Values) *page {
	b.t.Helper()
	return b.do(method, path, strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true", "X-CSRF-Token": b.csrf})
}

func (b *browser) do(method, path string, body io.Reader, header map[string]string) *page {
	b.t.Helper()
	req, err := http.NewRequest(method, b.site.url+path, body)
	require.NoError(b.t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
	require.NoError(b.t, err)
	if tok, ok := doc.Find(`input[name="csrf_token"]`).First().Attr("value"); ok && tok != "" {
		b.csrf = tok
	}
	return &page{status: res.StatusCode, url: res.Request.URL, header: res.Header, body: string(raw), doc: doc}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
