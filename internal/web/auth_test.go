package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/web"
)

func TestSignInAndOut(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.browser()

		// A page needs a session: the visitor is sent to sign in, and back.
		p := b.get("/audience/contacts?q=ava")
		require.Equal(t, "/signin", p.url.Path)
		require.Equal(t, "/audience/contacts?q=ava", p.url.Query().Get("next"))
		require.Equal(t, "Sign in to Herald", strings.TrimSpace(p.doc.Find("h1").Text()))

		// A wrong password is refused without saying which part was wrong.
		p = b.post("/signin", url.Values{"email": {s.users[account.RoleEditor]}, "password": {"wrong password!"}})
		require.Equal(t, http.StatusUnauthorized, p.status)
		require.Contains(t, p.text(), "That email and password do not match")
		p = b.post("/signin", url.Values{"email": {"nobody@acme.test"}, "password": {password}})
		require.Equal(t, http.StatusUnauthorized, p.status)
		require.Contains(t, p.text(), "That email and password do not match")

		// The right one opens a session with a safe cookie and lands where
		// the visitor was going.
		b.get("/signin?next=" + url.QueryEscape("/audience/contacts?q=ava"))
		p = b.post("/signin", url.Values{"email": {s.users[account.RoleEditor]}, "password": {password},
			"next": {"/audience/contacts?q=ava"}})
		require.Equal(t, "/audience/contacts", p.url.Path, p.text())
		require.Contains(t, p.text(), s.users[account.RoleEditor])
		cookie := signInCookie(t, s, account.RoleEditor)
		require.True(t, cookie.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
		require.Equal(t, "/", cookie.Path)

		// Signing out ends the session on the server, not only the cookie.
		signedIn := s.browser()
		signedIn.c.Jar.SetCookies(mustURL(t, s.url), []*http.Cookie{cookie})
		require.Equal(t, "/audience/contacts", signedIn.get("/audience/contacts").url.Path)
		p = signedIn.post("/signout", nil)
		require.Equal(t, "/signin", p.url.Path)
		replay := s.browser()
		replay.c.Jar.SetCookies(mustURL(t, s.url), []*http.Cookie{cookie})
		require.Equal(t, "/signin", replay.get("/audience/contacts").url.Path)
	})
}

func TestSignInStaysOnSite(t *testing.T) {
	s := newSite(t, db.SQLite)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		b := s.browser()
		b.get("/signin")
		p := b.post("/signin", url.Values{"email": {s.users[account.RoleViewer]}, "password": {password}, "next": {next}})
		require.Equal(t, mustURL(t, s.url).Host, p.url.Host, next)
		require.Equal(t, "/dashboards/sms", p.url.Path, next)
	}
}

func TestFormsNeedTheirCSRFToken(t *testing.T) {
	s := newSite(t, db.SQLite)
	b := s.as(account.RoleAdmin)

	// Sign-out without the token is refused, and the session lives on.
	p := b.postWithoutToken("/signout", nil)
	require.Equal(t, http.StatusForbidden, p.status)
	require.Contains(t, p.text(), "reload the page and try again")
	p = b.postWithoutToken("/signout", url.Values{"csrf_token": {"forged"}})
	require.Equal(t, http.StatusForbidden, p.status)
	require.Equal(t, http.StatusOK, b.get("/dashboards/sms").status)

	// A token from another session does not work either.
	other := s.as(account.RoleAdmin)
	other.get("/dashboards/sms")
	p = b.postWithoutToken("/signout", url.Values{"csrf_token": {other.csrf}})
	require.Equal(t, http.StatusForbidden, p.status)

	// Sign-in itself needs the token its form was served with (login CSRF).
	fresh := s.browser()
	p = fresh.postWithoutToken("/signin", url.Values{"email": {s.users[account.RoleAdmin]}, "password": {password}})
	require.Equal(t, http.StatusForbidden, p.status)

	// Every write route of the admin web refuses a request without it.
	for _, r := range writeRoutes(t, s) {
		p := b.do(r.Method, r.Path, strings.NewReader(""), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusForbidden, p.status, "%s %s", r.Method, r.Path)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t, db.SQLite)
	p := s.browser().get("/signin")
	require.Contains(t, p.header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Equal(t, "DENY", p.header.Get("X-Frame-Options"))
	require.Equal(t, "no-store", p.header.Get("Cache-Control"))
	js := s.browser().get("/static/htmx-2.0.11.min.js")
	require.Equal(t, http.StatusOK, js.status)
	require.Contains(t, js.header.Get("Content-Type"), "javascript")
}

func TestUnknownPage(t *testing.T) {
	s := newSite(t, db.SQLite)
	p := s.as(account.RoleViewer).get("/no/such/page")
	require.Equal(t, http.StatusNotFound, p.status)
	require.Contains(t, p.text(), "Not found")
	// The API keeps its own JSON answers.
	api := s.browser().get("/api/v1/nope")
	require.Equal(t, http.StatusNotFound, api.status)
	require.Contains(t, api.body, "route_not_found")
}

// sessionCookie signs in without following the redirect, to read the
// Set-Cookie header the server sent.
func signInCookie(t *testing.T, s *site, role account.Role) *http.Cookie {
	t.Helper()
	b := s.browser()
	b.get("/signin")
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { b.c.CheckRedirect = nil }()
	form := url.Values{"email": {s.users[role]}, "password": {password}, "csrf_token": {b.csrf}}
	res, err := b.c.PostForm(s.url+"/signin", form)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	for _, c := range res.Cookies() {
		if c.Name == "herald_session" {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// writeRoutes is every route of the admin web that changes something, with
// its path parameters filled by a placeholder id.
func writeRoutes(t *testing.T, s *site) []web.Route {
	t.Helper()
	var out []web.Route
	for _, r := range s.app.Web.Routes() {
		if r.Method == http.MethodGet || r.Access == "public" {
			continue
		}
		r.Path = pathParam.ReplaceAllString(r.Path, "x_1")
		out = append(out, r)
	}
	require.NotEmpty(t, out)
	return out
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// TestViewerCannotChangeAnything tries every write route as a viewer, with
// a valid CSRF token: each one is refused before it does anything.
func TestViewerCannotChangeAnything(t *testing.T) {
	s := newSite(t, db.SQLite)
	b := s.as(account.RoleViewer)
	b.get("/dashboards/sms")
	for _, r := range writeRoutes(t, s) {
		p := b.htmx(r.Method, r.Path, url.Values{})
		require.Equal(t, http.StatusForbidden, p.status, "%s %s", r.Method, r.Path)
	}
	// Operator pages are the operator's alone, and the operator has no
	// account pages.
	require.Equal(t, http.StatusForbidden, s.as(account.RoleAdmin).get("/operator").status)
	require.Equal(t, http.StatusForbidden, s.as(account.RoleOperator).get("/audience/contacts").status)
}

func TestOversizeFormIsRefused(t *testing.T) {
	s := newSite(t, db.SQLite)
	b := s.as(account.RoleAdmin)
	b.get("/dashboards/sms")
	p := b.post("/signout", url.Values{"padding": {strings.Repeat("x", 2<<20)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, p.status)
	require.Contains(t, p.text(), "larger than 1 MiB")
	require.Equal(t, http.StatusOK, b.get("/dashboards/sms").status, "the session is still there")
}
