package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/user"
)

// dqsXSS is a name an attacker would give a contact or a template.
const dqsXSS = "<script>alert(1)</script>"

// dqsTemplate creates a transactional template in an account and has the
// operator approve it, as the template pages and the operator would.
func dqsTemplate(t *testing.T, s *site, accountID, name, body string) string {
	t.Helper()
	ctx := context.Background()
	tpl, err := s.app.Templates.Create(ctx, accountID, msgtemplate.NewTemplate{Name: name, Kind: "transactional", Body: body}, "test")
	require.NoError(t, err)
	_, err = s.app.Templates.Submit(ctx, accountID, tpl.ID, "test")
	require.NoError(t, err)
	_, err = s.app.Templates.Decide(ctx, accountID, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator"})
	require.NoError(t, err)
	return tpl.ID
}

// dqsContact creates an opted-in contact.
func dqsContact(t *testing.T, s *site, accountID, phone, firstName string) string {
	t.Helper()
	pref := string(consent.OptedIn)
	c, _, err := s.app.Contacts.Upsert(context.Background(), accountID,
		contact.Input{Phone: &phone, FirstName: &firstName, SMSPreference: &pref},
		contact.Change{Source: consent.SourceAdmin, Actor: "test"})
	require.NoError(t, err)
	return c.ID
}

// dqsSend stores a message as the API's POST /messages would.
func dqsSend(t *testing.T, s *site, accountID, contactID, templateID string) *message.Message {
	t.Helper()
	m, err := s.app.Messages.Create(context.Background(), accountID, message.Request{ContactID: contactID, TemplateID: templateID})
	require.NoError(t, err)
	return m
}

// dqsWaitStatus waits until the carrier simulator has answered for a
// message.
func dqsWaitStatus(t *testing.T, s *site, accountID, messageID string, want message.Status) {
	t.Helper()
	require.Eventually(t, func() bool {
		m, err := s.app.Messages.Get(context.Background(), accountID, messageID)
		return err == nil && m.Status == want
	}, 15*time.Second, 20*time.Millisecond, "message %s never became %s", messageID, want)
}

// dqsEnableSMS connects an account to the simulator with its own
// sub-account and number, as the operator would.
func dqsEnableSMS(t *testing.T, s *site, accountID, sid, number string) {
	t.Helper()
	on := true
	nums := []account.NumberInput{{Phone: number, Kind: account.NumberBoth, MPS: 50}}
	_, err := s.app.Accounts.Configure(context.Background(), accountID, account.Setup{SMSEnabled: &on, Numbers: &nums,
		Twilio: &account.TwilioSetup{AccountSID: sid, AuthToken: "other-token", BaseURL: s.url + "/sim"}})
	require.NoError(t, err)
}

// dqsOtherAccount is a second account with an admin, to prove pages keep
// to their own account.
func dqsOtherAccount(t *testing.T, s *site) (accountID string, b *browser) {
	t.Helper()
	ctx := context.Background()
	a, _, err := s.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Globex", BrandName: "Globex"})
	require.NoError(t, err)
	email := "admin@globex.test"
	_, err = s.app.Users.Create(ctx, user.New{AccountID: a.ID, Email: email, Role: account.RoleAdmin, Password: password})
	require.NoError(t, err)
	b = s.browser()
	b.signIn(email, password)
	return a.ID, b
}

func TestDashboardShowsTheAccountsFigures(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		tpl := dqsTemplate(t, s, s.acct, dqsXSS, "Hi {{first_name}}, your reward is ready.")
		c := dqsContact(t, s, s.acct, "+17346263333", "Ava")
		sent := []*message.Message{dqsSend(t, s, s.acct, c, tpl), dqsSend(t, s, s.acct, c, tpl)}
		for _, m := range sent {
			dqsWaitStatus(t, s, s.acct, m.ID, message.Delivered)
		}
		_, err := s.app.Metrics.Fold(ctx)
		require.NoError(t, err)

		p := s.as(account.RoleViewer).get("/dashboards/sms")
		require.Equal(t, http.StatusOK, p.status, p.text())
		tile := func(id string) string { return strings.Join(strings.Fields(p.doc.Find("#"+id+" .value").Text()), " ") }
		require.Equal(t, "2", tile("tile-sent"))
		require.Equal(t, "2", tile("tile-delivered"))
		require.Equal(t, "100.0 %", tile("tile-delivery-rate"))
		require.Equal(t, "0", tile("tile-failed"))
		require.Equal(t, "0", tile("tile-skipped"))
		require.Equal(t, "0", tile("tile-opt-outs"))
		require.Equal(t, "2", tile("tile-segments"))

		// The by-template table names the template, escaped.
		row := p.doc.Find("#dash-by-template tbody tr").First()
		require.Equal(t, dqsXSS, strings.TrimSpace(row.Find("th").Text()))
		require.Contains(t, p.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.NotContains(t, p.body, "<script>alert(1)")
		require.Equal(t, 1, p.doc.Find("#dash-by-program tbody tr").Length())
		require.Contains(t, p.doc.Find("#dash-by-program tbody tr th").Text(), "No program")

		// Each chart has its figures as JSON for the script, and the same
		// figures as a table: the default range is the last 30 days.
		require.Equal(t, 3, p.doc.Find(".chart[data-chart]").Length())
		var chart struct {
			Labels []string `json:"labels"`
			Unit   string   `json:"unit"`
			Series []struct {
				Label  string     `json:"label"`
				Values []*float64 `json:"values"`
			} `json:"series"`
		}
		raw, _ := p.doc.Find("#chart-messages").Attr("data-chart")
		require.NoError(t, json.Unmarshal([]byte(raw), &chart))
		require.Len(t, chart.Labels, 30)
		require.Equal(t, "Sent", chart.Series[0].Label)
		total := 0.0
		for _, v := range chart.Series[0].Values {
			total += *v
		}
		require.Equal(t, 2.0, total)
		require.Equal(t, 30, p.doc.Find("#chart-messages-table tbody tr").Length())
		// The last day is today in the account's time zone, not in UTC.
		acct, err := s.app.Accounts.Get(context.Background(), s.acct)
		require.NoError(t, err)
		zone, err := time.LoadLocation(acct.TimeZone)
		require.NoError(t, err)
		today := time.Now().In(zone).Format("2006-01-02")
		require.Equal(t, today, strings.TrimSpace(p.doc.Find("#chart-messages-table tbody tr").Last().Find("th").Text()))

		// The latest messages open their transaction log.
		links := p.doc.Find("#dash-recent a")
		require.Equal(t, 2, links.Length())
		href, _ := links.First().Attr("href")
		require.Contains(t, []string{"/outcomes/sms/messages/" + sent[0].ID, "/outcomes/sms/messages/" + sent[1].ID}, href)

		// The log of every message keeps the range and the filters, and
		// lists what the dashboard counted.
		href, _ = p.doc.Find("#dash-all-outcomes").Attr("href")
		out := s.as(account.RoleViewer).get(href)
		require.Equal(t, http.StatusOK, out.status, out.text())
		for _, m := range sent {
			require.Contains(t, out.body, m.ID)
		}

		// Narrowed to the template by its row's link, the figures stay.
		href, _ = row.Find("a").Attr("href")
		require.Contains(t, href, "template_id="+tpl)
		p = s.as(account.RoleViewer).get(href)
		require.Equal(t, http.StatusOK, p.status)
		require.Equal(t, "2", strings.TrimSpace(p.doc.Find("#tile-sent .value").Text()))
		sel, _ := p.doc.Find("#dash-template option[selected]").Attr("value")
		require.Equal(t, tpl, sel)
	})
}

func TestDashboardIntervalsAndRange(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	b := s.as(account.RoleViewer)
	for _, tc := range []struct {
		query  string
		points int
		first  string
	}{
		{"from=2026-03-01&to=2026-03-31&interval=day", 31, "2026-03-01"},
		{"from=2026-03-02&to=2026-03-02&interval=hour", 24, "2026-03-02 00:00"},
		{"from=2026-03-04&to=2026-03-18&interval=week", 3, "Week of 2026-03-02"},
		{"from=2026-01-15&to=2026-03-02&interval=month", 3, "January 2026"},
	} {
		p := b.get("/dashboards/sms?" + tc.query)
		require.Equal(t, http.StatusOK, p.status, tc.query)
		rows := p.doc.Find("#chart-segments-table tbody tr")
		require.Equal(t, tc.points, rows.Length(), tc.query)
		require.Equal(t, tc.first, strings.TrimSpace(rows.First().Find("th").Text()), tc.query)
		// No outcome yet: the rate is a dash, not 0 %.
		require.Equal(t, "—", strings.TrimSpace(p.doc.Find("#tile-delivery-rate .value").Text()))
	}
}

func TestDashboardRefusesBadFilters(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	otherAcct, _ := dqsOtherAccount(t, s)
	otherTpl := dqsTemplate(t, s, otherAcct, "Globex welcome", "Welcome to Globex.")
	b := s.as(account.RoleViewer)
	for _, tc := range []struct {
		query, field, says string
	}{
		{"from=2026-13-01", "dash-from", "from must be a date"},
		{"to=yesterday", "dash-to", "to must be a date"},
		{"interval=year", "dash-interval", "interval must be hour, day, week or month"},
		{"from=2026-03-10&to=2026-03-01", "dash-from", "is after"},
		{"from=2024-01-01&to=2026-03-01", "dash-from", "at most 400"},
		{"from=2026-01-01&to=2026-03-01&interval=hour", "dash-interval", "too many points"},
		{"template_id=" + url.QueryEscape(otherTpl), "dash-template", "this account has no template"},
		{"program_id=nope", "dash-program", "this account has no program"},
	} {
		p := b.get("/dashboards/sms?" + tc.query)
		require.Equal(t, http.StatusUnprocessableEntity, p.status, tc.query)
		field := p.doc.Find("#" + tc.field)
		inv, _ := field.Attr("aria-invalid")
		require.Equal(t, "true", inv, tc.query)
		described, _ := field.Attr("aria-describedby")
		require.Contains(t, p.doc.Find("#"+described).Text(), tc.says, tc.query)
		require.Zero(t, p.doc.Find(".chart").Length(), tc.query)
	}
}

func TestDashboardFindsAMessage(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	tpl := dqsTemplate(t, s, s.acct, "Reward", "Your reward is ready.")
	m := dqsSend(t, s, s.acct, dqsContact(t, s, s.acct, "+17346263333", "Ava"), tpl)
	otherAcct, _ := dqsOtherAccount(t, s)
	dqsEnableSMS(t, s, otherAcct, "AC00000000000000000000000000000002", "+18885550199")
	otherTpl := dqsTemplate(t, s, otherAcct, "Globex", "Welcome to Globex.")
	theirs := dqsSend(t, s, otherAcct, dqsContact(t, s, otherAcct, "+17346263399", "Bo"), otherTpl)
	b := s.as(account.RoleViewer)

	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := b.get("/dashboards/sms/message?id=" + url.QueryEscape(" "+m.ID+" "))
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/outcomes/sms/messages/"+m.ID, p.header.Get("Location"))

	// Another account's message is not there to be found.
	p = b.get("/dashboards/sms/message?id=" + theirs.ID)
	require.Equal(t, http.StatusNotFound, p.status)
	p = b.get("/dashboards/sms/message?id=msg_nope")
	require.Equal(t, http.StatusNotFound, p.status)
	p = b.get("/dashboards/sms/message?id=")
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(), "type the id of a message")
}
