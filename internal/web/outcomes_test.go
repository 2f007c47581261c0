package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
)

// aoXSS is a name an attacker would give a contact, template or
// automation; aoEscaped is how a page must show it.
const (
	aoXSS     = "<script>alert(1)</script>"
	aoEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
)

// aoRequireEscaped checks that a page shows the attacker's name as text.
func aoRequireEscaped(t *testing.T, p *page) {
	t.Helper()
	require.Contains(t, p.body, aoEscaped)
	require.NotContains(t, p.body, "<script>alert(1)")
}

// aoTemplate creates a template of a kind; approved ones are submitted and
// approved as the operator would.
func aoTemplate(t *testing.T, s *site, name, kind, body string, approve bool) string {
	t.Helper()
	ctx := context.Background()
	tpl, err := s.app.Templates.Create(ctx, s.acct, msgtemplate.NewTemplate{Name: name, Kind: kind, Body: body}, "test")
	require.NoError(t, err)
	if !approve {
		return tpl.ID
	}
	_, err = s.app.Templates.Submit(ctx, s.acct, tpl.ID, "test")
	require.NoError(t, err)
	_, err = s.app.Templates.Decide(ctx, s.acct, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator"})
	require.NoError(t, err)
	return tpl.ID
}

// aoContact creates a contact with a preference.
func aoContact(t *testing.T, s *site, phone, firstName string, pref consent.Preference) contact.Contact {
	t.Helper()
	p := string(pref)
	c, _, err := s.app.Contacts.Upsert(context.Background(), s.acct,
		contact.Input{Phone: &phone, FirstName: &firstName, SMSPreference: &p},
		contact.Change{Source: consent.SourceAPI, Actor: "test"})
	require.NoError(t, err)
	return c
}

// aoSend stores a message as the API's POST /messages would.
func aoSend(t *testing.T, s *site, contactID, templateID string) *message.Message {
	t.Helper()
	m, err := s.app.Messages.Create(context.Background(), s.acct, message.Request{ContactID: contactID, TemplateID: templateID})
	require.NoError(t, err)
	return m
}

// aoWait waits until the simulator has answered for a message.
func aoWait(t *testing.T, s *site, messageID string, want message.Status) {
	t.Helper()
	require.Eventually(t, func() bool {
		m, err := s.app.Messages.Get(context.Background(), s.acct, messageID)
		return err == nil && m.Status == want
	}, 15*time.Second, 20*time.Millisecond, "message %s never became %s", messageID, want)
}

func TestOutcomesLogCountsAndFilters(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		tpl := aoTemplate(t, s, aoXSS, "transactional", "Hi {{first_name}}, your reward is ready.", true)
		ava := aoContact(t, s, "+17345550101", "Ava", consent.OptedIn)
		bob := aoContact(t, s, "+17345550102", "Bob", consent.OptedOut)
		sent := aoSend(t, s, ava.ID, tpl)
		skipped := aoSend(t, s, bob.ID, tpl)
		aoWait(t, s, sent.ID, message.Delivered)
		require.Equal(t, message.Skipped, skipped.Status)

		b := s.as(account.RoleViewer)
		p := b.get("/outcomes/sms")
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, "2", strings.TrimSpace(p.doc.Find("#outcome-tile-all .value").Text()))
		require.Equal(t, "1", strings.TrimSpace(p.doc.Find("#outcome-tile-delivered .value").Text()))
		require.Equal(t, "1", strings.TrimSpace(p.doc.Find("#outcome-tile-skipped .value").Text()))
		require.Equal(t, "0", strings.TrimSpace(p.doc.Find("#outcome-tile-failed .value").Text()))
		require.Equal(t, 2, p.doc.Find("#outcome-log tbody tr").Length())
		aoRequireEscaped(t, p)

		// A tile is a link to its rows, and keeps the other filters.
		href, _ := p.doc.Find("#outcome-tile-skipped").Attr("href")
		p = b.get(href)
		require.Equal(t, 1, p.doc.Find("#outcome-log tbody tr").Length())
		row := p.doc.Find("#outcome-log tbody tr").First()
		require.Contains(t, row.Text(), message.ReasonNotOptedIn)
		require.Contains(t, row.Text(), "+17345550102")
		link, _ := row.Find(`a[href^="/outcomes/sms/messages/"]`).Attr("href")
		require.Equal(t, "/outcomes/sms/messages/"+skipped.ID, link)
		aria, _ := p.doc.Find("#outcome-tile-skipped").Attr("aria-current")
		require.Equal(t, "true", aria)
		// The counts stay those of the whole filter, so other tiles still lead somewhere.
		require.Equal(t, "1", strings.TrimSpace(p.doc.Find("#outcome-tile-delivered .value").Text()))

		// Dates are days in the account's time zone.
		acct, err := s.app.Accounts.Get(context.Background(), s.acct)
		require.NoError(t, err)
		zone, err := time.LoadLocation(acct.TimeZone)
		require.NoError(t, err)
		today := time.Now().In(zone).Format(time.DateOnly)
		for _, c := range []struct {
			query string
			want  []string // message ids shown
		}{
			{"status=delivered", []string{sent.ID}},
			{"status=processing", nil},
			{"template_id=" + tpl, []string{skipped.ID, sent.ID}},
			{"kind=marketing", nil},
			{"from=" + today + "&to=" + today, []string{skipped.ID, sent.ID}},
			{"to=2020-01-01", nil},
			{"contact_id=" + ava.ID, []string{sent.ID}},
			{"error_code=30007", nil}, // none was filtered by a carrier
		} {
			p := b.get("/outcomes/sms?" + c.query)
			require.Equal(t, http.StatusOK, p.status, c.query)
			var got []string
			p.doc.Find(`#outcome-log tbody a[href^="/outcomes/sms/messages/"]`).Each(func(_ int, a *goquery.Selection) {
				got = append(got, strings.TrimSpace(a.Text()))
			})
			require.Equal(t, c.want, got, c.query)
		}
	})
}

func TestOutcomesRefusesABadFilterBesideItsField(t *testing.T) {
	s := newSite(t, db.SQLite)
	b := s.as(account.RoleViewer)
	for _, c := range []struct{ query, field, want string }{
		{"from=yesterday", "#outcome-from", "give a date"},
		{"from=2026-11-02&to=2026-11-01", "#outcome-to", "end date comes before"},
		{"status=lost", "#outcome-status", "choose one of the outcome statuses"},
		{"kind=carrier_pigeon", "#outcome-kind", "kind must be"},
		{"error_code=30007x", "#outcome-error-code", "a carrier's code"},
	} {
		p := b.get("/outcomes/sms?" + c.query)
		require.Equal(t, http.StatusUnprocessableEntity, p.status, c.query)
		field := p.doc.Find(c.field)
		invalid, _ := field.Attr("aria-invalid")
		require.Equal(t, "true", invalid, c.query)
		describedBy, _ := field.Attr("aria-describedby")
		require.Contains(t, p.doc.Find("#"+describedBy).Text(), c.want, c.query)
		require.Zero(t, p.doc.Find("#outcome-log").Length())
	}
}

func TestMessagePageShowsTheWholeLife(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		tpl := aoTemplate(t, s, "Reward ready", "transactional", "Hi {{first_name}} 🎉 your reward is ready.", true)
		ava := aoContact(t, s, "+17345550101", aoXSS, consent.OptedIn)
		m := aoSend(t, s, ava.ID, tpl)
		aoWait(t, s, m.ID, message.Delivered)
		stored, err := s.app.Messages.Get(context.Background(), s.acct, m.ID)
		require.NoError(t, err)

		p := s.as(account.RoleViewer).get("/outcomes/sms/messages/" + m.ID)
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, "Hi "+aoXSS+" 🎉 your reward is ready.", p.doc.Find("#message-body").Text())
		aoRequireEscaped(t, p)
		require.Equal(t, "ucs2", strings.ToLower(strings.ReplaceAll(strings.TrimSpace(p.doc.Find("#message-encoding").Text()), "-", "")))
		require.Equal(t, "1", strings.TrimSpace(p.doc.Find("#message-segments").Text()))
		require.Equal(t, "delivered", strings.TrimSpace(p.doc.Find("#message-status").Text()))
		require.NotNil(t, stored.CarrierID)
		require.Equal(t, *stored.CarrierID, strings.TrimSpace(p.doc.Find("#message-carrier-id").Text()))
		var statuses []string
		p.doc.Find("#message-history tbody tr td:nth-child(2)").Each(func(_ int, td *goquery.Selection) {
			statuses = append(statuses, strings.TrimSpace(td.Text()))
		})
		require.Equal(t, len(stored.History), len(statuses))
		require.Contains(t, statuses, "sent")
		require.Equal(t, "delivered", statuses[len(statuses)-1])

		// Another account's message does not exist here.
		_, other := dqsOtherAccount(t, s)
		require.Equal(t, http.StatusNotFound, other.get("/outcomes/sms/messages/"+m.ID).status)
		require.Equal(t, http.StatusNotFound, other.get("/outcomes/sms/messages/msg_nope").status)
	})
}
