package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/guard"
)

const settingsXSS = "<script>alert(1)</script>"

// settingsEscaped checks a page shows the text escaped and never raw.
func settingsEscaped(t *testing.T, p *page) {
	t.Helper()
	require.Contains(t, p.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.NotContains(t, p.body, "<script>alert(1)")
}

// settingsFieldError checks a form came back refused, with the message
// beside the input, tied to it for screen readers.
func settingsFieldError(t *testing.T, p *page, status int, input, message string) {
	t.Helper()
	require.Equal(t, status, p.status, p.text())
	field := p.doc.Find("#" + input)
	require.Equal(t, 1, field.Length(), "input #%s", input)
	if field.Is("input, select, textarea") {
		inv, _ := field.Attr("aria-invalid")
		require.Equal(t, "true", inv, "input #%s", input)
	}
	desc, _ := field.Attr("aria-describedby")
	require.Contains(t, strings.Fields(desc), input+"-error")
	require.Contains(t, p.doc.Find("#"+input+"-error").Text(), message)
}

// settingsOther makes a second account, for ids that must not be reached.
func settingsOther(t *testing.T, s *site) string {
	t.Helper()
	a, _, err := s.app.Accounts.CreateAccount(context.Background(), account.NewAccount{Name: "Other"})
	require.NoError(t, err)
	return a.ID
}

func TestSettingsAreForAdmins(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	pages := []string{"/settings", "/settings/numbers", "/settings/sending", "/settings/countries", "/settings/keywords",
		"/settings/brand", "/settings/enrollment", "/settings/webhooks", "/settings/api-keys", "/settings/users"}
	for _, role := range []account.Role{account.RoleViewer, account.RoleEditor, account.RoleOperator} {
		b := s.as(role)
		for _, path := range pages {
			require.Equal(t, http.StatusForbidden, b.get(path).status, "%s %s", role, path)
		}
	}
	b := s.as(account.RoleAdmin)
	for _, path := range pages {
		p := b.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		// Every settings page can reach every section, and says which it is.
		require.Equal(t, 9, p.doc.Find(".settings-tabs a").Length(), path)
		if path != "/settings" {
			require.Equal(t, path, p.doc.Find(`.settings-tabs a[aria-current="page"]`).AttrOr("href", ""), path)
		}
		// Every input has a label.
		p.doc.Find("input:not([type=hidden]), select, textarea").Each(func(_ int, in *goquery.Selection) {
			id := in.AttrOr("id", "")
			require.NotEmpty(t, id, "%s: an input without an id", path)
			require.Equal(t, 1, p.doc.Find(`label[for="`+id+`"]`).Length(), "%s: #%s has no label", path, id)
		})
	}
	require.Equal(t, "/settings/numbers", b.get("/settings").url.Path)
}

func TestSettingsNumbers(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	p := s.as(account.RoleAdmin).get("/settings/numbers")
	require.Equal(t, http.StatusOK, p.status)
	row := p.doc.Find("#numbers tbody tr")
	require.Equal(t, 1, row.Length())
	require.Equal(t, "+18885550100 Transactional and marketing 50", strings.Join(strings.Fields(row.Text()), " "))
	require.Contains(t, p.text(), "ask your operator")
	require.Equal(t, "1000", p.doc.Find("#monthly-limit").Text())
	// Nothing here changes numbers: there is no form but sign-out.
	require.Equal(t, 0, p.doc.Find("main form").Length())
}

func TestSettingsSendingRules(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()

		// The defaults show as they apply: 08:00 to 21:00, one a day.
		p := b.get("/settings/sending")
		require.Equal(t, "08:00", p.doc.Find("#window_start").AttrOr("value", ""))
		require.Equal(t, "21:00", p.doc.Find("#window_end").AttrOr("value", ""))
		require.Equal(t, "1", p.doc.Find("#cap_max").AttrOr("value", ""))
		require.Equal(t, "24", p.doc.Find("#cap_period_hours").AttrOr("value", ""))

		good := url.Values{"window_start": {"09:30"}, "window_end": {"20:00"}, "cap_max": {"1"}, "cap_period_hours": {"48"}}
		p = b.post("/settings/sending", good)
		require.Equal(t, "/settings/sending", p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "Sending rules saved.")
		require.Equal(t, "09:30", p.doc.Find("#window_start").AttrOr("value", ""))
		a, err := s.app.Accounts.Get(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, guard.Window{Start: 9*60 + 30, End: 20 * 60}, a.SendingWindow)
		require.Equal(t, guard.Cap{Max: 1, Period: 48 * time.Hour}, a.FrequencyCap)

		cases := []struct {
			name, field, value, input, message string
		}{
			{"opens before 08:00", "window_start", "07:00", "window_start", "the window opens from 08:00 to 20:59"},
			{"closes after 21:00", "window_end", "22:00", "window_end", "the window closes from 08:01 to 21:00"},
			{"closes before it opens", "window_end", "09:00", "window_end", "the window must close after it opens"},
			{"not a time", "window_start", "nine", "window_start", "start must be a time of day"},
			{"more than the default", "cap_max", "2", "cap_max", "an account may only tighten the cap"},
			{"above the legal maximum", "cap_max", "4", "cap_max", "max is from 1 to 3 messages"},
			{"not a number", "cap_max", "lots", "cap_max", "enter a whole number of messages"},
			{"period under a day", "cap_period_hours", "12", "cap_period_hours", "period_hours is a whole number from 24 to 720"},
			{"period over 30 days", "cap_period_hours", "721", "cap_period_hours", "period_hours is a whole number from 24 to 720"},
		}
		for _, tc := range cases {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set("window_start", "10:00")
			form.Set(tc.field, tc.value)
			p := b.post("/settings/sending", form)
			settingsFieldError(t, p, http.StatusUnprocessableEntity, tc.input, tc.message)
			require.Equal(t, tc.value, p.doc.Find("#"+tc.field).AttrOr("value", ""), "%s: the input is kept", tc.name)
			got, err := s.app.Accounts.Get(ctx, s.acct)
			require.NoError(t, err)
			require.Equal(t, a.SendingWindow, got.SendingWindow, "%s changed the window", tc.name)
			require.Equal(t, a.FrequencyCap, got.FrequencyCap, "%s changed the cap", tc.name)
		}
	})
}

func TestSettingsCountries(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()

		// A new account sends to the US and Canada.
		p := b.get("/settings/countries")
		require.Equal(t, "US, CA", p.doc.Find("#allowed_countries").AttrOr("value", ""))
		require.Equal(t, 0, p.doc.Find("#no-countries").Length())
		p = b.post("/settings/countries", url.Values{"allowed_countries": {""}})
		require.Equal(t, 1, p.doc.Find("#no-countries").Length(), "an empty list warns that nothing can be sent")
		p = b.post("/settings/countries", url.Values{"allowed_countries": {" us, ca\nGB "}})
		require.Contains(t, p.doc.Find(".notice").Text(), "Allowed countries saved.")
		require.Equal(t, "US, CA, GB", p.doc.Find("#allowed_countries").AttrOr("value", ""))
		require.Equal(t, 0, p.doc.Find("#no-countries").Length())
		a, err := s.app.Accounts.Get(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, []string{"US", "CA", "GB"}, a.AllowedCountries)

		for _, bad := range []string{"USA", "U1", "XX", settingsXSS} {
			p = b.post("/settings/countries", url.Values{"allowed_countries": {"US, " + bad}})
			settingsFieldError(t, p, http.StatusUnprocessableEntity, "allowed_countries", "is not an ISO 3166 alpha-2 code")
			require.Equal(t, "US, "+bad, p.doc.Find("#allowed_countries").AttrOr("value", ""))
		}
		settingsEscaped(t, p)
		a, err = s.app.Accounts.Get(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, []string{"US", "CA", "GB"}, a.AllowedCountries)
		require.True(t, a.SMSEnabled, "changing countries leaves the operator's set-up alone")
	})
}

func TestSettingsKeywordsAndBrand(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()

		// Empty boxes show the defaults they stand for, with the brand.
		p := b.get("/settings/keywords")
		require.Contains(t, p.doc.Find("#opt_out_text-hint").Text(), account.DefaultOptOut("Acme Rewards"))
		require.Empty(t, p.doc.Find("#opt_out_text").Text())

		p = b.post("/settings/keywords", url.Values{"opt_out_keywords": {"remove, no more"}, "opt_in_keywords": {"rewards"},
			"help_keywords": {"support\nassist"}, "opt_out_text": {"Acme: you are out. Reply START to come back."}, "opt_in_text": {""}})
		require.Equal(t, "/settings/keywords", p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "Saved.")
		require.Equal(t, "REMOVE, NO MORE", p.doc.Find("#opt_out_keywords").AttrOr("value", ""))
		rep, err := s.app.Accounts.Replies(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, []string{"REMOVE", "NO MORE"}, rep.OptOutKeywords)
		require.Equal(t, []string{"REWARDS"}, rep.OptInKeywords)
		require.Equal(t, []string{"SUPPORT", "ASSIST"}, rep.HelpKeywords)
		require.Equal(t, "Acme: you are out. Reply START to come back.", rep.OptOutText)
		require.Equal(t, "Acme Rewards", rep.BrandName, "the keywords form keeps the brand")

		cases := []struct {
			name  string
			form  url.Values
			input string
			msg   string
		}{
			{"opt-out text without a way back", url.Values{"opt_out_text": {"Bye."}}, "opt_out_text", "must say how to opt back in"},
			{"a keyword in two lists", url.Values{"opt_out_keywords": {"rewards"}, "opt_in_keywords": {"rewards"}}, "opt_in_keywords", "is both in"},
			{"a keyword too long", url.Values{"help_keywords": {strings.Repeat("x", 31)}}, "help_keywords", "must be 1-30 characters"},
			{"a reply too long", url.Values{"opt_in_text": {strings.Repeat("y", 321)}}, "opt_in_text", "at most 320 characters"},
		}
		for _, tc := range cases {
			p := b.post("/settings/keywords", tc.form)
			// A keyword conflict is reported on whichever list is checked
			// second; the message names both.
			if tc.input == "opt_in_keywords" && p.doc.Find("#opt_out_keywords-error").Length() == 1 {
				tc.input = "opt_out_keywords"
			}
			settingsFieldError(t, p, http.StatusUnprocessableEntity, tc.input, tc.msg)
			got, err := s.app.Accounts.Replies(ctx, s.acct)
			require.NoError(t, err)
			require.Equal(t, rep, got, "%s changed the replies", tc.name)
		}

		// The brand form changes the brand and help text, and keeps the
		// keywords; a brand is shown escaped.
		p = b.post("/settings/brand", url.Values{"brand_name": {settingsXSS}, "help_text": {"Help: reply STOP to opt out."}})
		require.Equal(t, "/settings/brand", p.url.Path)
		settingsEscaped(t, p)
		got, err := s.app.Accounts.Replies(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, settingsXSS, got.BrandName)
		require.Equal(t, "Help: reply STOP to opt out.", got.HelpText)
		require.Equal(t, rep.OptOutKeywords, got.OptOutKeywords)
		settingsEscaped(t, b.get("/settings/keywords"))

		p = b.post("/settings/brand", url.Values{"brand_name": {"Acme"}, "help_text": {"Call us."}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "help_text", "must say how to opt out")
		require.Equal(t, "Call us.", p.doc.Find("#help_text").Text())
		got, err = s.app.Accounts.Replies(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, settingsXSS, got.BrandName, "a refused form changes nothing")
	})
}

func TestSettingsEnrollment(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		b := s.as(account.RoleAdmin)
		ctx := context.Background()

		p := b.get("/settings/enrollment")
		require.Equal(t, account.DefaultFrequency, p.doc.Find("#message_frequency").AttrOr("placeholder", ""))
		p = b.post("/settings/enrollment", url.Values{"message_frequency": {"Up to 4 msgs/month."},
			"terms_url": {"https://acme.test/sms-terms"}, "double_opt_in": {"on"}})
		require.Equal(t, "/settings/enrollment", p.url.Path)
		_, checked := p.doc.Find("#double_opt_in").Attr("checked")
		require.True(t, checked)
		e, err := s.app.Accounts.EnrollSettings(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, account.EnrollSettings{MessageFrequency: "Up to 4 msgs/month.", TermsURL: "https://acme.test/sms-terms", DoubleOptIn: true}, e)

		// Leaving the box unticked turns double opt-in off.
		b.post("/settings/enrollment", url.Values{"message_frequency": {"Up to 4 msgs/month."}, "terms_url": {"https://acme.test/sms-terms"}})
		e, err = s.app.Accounts.EnrollSettings(ctx, s.acct)
		require.NoError(t, err)
		require.False(t, e.DoubleOptIn)

		p = b.post("/settings/enrollment", url.Values{"message_frequency": {"Weekly"}, "terms_url": {"javascript:alert(1)"}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "terms_url", "must be an http(s) link")
		require.Equal(t, "Weekly", p.doc.Find("#message_frequency").AttrOr("value", ""))
		p = b.post("/settings/enrollment", url.Values{"message_frequency": {strings.Repeat("m", 101)}})
		settingsFieldError(t, p, http.StatusUnprocessableEntity, "message_frequency", "at most 100 characters")
		got, err := s.app.Accounts.EnrollSettings(ctx, s.acct)
		require.NoError(t, err)
		require.Equal(t, e, got)
	})
}
