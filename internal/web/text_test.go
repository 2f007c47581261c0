package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// A NUL character or bytes that are not UTF-8 fit no PostgreSQL text. In
// a page's address, its query or a form's field they are refused on every
// page and action, on both engines alike, before anything is looked up or
// written.
func TestTextNoEngineKeepsIsRefusedOnEveryPage(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		admin, op := s.as(account.RoleAdmin), s.as(account.RoleOperator)
		before := s.rowCounts(t)
		placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
		for _, r := range s.app.Web.Routes() {
			b := admin
			if r.Access == "operator" {
				b = op
			}
			b.get("/dashboards/sms") // a fresh CSRF token
			send := func(target string, form url.Values) *page {
				if r.Method == http.MethodGet {
					return b.get(target)
				}
				return b.post(target, form)
			}
			if placeholder.MatchString(r.Path) {
				for _, bad := range []string{"x%00y", "%FF"} {
					p := send(placeholder.ReplaceAllString(r.Path, bad), nil)
					require.Equal(t, http.StatusBadRequest, p.status, "%s %s: %s", r.Method, r.Path, p.text())
				}
			}
			path := placeholder.ReplaceAllString(r.Path, "x")
			p := send(path+"?q=a%00", nil)
			require.Equal(t, http.StatusUnprocessableEntity, p.status, "%s %s?q=: %s", r.Method, r.Path, p.text())
			require.Contains(t, p.text(), `the field "q" holds a NUL character`)
			if r.Method == http.MethodPost {
				p := b.post(path, url.Values{"name": {"Spring\x00 promo"}, "body": {"Hi \xff"}})
				require.Equal(t, http.StatusUnprocessableEntity, p.status, "%s %s: %s", r.Method, r.Path, p.text())
				require.Contains(t, p.text(), `the field "body" is not UTF-8 text`)
			}
		}
		require.Equal(t, before, s.rowCounts(t), "nothing was written")
		require.Equal(t, http.StatusOK, admin.get("/audience/contacts?q="+url.QueryEscape(`\u0000 Renée`)).status,
			"a backslash or a letter beyond ASCII is only text")
	})
}

// rowCounts counts the rows of the tables the admin web writes.
func (s *site) rowCounts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"accounts", "programs", "users", "api_keys", "sender_numbers", "contacts", "consents",
		"templates", "template_versions", "automations", "messages", "webhook_endpoints", "inbound_messages"} {
		var n int
		require.NoError(t, s.app.DB.Read().QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n), table)
		out[table] = n
	}
	return out
}
