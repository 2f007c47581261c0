package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
)

// A secret is shown once, in the answer to the form that made it; reloading
// that answer in a real browser asks for the page, not for another key.
func TestReloadingAShownSecretMakesNoOther(t *testing.T) {
	t.Parallel()
	c := newChrome(t)
	s := newSite(t, db.SQLite)
	c.signIn(s, s.users[account.RoleAdmin])
	keys := func() int {
		ks, err := s.app.Accounts.ListKeys(context.Background(), s.acct)
		require.NoError(t, err)
		return len(ks)
	}
	before := keys()

	c.visit(s.url + "/settings/api-keys")
	c.fill(`#name`, "CRM integration")
	c.click(`#create-key`)
	c.run("wait for the secret", chromedp.WaitVisible(chromedp.CSS(`#new-secret`)))
	require.Equal(t, before+1, keys())
	require.Equal(t, "/settings/api-keys", c.location().Path)

	c.run("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`#api-keys`)))
	require.Equal(t, before+1, keys(), "the reload made no second key")
	require.Contains(t, c.text(`#api-keys`), "CRM integration")
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#new-secret").length`))
	require.NoError(t, err)
	require.Zero(t, shown, "the secret is not shown again")
}

// The operator's new account answers with its first API key, once: a
// reload must not make a second account.
func TestReloadingANewAccountMakesNoOther(t *testing.T) {
	t.Parallel()
	c := newChrome(t)
	s := newSite(t, db.SQLite)
	c.signIn(s, s.users[account.RoleOperator])
	named := func(name string) int {
		all, err := s.app.Accounts.List(context.Background())
		require.NoError(t, err)
		n := 0
		for _, a := range all {
			if a.Name == name {
				n++
			}
		}
		return n
	}

	c.visit(s.url + "/operator/accounts/new")
	c.fill(`#name`, "Reload Co")
	c.click(`#create-account`)
	c.run("wait for the key", chromedp.WaitVisible(chromedp.CSS(`#api-key-value`)))
	require.Equal(t, 1, named("Reload Co"))

	c.run("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`#account-name`)))
	require.Equal(t, 1, named("Reload Co"), "the reload made no second account")
	require.Regexp(t, `^/operator/accounts/acc_`, c.location().Path)
	require.Equal(t, "Reload Co", c.text(`#account-name`))
}
