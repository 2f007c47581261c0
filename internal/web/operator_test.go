package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/provider"
)

// TestOperatorAccounts: the operator lists accounts with this month's
// usage, creates one (its key shown once), and gives it a first admin.
func TestOperatorAccounts(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		op := s.as(account.RoleOperator)

		p := op.get("/operator")
		require.Equal(t, http.StatusOK, p.status)
		row := p.doc.Find(`#accounts tr[data-account-id="` + s.acct + `"]`)
		require.Contains(t, row.Text(), "Acme")
		require.Contains(t, row.Text(), "enabled")
		require.Equal(t, "0", row.Find("[data-used]").AttrOr("data-used", ""))
		require.Contains(t, row.Text(), "1000")

		// Bad input is refused by the field, and makes no account.
		op.get("/operator/accounts/new")
		p = op.post("/operator/accounts", url.Values{"name": {"Beta"}, "default_country": {"USA"}, "time_zone": {"America/Chicago"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Equal(t, "true", p.doc.Find("#default_country").AttrOr("aria-invalid", ""))
		require.Contains(t, p.doc.Find("#default_country-error").Text(), "ISO 3166")
		require.Equal(t, "Beta", p.doc.Find("#name").AttrOr("value", ""))
		p = op.post("/operator/accounts", url.Values{"name": {" "}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#name-error").Text(), "name is required")
		accts, err := s.app.Accounts.List(ctx)
		require.NoError(t, err)
		require.Len(t, accts, 1)

		p = op.post("/operator/accounts", url.Values{"name": {"Beta Shop"}, "brand_name": {"Beta"},
			"default_country": {"ca"}, "time_zone": {"America/Toronto"}})
		require.Equal(t, http.StatusCreated, p.status, p.text())
		key := p.doc.Find("#api-key-value").AttrOr("value", "")
		require.NotEmpty(t, key)
		accts, err = s.app.Accounts.List(ctx)
		require.NoError(t, err)
		require.Len(t, accts, 2)
		beta := accts[1]
		require.Equal(t, "Beta Shop", beta.Name)
		require.Equal(t, "CA", beta.DefaultCountry)
		require.False(t, beta.SMSEnabled)
		// The key is the account's: it authenticates to the REST API.
		req, err := http.NewRequest(http.MethodGet, s.url+"/api/v1/account", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		// Shown once: the account's page does not show it again.
		p = op.get("/operator/accounts/" + beta.ID)
		require.NotContains(t, p.body, key)
		require.Equal(t, 0, p.doc.Find("#api-key").Length())

		// A first admin, who can then sign in.
		p = op.post("/operator/accounts/"+beta.ID+"/users", url.Values{"user_email": {"boss@beta.test"}, "user_password": {"short"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#user_password-error").Text(), "12 characters")
		require.Equal(t, "boss@beta.test", p.doc.Find("#user_email").AttrOr("value", ""))
		p = op.post("/operator/accounts/"+beta.ID+"/users", url.Values{"user_email": {"Boss@Beta.test"}, "user_password": {password}})
		require.Contains(t, p.text(), "Added boss@beta.test as an admin")
		require.Contains(t, p.doc.Find("#users table").Text(), "boss@beta.test")
		p = op.post("/operator/accounts/"+beta.ID+"/users", url.Values{"user_email": {s.users[account.RoleAdmin]}, "user_password": {password}})
		require.Equal(t, http.StatusConflict, p.status)
		require.Contains(t, p.doc.Find("#user_email-error").Text(), "exists")
		boss := s.browser()
		p = boss.signIn("boss@beta.test", password)
		require.Equal(t, "/dashboards/sms", p.url.Path)

		require.Equal(t, http.StatusNotFound, op.get("/operator/accounts/acc_nope").status)
	})
}

// TestOperatorSMSSetup is the setup form: it changes what PUT
// /api/v1/operator/accounts/{id} changes, never shows the auth token, and
// refuses bad input without changing anything.
func TestOperatorSMSSetup(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		beta, _, err := s.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Beta"})
		require.NoError(t, err)
		op := s.as(account.RoleOperator)
		path := "/operator/accounts/" + beta.ID
		p := op.get(path)
		require.Equal(t, http.StatusOK, p.status)
		require.False(t, p.doc.Find("#sms_enabled").Is("[checked]"))
		require.Equal(t, "1000", p.doc.Find("#monthly_limit").AttrOr("value", ""))

		const sid, token = "AC0123456789abcdef0123456789abcdef", "beta-secret-token"
		good := url.Values{"sms_enabled": {"on"}, "monthly_limit": {"5000"}, "allowed_countries": {"US, ca"},
			"twilio_account_sid": {sid}, "twilio_auth_token": {token}, "twilio_base_url": {s.url + "/sim/"},
			"number_0_phone": {"+18885550111"}, "number_0_kind": {"transactional"}, "number_0_mps": {"10"},
			"number_1_phone": {"+18885550112"}, "number_1_kind": {"marketing"}, "number_1_mps": {""}}

		for _, tc := range []struct {
			name, field, want string
			change            url.Values
		}{
			{"limit not a number", "monthly_limit", "whole number", url.Values{"monthly_limit": {"lots"}}},
			{"limit negative", "monthly_limit", "between 0", url.Values{"monthly_limit": {"-1"}}},
			{"bad sid", "twilio_account_sid", "AC followed by 32", url.Values{"twilio_account_sid": {"AC123"}}},
			{"bad number", "number_0_phone", "+[country code][number]", url.Values{"number_0_phone": {"8885550111"}}},
			{"bad mps", "number_1_mps", "a number", url.Values{"number_1_mps": {"fast"}}},
			{"two of a kind", "numbers", "one transactional and one marketing", url.Values{"number_1_kind": {"transactional"}}},
			{"bad country", "allowed_countries", "ISO", url.Values{"allowed_countries": {"USA"}}},
			{"bad base url", "twilio_base_url", "http(s) URL", url.Values{"twilio_base_url": {"ftp://x"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range good {
					form[k] = v
				}
				for k, v := range tc.change {
					form[k] = v
				}
				p := op.post(path, form)
				require.Equal(t, http.StatusUnprocessableEntity, p.status, p.text())
				if tc.field == "numbers" {
					require.Equal(t, "numbers-error", p.doc.Find("#numbers").AttrOr("aria-describedby", ""))
				} else {
					require.Equal(t, "true", p.doc.Find("#"+tc.field).AttrOr("aria-invalid", ""), tc.field)
				}
				require.Contains(t, p.doc.Find("#"+tc.field+"-error").Text(), tc.want)
				// What was typed is kept, except the token.
				require.Equal(t, form.Get("twilio_account_sid"), p.doc.Find("#twilio_account_sid").AttrOr("value", ""))
				require.Equal(t, "", p.doc.Find("#twilio_auth_token").AttrOr("value", ""))
				require.NotContains(t, p.body, token)
				a, err := s.app.Accounts.Get(ctx, beta.ID)
				require.NoError(t, err)
				require.Equal(t, int64(1000), a.MonthlyLimit)
				require.Nil(t, a.Twilio)
			})
		}

		p = op.post(path, good)
		require.Equal(t, path, p.url.Path, p.text())
		require.Contains(t, p.text(), "Saved the SMS setup of Beta")
		require.NotContains(t, p.body, token)
		require.Equal(t, "", p.doc.Find("#twilio_auth_token").AttrOr("value", ""))
		a, err := s.app.Accounts.Get(ctx, beta.ID)
		require.NoError(t, err)
		require.True(t, a.SMSEnabled)
		require.Equal(t, int64(5000), a.MonthlyLimit)
		require.Equal(t, []string{"US", "CA"}, a.AllowedCountries)
		creds, err := s.app.Accounts.Credentials(ctx, beta.ID)
		require.NoError(t, err)
		require.Equal(t, sid, creds.AccountSID)
		require.Equal(t, token, creds.AuthToken)
		require.Equal(t, s.url+"/sim", creds.BaseURL)
		nums, err := s.app.Accounts.Numbers(ctx, beta.ID)
		require.NoError(t, err)
		require.Len(t, nums, 2)
		require.Equal(t, account.NumberMarketing, nums[0].Kind)
		require.Equal(t, 3.0, nums[0].MPS) // blank is the default: 3 a second for a toll-free number
		shown := []string{p.doc.Find("#number_0_phone").AttrOr("value", ""), p.doc.Find("#number_1_phone").AttrOr("value", "")}
		require.ElementsMatch(t, []string{"+18885550111", "+18885550112"}, shown)

		// Saving again without the token keeps it and the numbers' rows.
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Del("twilio_auth_token")
		form.Set("monthly_limit", "6000")
		form.Del("sms_enabled")
		p = op.post(path, form)
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Contains(t, p.text(), "Saved the SMS setup")
		a, err = s.app.Accounts.Get(ctx, beta.ID)
		require.NoError(t, err)
		require.False(t, a.SMSEnabled)
		require.Equal(t, int64(6000), a.MonthlyLimit)
		creds, err = s.app.Accounts.Credentials(ctx, beta.ID)
		require.NoError(t, err)
		require.Equal(t, token, creds.AuthToken)
		again, err := s.app.Accounts.Numbers(ctx, beta.ID)
		require.NoError(t, err)
		require.Equal(t, nums[0].ID, again[0].ID)

		// A new SID needs its token.
		form.Set("twilio_account_sid", strings.Replace(sid, "AC0", "AC1", 1))
		p = op.post(path, form)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#twilio_auth_token-error").Text(), "auth token")
		creds, err = s.app.Accounts.Credentials(ctx, beta.ID)
		require.NoError(t, err)
		require.Equal(t, sid, creds.AccountSID)
	})
}

// TestOperatorApprovalQueue shows each pending template with what changed
// since its approved version, and approves or rejects with a reason.
func TestOperatorApprovalQueue(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		tpl := newTemplate(t, s, "Tier", "transactional", "Congrats, you reached {{tier}} status!")
		_, err := s.app.Templates.Submit(ctx, s.acct, tpl.ID, "test")
		require.NoError(t, err)
		_, err = s.app.Templates.Decide(ctx, s.acct, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator"})
		require.NoError(t, err)
		body := "Congrats, you reached {{tier}} status in {{program_name}}!"
		_, err = s.app.Templates.Update(ctx, s.acct, tpl.ID, msgtemplate.Change{Body: &body}, "test")
		require.NoError(t, err)
		_, err = s.app.Templates.Submit(ctx, s.acct, tpl.ID, "test")
		require.NoError(t, err)

		op := s.as(account.RoleOperator)
		p := op.get("/operator/templates")
		item := p.doc.Find("#approval-" + tpl.ID)
		require.Equal(t, 1, item.Length())
		require.Contains(t, item.Text(), "Acme")
		require.Contains(t, item.Text(), "Changes since approved version 1")
		require.Equal(t, "status!", item.Find("[data-diff] del").Text())
		require.Equal(t, "status in {{program_name}}!", strings.TrimSpace(item.Find("[data-diff] ins").Text()))

		// A rejection needs a reason; without one nothing changes.
		p = op.post("/operator/templates/"+tpl.ID+"/reject", url.Values{"reason": {""}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#decision-"+tpl.ID+"-error").Text(), "say why")
		got, err := s.app.Templates.Get(ctx, s.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusPending, got.Status)

		p = op.post("/operator/templates/"+tpl.ID+"/reject", url.Values{"reason": {"Name the program's full title"}})
		require.Contains(t, p.text(), `Rejected "Tier" version 2`)
		require.Equal(t, 1, p.doc.Find("#queue-empty").Length())
		got, err = s.app.Templates.Get(ctx, s.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusRejected, got.Status)
		require.Equal(t, "Name the program's full title", got.Versions[1].Decisions[1].Reason)

		// The author sees the decision and its reason on the template.
		p = s.as(account.RoleEditor).get("/channels/sms/" + tpl.ID)
		require.Contains(t, p.doc.Find(`[data-decision="rejected"]`).Text(), "Name the program's full title")

		// Deciding on a template no longer waiting is a clash; an unknown
		// id is not found.
		p = op.post("/operator/templates/"+tpl.ID+"/approve", nil)
		require.Equal(t, http.StatusConflict, p.status)
		require.Contains(t, p.text(), "cannot approve")
		require.Equal(t, http.StatusNotFound, op.post("/operator/templates/tpl_nope/approve", nil).status)
	})
}

// When the carrier refuses an account's credentials, every page of the
// account says its messages wait, the operator's list and the account's
// setup mark it, and new credentials take the marks away. Another account
// shows nothing.
func TestCarrierRefusalIsShownToTheAccountAndTheOperator(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		other, _, err := s.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		_, err = s.app.Accounts.Configure(ctx, other.ID, account.Setup{
			Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "other-token"}})
		require.NoError(t, err)
		admin, viewer, op := s.as(account.RoleAdmin), s.as(account.RoleViewer), s.as(account.RoleOperator)
		require.Zero(t, admin.get("/dashboards/sms").doc.Find("#carrier-refused").Length(), "nothing refused yet")

		at := time.Date(2026, 11, 28, 14, 2, 0, 0, time.UTC)
		noted, err := s.app.Accounts.CarrierRefused(ctx, s.acct, at,
			provider.Credentials{AccountSID: simSID, AuthToken: "sim-token", BaseURL: s.url + "/sim"})
		require.NoError(t, err)
		require.True(t, noted)
		for _, path := range []string{"/dashboards/sms", "/outcomes/sms", "/settings"} {
			banner := admin.get(path).doc.Find("#carrier-refused")
			require.Equal(t, 1, banner.Length(), path)
			require.Contains(t, banner.Text(), "2026-11-28 14:02 UTC", path)
			require.Contains(t, banner.Text(), "Messages are waiting", path)
		}
		require.Equal(t, 1, viewer.get("/audience/contacts").doc.Find("#carrier-refused").Length(), "every role sees it")

		list := op.get("/operator")
		require.Contains(t, list.doc.Find(`#accounts tr[data-account-id="`+s.acct+`"] [data-refused]`).Text(), "2026-11-28 14:02 UTC")
		require.Zero(t, list.doc.Find(`#accounts tr[data-account-id="`+other.ID+`"] [data-refused]`).Length())
		require.Contains(t, op.get("/operator/accounts/"+s.acct).doc.Find("#carrier-refused").Text(), "current auth token")
		require.Zero(t, op.get("/operator/accounts/"+other.ID).doc.Find("#carrier-refused").Length())

		_, err = s.app.Accounts.Configure(ctx, s.acct, account.Setup{
			Twilio: &account.TwilioSetup{AccountSID: simSID, AuthToken: "sim-token", BaseURL: s.url + "/sim"}})
		require.NoError(t, err)
		require.Zero(t, admin.get("/dashboards/sms").doc.Find("#carrier-refused").Length(), "new credentials clear it")
		require.Zero(t, op.get("/operator").doc.Find("[data-refused]").Length())
	})
}
