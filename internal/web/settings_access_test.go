package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/user"
)

func TestSettingsAPIKeys(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()
		before, err := s.app.Accounts.ListKeys(ctx, s.acct)
		require.NoError(t, err)

		p := b.get("/settings/api-keys")
		require.Equal(t, len(before), p.doc.Find("#api-keys tbody tr").Length(), "the account's first key is listed")

		p = b.post("/settings/api-keys", url.Values{"name": {"CRM"}, "role": {"owner"}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "role", "role must be one of")
		require.Equal(t, "CRM", p.doc.Find("#name").AttrOr("value", ""))
		p = b.post("/settings/api-keys", url.Values{"name": {"CRM"}, "role": {"operator"}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "role", "cannot be an operator key")
		after, err := s.app.Accounts.ListKeys(ctx, s.acct)
		require.NoError(t, err)
		require.Len(t, after, len(before), "a refused key is not made")

		// The key is shown once, and it works with the role chosen.
		p = b.post("/settings/api-keys", url.Values{"name": {settingsXSS}, "role": {"editor"}})
		require.Equal(t, http.StatusCreated, p.status, p.text())
		secret := p.doc.Find("#new-secret").AttrOr("value", "")
		require.True(t, strings.HasPrefix(secret, "hrld_"), secret)
		require.Equal(t, 1, p.doc.Find(`button[data-copy="new-secret"]`).Length(), "a copy button is offered")
		settingsEscaped(t, p)
		who, err := s.app.Accounts.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, account.RoleEditor, who.Role)
		require.Equal(t, s.acct, who.AccountID)
		p = b.get("/settings/api-keys")
		require.NotContains(t, p.body, secret)
		row := p.doc.Find("#key-" + who.KeyID)
		require.Equal(t, 1, row.Length())
		require.Contains(t, row.Text(), "editor")
		require.Contains(t, row.Text(), secret[:11], "the key's start is shown to tell keys apart")
		settingsEscaped(t, p)

		// Revoking needs a confirmation step on the page, then the key stops.
		require.Equal(t, 1, row.Find("details.confirm button#revoke-"+who.KeyID).Length())
		p = b.post("/settings/api-keys/"+who.KeyID+"/revoke", nil)
		require.Equal(t, "/settings/api-keys", p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "API key revoked.")
		require.Contains(t, p.doc.Find("#key-"+who.KeyID).Text(), "revoked")
		require.Equal(t, 0, p.doc.Find("#revoke-"+who.KeyID).Length())
		_, err = s.app.Accounts.Authenticate(ctx, secret)
		require.ErrorIs(t, err, account.ErrBadKey)

		// Another account's key is not there to revoke.
		other := settingsOther(t, s)
		theirs, theirSecret, err := s.app.Accounts.CreateKey(ctx, other, account.RoleAdmin, "theirs")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, b.post("/settings/api-keys/"+theirs.ID+"/revoke", nil).status)
		_, err = s.app.Accounts.Authenticate(ctx, theirSecret)
		require.NoError(t, err)
	})
}

func TestSettingsUsers(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()
		me, err := s.app.Users.ByEmail(ctx, s.users[account.RoleAdmin])
		require.NoError(t, err)

		p := b.get("/settings/users")
		require.Equal(t, 3, p.doc.Find("#users tbody tr").Length(), "viewer, editor and admin")
		// The admin's own row offers neither a role change nor deletion.
		mine := p.doc.Find("#user-" + me.ID)
		require.Contains(t, mine.Text(), "you")
		require.Equal(t, 0, mine.Find("form").Length())

		cases := []struct {
			name   string
			form   url.Values
			status int
			input  string
			msg    string
		}{
			{"bad email", url.Values{"email": {"not an email"}, "role": {"editor"}}, http.StatusUnprocessableEntity, "email", "enter an email address"},
			{"taken email", url.Values{"email": {s.users[account.RoleViewer]}, "role": {"editor"}}, http.StatusConflict, "email", "exists"},
			{"operator role", url.Values{"email": {"op@acme.test"}, "role": {"operator"}}, http.StatusUnprocessableEntity, "role", "the operator belongs to no account"},
			{"name too long", url.Values{"email": {"long@acme.test"}, "name": {strings.Repeat("n", 201)}, "role": {"viewer"}}, http.StatusUnprocessableEntity, "name", "longer than 200"},
		}
		for _, tc := range cases {
			p := b.post("/settings/users", tc.form)
			settingsFieldError(t, p, tc.status, tc.input, tc.msg)
			require.Equal(t, tc.form.Get("email"), p.doc.Find("#email").AttrOr("value", ""), tc.name)
		}
		list, err := s.app.Users.List(ctx, s.acct)
		require.NoError(t, err)
		require.Len(t, list, 3, "a refused user is not made")

		// A new user's first password is shown once and signs them in.
		p = b.post("/settings/users", url.Values{"email": {"Ann@Acme.test"}, "name": {settingsXSS}, "role": {"viewer"}})
		require.Equal(t, http.StatusCreated, p.status, p.text())
		pw := p.doc.Find("#new-secret").AttrOr("value", "")
		require.GreaterOrEqual(t, len(pw), user.MinPassword)
		require.Equal(t, "/settings/users", p.doc.Find("[data-shown-once]").AttrOr("data-shown-once", ""),
			"a reload asks for the page, not for another user")
		settingsEscaped(t, p)
		ann, err := s.app.Users.Authenticate(ctx, "ann@acme.test", pw)
		require.NoError(t, err)
		require.Equal(t, account.RoleViewer, ann.Role)
		require.Equal(t, s.acct, ann.AccountID)
		p = b.get("/settings/users")
		require.NotContains(t, p.body, pw)
		settingsEscaped(t, p)

		// Ann, signed in, gets the role the admin gives her on her next page.
		annBrowser := s.browser()
		annBrowser.signIn("ann@acme.test", pw)
		require.Equal(t, http.StatusForbidden, annBrowser.get("/settings/users").status)
		b.get("/settings/users")
		p = b.post("/settings/users/"+ann.ID+"/role", url.Values{"role": {"admin"}})
		require.Equal(t, "/settings/users", p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "ann@acme.test is now admin.")
		require.Equal(t, "admin", p.doc.Find("#role-"+ann.ID+" option[selected]").AttrOr("value", ""))
		require.Equal(t, http.StatusOK, annBrowser.get("/settings/users").status)

		// An admin can neither demote nor delete themselves.
		p = b.post("/settings/users/"+me.ID+"/role", url.Values{"role": {"viewer"}})
		require.Equal(t, http.StatusForbidden, p.status)
		require.Contains(t, p.text(), "you cannot change your own role")
		p = b.post("/settings/users/"+me.ID+"/delete", nil)
		require.Equal(t, http.StatusForbidden, p.status)
		require.Contains(t, p.text(), "you cannot delete yourself")
		again, err := s.app.Users.ByEmail(ctx, s.users[account.RoleAdmin])
		require.NoError(t, err)
		require.Equal(t, account.RoleAdmin, again.Role)

		// Another account's user is out of reach.
		other := settingsOther(t, s)
		theirs, err := s.app.Users.Create(ctx, user.New{AccountID: other, Email: "bob@other.test", Role: account.RoleViewer, Password: password})
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, b.post("/settings/users/"+theirs.ID+"/role", url.Values{"role": {"admin"}}).status)
		require.Equal(t, http.StatusNotFound, b.post("/settings/users/"+theirs.ID+"/delete", nil).status)
		bob, err := s.app.Users.ByEmail(ctx, "bob@other.test")
		require.NoError(t, err)
		require.Equal(t, account.RoleViewer, bob.Role)

		// Deleting Ann signs her out and keeps her out.
		b.get("/settings/users")
		p = b.post("/settings/users/"+ann.ID+"/delete", nil)
		require.Equal(t, "/settings/users", p.url.Path)
		require.Equal(t, 0, p.doc.Find("#user-"+ann.ID).Length())
		require.Equal(t, "/signin", annBrowser.get("/settings/users").url.Path)
		_, err = s.app.Users.Authenticate(ctx, "ann@acme.test", pw)
		require.ErrorIs(t, err, user.ErrBadCredentials)
	})
}
