package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
)

// aoNames is the first column of the contact list, as shown.
func aoNames(p *page) []string {
	var out []string
	p.doc.Find("#contacts-list tbody tr td:first-child").Each(func(_ int, td *goquery.Selection) {
		out = append(out, strings.TrimSpace(td.Text()))
	})
	return out
}

func TestContactListSearchesAndFilters(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		aoContact(t, s, "+17345550101", "Ava", consent.OptedIn)
		aoContact(t, s, "+447400123456", "Bea", consent.OptedOut)
		aoContact(t, s, "+17345550103", aoXSS, consent.Unknown)

		b := s.as(account.RoleViewer)
		p := b.get("/audience/contacts")
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Len(t, aoNames(p), 3)
		aoRequireEscaped(t, p)
		// A viewer may export but not import.
		require.Equal(t, 1, p.doc.Find("#contacts-export").Length())
		require.Zero(t, p.doc.Find("#contacts-import").Length())

		for _, c := range []struct {
			query string
			want  []string
		}{
			{"q=ava", []string{"Ava"}},
			{"q=7400123", []string{"Bea"}},
			{"sms_preference=opted_out", []string{"Bea"}},
			{"country=gb", []string{"Bea"}},
			{"country=US&sms_preference=opted_in", []string{"Ava"}},
			{"q=nobody", nil},
		} {
			p := b.get("/audience/contacts?" + c.query)
			require.Equal(t, http.StatusOK, p.status, c.query)
			require.Equal(t, c.want, aoNames(p), c.query)
			// The export link carries the same filter.
			href, _ := p.doc.Find("#contacts-export").Attr("href")
			require.Contains(t, href, "/audience/contacts/export.csv?", c.query)
		}

		// A bad filter is shown beside its field.
		for _, c := range []struct{ query, field string }{
			{"country=USA", "#contacts-country"},
			{"sms_preference=maybe", "#contacts-preference"},
		} {
			p := b.get("/audience/contacts?" + c.query)
			require.Equal(t, http.StatusUnprocessableEntity, p.status, c.query)
			invalid, _ := p.doc.Find(c.field).Attr("aria-invalid")
			require.Equal(t, "true", invalid, c.query)
			describedBy, _ := p.doc.Find(c.field).Attr("aria-describedby")
			require.NotEmpty(t, strings.TrimSpace(p.doc.Find("#"+describedBy).Text()), c.query)
		}
	})
}

func TestContactPageShowsLedgerAndConversation(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		c := aoContact(t, s, "+17345550101", aoXSS, consent.Unknown)
		// Consent from the enrollment widget, with the evidence it keeps.
		evidence, err := json.Marshal(map[string]any{"disclosure": "Yes, text me Acme Rewards offers. Msg & data rates may apply.",
			"ip": "203.0.113.9", "page": "https://acme.test/join", "time": "2026-11-20T10:00:00Z", "double_opt_in": false})
		require.NoError(t, err)
		_, err = s.app.Contacts.SetPreference(ctx, s.acct, c.ID, contact.PreferenceChange{Preference: consent.OptedIn,
			Change: contact.Change{Source: consent.SourceWidget, Actor: "visitor", Evidence: evidence}})
		require.NoError(t, err)
		tpl := aoTemplate(t, s, "Welcome", "transactional", "Welcome to Acme Rewards!", true)
		m := aoSend(t, s, c.ID, tpl)
		aoWait(t, s, m.ID, message.Delivered)
		acct, err := s.app.Accounts.Get(ctx, s.acct)
		require.NoError(t, err)
		_, err = s.app.Inbound.Handle(ctx, acct, inbound.Reply{CarrierID: "SM_reply_1", From: "+17345550101", To: "+18885550100", Body: "HELP"})
		require.NoError(t, err)
		// Notices name no contact (a double opt-in's asks someone not yet
		// opted in); the one sent to this contact's phone is theirs.
		_, err = s.app.Messages.SendNotice(ctx, message.Notice{AccountID: s.acct, To: "+17345550101", Body: "Acme: Reply Y to confirm."})
		require.NoError(t, err)
		_, err = s.app.Messages.SendNotice(ctx, message.Notice{AccountID: s.acct, To: "+17345550102", Body: "Acme: for someone else."})
		require.NoError(t, err)

		p := s.as(account.RoleViewer).get("/audience/contacts/" + c.ID)
		require.Equal(t, http.StatusOK, p.status, p.text())
		aoRequireEscaped(t, p)
		require.Equal(t, aoXSS, strings.TrimSpace(p.doc.Find("#contact-name").Text()))

		// One number: the change covers both kinds, a record each.
		ledger := p.doc.Find("#consent-ledger tbody tr")
		require.Equal(t, 2, ledger.Length())
		row := strings.Join(strings.Fields(ledger.First().Text()), " ")
		for _, want := range []string{"widget", "visitor", "unknown → opted_in", "Yes, text me Acme Rewards offers. Msg & data rates may apply.",
			"203.0.113.9", "https://acme.test/join", "2026-11-20T10:00:00Z"} {
			require.Contains(t, row, want)
		}
		// The disclosure is the first line of the evidence: what the person agreed to.
		require.Equal(t, "disclosure", strings.TrimSpace(ledger.First().Find(".ao-evidence dt").First().Text()))

		turns := p.doc.Find("#conversation li")
		require.Equal(t, 4, turns.Length(), strings.Join(strings.Fields(turns.Text()), " "))
		require.Contains(t, turns.Eq(0).Text(), "Welcome to Acme Rewards!")
		require.True(t, turns.Eq(0).HasClass("ao-out"))
		link, _ := turns.Eq(0).Find("a").Attr("href")
		require.Equal(t, "/outcomes/sms/messages/"+m.ID, link)
		require.Contains(t, turns.Eq(1).Text(), "HELP")
		require.True(t, turns.Eq(1).HasClass("ao-in"))
		require.Contains(t, turns.Eq(1).Text(), inbound.ActionHelp)
		require.True(t, turns.Eq(2).HasClass("ao-out"))
		require.Contains(t, turns.Eq(3).Text(), "Acme: Reply Y to confirm.")
		require.True(t, turns.Eq(3).HasClass("ao-out"))
		require.NotContains(t, p.text(), "for someone else")

		// A viewer sees no form that would change anything.
		require.Zero(t, p.doc.Find("#preference-form").Length())

		// Another account's contact is not there.
		_, other := dqsOtherAccount(t, s)
		require.Equal(t, http.StatusNotFound, other.get("/audience/contacts/"+c.ID).status)
	})
}

func TestChangePreferenceNeedsAReason(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		c := aoContact(t, s, "+17345550101", "Ava", consent.OptedIn)
		b := s.as(account.RoleEditor)
		p := b.get("/audience/contacts/" + c.ID)
		require.Equal(t, 1, p.doc.Find("#preference-form").Length())

		// No reason: refused beside the field, the choice kept, nothing changed.
		p = b.post("/audience/contacts/"+c.ID+"/preference", map[string][]string{"preference": {"opted_out"}, "reason": {"  "}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		invalid, _ := p.doc.Find("#preference-reason").Attr("aria-invalid")
		require.Equal(t, "true", invalid)
		require.Contains(t, p.doc.Find("#preference-reason-error").Text(), "Say why")
		require.Equal(t, "opted_out", p.doc.Find("#preference-value option[selected]").AttrOr("value", ""))
		got, err := s.app.Contacts.Get(ctx, s.acct, c.ID)
		require.NoError(t, err)
		require.Equal(t, consent.OptedIn, got.SMSPreference)

		// A preference that does not exist is refused too.
		p = b.post("/audience/contacts/"+c.ID+"/preference", map[string][]string{"preference": {"maybe"}, "reason": {"asked"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.NotEmpty(t, p.doc.Find("#preference-value-error").Text())

		// With a reason it changes, and the ledger says who and why.
		p = b.post("/audience/contacts/"+c.ID+"/preference", map[string][]string{"preference": {"opted_out"},
			"reason": {"Asked by phone to stop texts"}})
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, "/audience/contacts/"+c.ID, p.url.Path)
		require.Contains(t, p.text(), "Ava is now opted_out.")
		got, err = s.app.Contacts.Get(ctx, s.acct, c.ID)
		require.NoError(t, err)
		require.Equal(t, consent.OptedOut, got.SMSPreference)
		records, err := s.app.Contacts.Consents(ctx, s.acct, c.ID)
		require.NoError(t, err)
		last := records[len(records)-1]
		require.Equal(t, consent.SourceAdmin, last.Source)
		require.True(t, strings.HasPrefix(last.Actor, "user:"), last.Actor)
		require.Contains(t, string(last.Evidence), "Asked by phone to stop texts")
		top := strings.Join(strings.Fields(p.doc.Find("#consent-ledger tbody tr").First().Text()), " ")
		require.Contains(t, top, "Asked by phone to stop texts")
		require.Contains(t, top, "admin")

		// Another account's contact cannot be changed.
		_, other := dqsOtherAccount(t, s)
		other.get("/audience/contacts")
		p = other.post("/audience/contacts/"+c.ID+"/preference", map[string][]string{"preference": {"opted_in"}, "reason": {"x"}})
		require.Equal(t, http.StatusNotFound, p.status)
		got, err = s.app.Contacts.Get(ctx, s.acct, c.ID)
		require.NoError(t, err)
		require.Equal(t, consent.OptedOut, got.SMSPreference)
	})
}

// aoUpload posts a file as the import form does, with the CSRF token of
// the last page loaded.
func aoUpload(b *browser, path, name string, content []byte) *page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	require.NoError(b.t, w.WriteField("csrf_token", b.csrf))
	if name != "" {
		fw, err := w.CreateFormFile("file", name)
		require.NoError(b.t, err)
		_, err = fw.Write(content)
		require.NoError(b.t, err)
	}
	require.NoError(b.t, w.Close())
	return b.do(http.MethodPost, path, &body, map[string]string{"Content-Type": w.FormDataContentType()})
}

func TestImportShowsEveryRefusedRowAndExportFollowsTheFilter(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		b := s.as(account.RoleEditor)
		b.get("/audience/contacts/import")
		csv := "phone,first_name,sms_preference\n" +
			"+17345550101,Ava,opted_in\n" +
			"not a phone,Bad,opted_in\n" +
			"+447400123456,Bea,opted_out\n" +
			"+17345550104,Cy,sometimes\n"
		p := aoUpload(b, "/audience/contacts/import", "people.csv", []byte(csv))
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, "2", strings.TrimSpace(p.doc.Find("#import-created").Text()))
		require.Equal(t, "0", strings.TrimSpace(p.doc.Find("#import-updated").Text()))
		require.Equal(t, "2", strings.TrimSpace(p.doc.Find("#import-failed").Text()))
		var lines []string
		p.doc.Find("#import-errors tbody tr").Each(func(_ int, tr *goquery.Selection) {
			lines = append(lines, strings.TrimSpace(tr.Find("td").First().Text()))
			require.NotEmpty(t, strings.TrimSpace(tr.Find("td").Eq(2).Text()))
		})
		// Line numbers count the header as line 1, as a spreadsheet does.
		require.Equal(t, []string{"3", "5"}, lines)
		page, err := s.app.Contacts.List(ctx, s.acct, contact.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Data, 2)

		// A file that cannot be read at all imports nothing and says why,
		// beside the file field.
		for _, c := range []struct {
			name    string
			content string
		}{{"empty.csv", ""}, {"noheader.csv", "first_name\nAva\n"}} {
			b.get("/audience/contacts/import")
			p = aoUpload(b, "/audience/contacts/import", c.name, []byte(c.content))
			require.Equal(t, http.StatusUnprocessableEntity, p.status, c.name)
			invalid, _ := p.doc.Find("#import-file").Attr("aria-invalid")
			require.Equal(t, "true", invalid, c.name)
			require.NotEmpty(t, strings.TrimSpace(p.doc.Find("#import-file-error").Text()), c.name)
		}
		b.get("/audience/contacts/import")
		p = aoUpload(b, "/audience/contacts/import", "", nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#import-file-error").Text(), "Choose a CSV file")

		// The import needs its CSRF token like every form.
		b.csrf = "forged"
		p = aoUpload(b, "/audience/contacts/import", "people.csv", []byte(csv))
		require.Equal(t, http.StatusForbidden, p.status)

		// Export takes the list's filter, and is the CSV import reads.
		p = s.as(account.RoleViewer).get("/audience/contacts/export.csv?sms_preference=opted_out")
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.header.Get("Content-Type"), "text/csv")
		rows := strings.Split(strings.TrimSpace(p.body), "\n")
		require.Len(t, rows, 2, p.body)
		require.Contains(t, rows[1], "+447400123456")
		require.Contains(t, rows[1], "Bea")
		p = s.as(account.RoleViewer).get("/audience/contacts/export.csv?country=ZZZ")
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
	})
}

func TestContactListPages(t *testing.T) {
	s := newSite(t, db.SQLite)
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for i := range 55 {
		fmt.Fprintf(&csv, "+1734555%04d,Person %04d\n", i, i)
	}
	res, err := s.app.Contacts.Import(context.Background(), s.acct, strings.NewReader(csv.String()),
		contact.Change{Source: consent.SourceImport, Actor: "test"})
	require.NoError(t, err)
	require.Equal(t, 55, res.Created, res.Errors)
	b := s.as(account.RoleViewer)
	p := b.get("/audience/contacts?q=person")
	require.Len(t, aoNames(p), 50)
	next, ok := p.doc.Find(".pager a").Attr("href")
	require.True(t, ok)
	require.Contains(t, next, "q=person")
	p = b.get(next)
	require.Len(t, aoNames(p), 5)
	require.Zero(t, p.doc.Find(".pager a").Length())
}
