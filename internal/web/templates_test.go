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
	"github.com/heraldsms/herald/internal/msgtemplate"
)

// templateIDFrom is the id at the end of a template page's URL.
func templateIDFrom(t *testing.T, p *page) string {
	t.Helper()
	id, ok := strings.CutPrefix(p.url.Path, "/channels/sms/")
	require.True(t, ok && id != "" && !strings.Contains(id, "/"), "not a template page: %s", p.url.Path)
	return id
}

func newTemplate(t *testing.T, s *site, name, kind, body string) msgtemplate.Template {
	t.Helper()
	tpl, err := s.app.Templates.Create(context.Background(), s.acct,
		msgtemplate.NewTemplate{Name: name, Kind: kind, Body: body}, "test")
	require.NoError(t, err)
	return tpl
}

// TestTemplateLifecycle is a marketer's template from first draft to the
// approved version that is sent, and an edit after approval.
func TestTemplateLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		ed := s.as(account.RoleEditor)

		p := ed.get("/channels/sms/new")
		require.Equal(t, http.StatusOK, p.status)
		require.Equal(t, 1, p.doc.Find(`label[for="body"]`).Length())
		p = ed.post("/channels/sms", url.Values{"name": {"Reward approved"}, "kind": {"transactional"},
			"body": {`{{brand}}: your {{reward_amount}} reward is approved, {{first_name | default: "friend"}}!`}})
		require.Equal(t, http.StatusOK, p.status, p.text())
		id := templateIDFrom(t, p)
		require.Contains(t, p.text(), "Created")
		require.Equal(t, "draft", p.doc.Find("#template-status").AttrOr("data-status", ""))
		require.Equal(t, "GSM-7", p.doc.Find("#sms-encoding").AttrOr("data-encoding", ""))
		// The preview uses the samples and the account's brand.
		require.Equal(t, "Acme Rewards: your $25 reward is approved, Alex!", p.doc.Find("#sms-preview-text").Text())

		p = ed.post("/channels/sms/"+id+"/submit", nil)
		require.Equal(t, "/channels/sms/"+id, p.url.Path)
		require.Equal(t, "pending_approval", p.doc.Find("#template-status").AttrOr("data-status", ""))
		require.Contains(t, p.doc.Find("#review").Text(), "the Herald operator")

		op := s.as(account.RoleOperator)
		p = op.get("/operator/templates")
		require.Equal(t, 1, p.doc.Find("#approval-"+id).Length())
		require.Contains(t, p.doc.Find("#approval-"+id).Text(), "First version")
		p = op.post("/operator/templates/"+id+"/approve", nil)
		require.Equal(t, "/operator/templates", p.url.Path)
		require.Contains(t, p.text(), `Approved "Reward approved" version 1`)
		require.Equal(t, 1, p.doc.Find("#queue-empty").Length())

		// Editing the approved template makes version 2, a draft; version 1
		// is still the one sent.
		p = ed.get("/channels/sms/" + id)
		require.Equal(t, "approved", p.doc.Find("#template-status").AttrOr("data-status", ""))
		require.Contains(t, p.doc.Find("#edit-rules").Text(), "version 1 stays the one sent")
		p = ed.post("/channels/sms/"+id, url.Values{"name": {"Reward approved"}, "kind": {"transactional"},
			"body": {`{{brand}}: your {{reward_amount}} reward is ready, {{first_name | default: "friend"}}!`}})
		require.Contains(t, p.text(), "Saved as version 2, a draft")
		require.Contains(t, p.text(), "the approved version 1 is the one sent")
		require.Equal(t, "draft", p.doc.Find("#template-status").AttrOr("data-status", ""))
		require.Contains(t, p.doc.Find("#template-changes ins").Text(), "ready,")
		require.Contains(t, p.doc.Find("#template-changes del").Text(), "approved,")
		sendable, err := s.app.Templates.Sendable(ctx, s.acct, id)
		require.NoError(t, err)
		require.Equal(t, 1, versionNumber(t, s, id, sendable.VersionID))

		// The history shows each version with its review, newest first,
		// naming people by email.
		rows := p.doc.Find("#template-versions tbody tr")
		require.Equal(t, 2, rows.Length())
		require.Equal(t, "2", rows.First().AttrOr("data-version", ""))
		v1 := rows.Last().Text()
		require.Contains(t, v1, "submitted by editor@acme.test")
		require.Contains(t, v1, "approved by Herald operator")

		// A rename alone makes no version.
		p = ed.post("/channels/sms/"+id, url.Values{"name": {"Reward ready"}, "kind": {"transactional"},
			"body": {`{{brand}}: your {{reward_amount}} reward is ready, {{first_name | default: "friend"}}!`}})
		require.Contains(t, p.text(), "Saved.")
		tpl, err := s.app.Templates.Get(ctx, s.acct, id)
		require.NoError(t, err)
		require.Equal(t, "Reward ready", tpl.Name)
		require.Len(t, tpl.Versions, 2)
	})
}

func versionNumber(t *testing.T, s *site, templateID, versionID string) int {
	t.Helper()
	tpl, err := s.app.Templates.Get(context.Background(), s.acct, templateID)
	require.NoError(t, err)
	for _, v := range tpl.Versions {
		if v.ID == versionID {
			return v.Number
		}
	}
	t.Fatalf("no version %s", versionID)
	return 0
}

// TestTemplateCounter checks the live counter against hand-counted
// examples: GSM-7 counts septets, UCS-2 counts UTF-16 code units (an emoji
// is two), and a segment holds 160 or 70 of them.
func TestTemplateCounter(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	ed := s.as(account.RoleEditor)
	ed.get("/channels/sms/new")
	for _, tc := range []struct {
		name, body, encoding, summary string
		forcing                       map[string]string // character → look-alike ("" for none)
	}{
		{"plain", "Hi {{first_name}}", "GSM-7", "GSM-7 · 7 characters · 1 segment", nil},
		{"emoji", "Hi {{first_name}} 😀", "UCS-2", "UCS-2 · 10 characters · 1 segment", map[string]string{"😀": ""}},
		{"curly quote", "Don’t miss it", "UCS-2", "UCS-2 · 13 characters · 1 segment", map[string]string{"’": "'"}},
		{"long GSM-7", strings.Repeat("a", 161), "GSM-7", "GSM-7 · 161 characters · 2 segments", nil},
		{"long UCS-2", strings.Repeat("é", 60) + "😀" + strings.Repeat("b", 9), "UCS-2", "UCS-2 · 71 characters · 2 segments",
			map[string]string{"😀": ""}},
		{"empty", "", "GSM-7", "GSM-7 · 0 characters · 0 segments", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ed.htmx(http.MethodPost, "/channels/sms/counter", url.Values{"kind": {"transactional"}, "body": {tc.body}})
			require.Equal(t, http.StatusOK, p.status, p.body)
			c := p.doc.Find("#sms-counter")
			require.Equal(t, tc.encoding, c.AttrOr("data-encoding", ""))
			require.Equal(t, tc.encoding, p.doc.Find("#sms-encoding").AttrOr("data-encoding", ""))
			require.Equal(t, tc.summary, strings.TrimSpace(p.doc.Find("#sms-summary").Text()))
			items := p.doc.Find("#sms-ucs2-chars li")
			require.Equal(t, len(tc.forcing), items.Length())
			for ch, alike := range tc.forcing {
				li := p.doc.Find(`#sms-ucs2-chars li[data-char="` + ch + `"]`)
				require.Equal(t, 1, li.Length(), ch)
				require.Equal(t, alike, li.Find("[data-lookalike]").AttrOr("data-lookalike", ""))
			}
			// A fragment, not a page: htmx swaps it into the editor.
			require.Equal(t, 0, p.doc.Find("header.top").Length())
		})
	}

	// A bad merge tag is shown as the author types, not refused.
	p := ed.htmx(http.MethodPost, "/channels/sms/counter", url.Values{"kind": {"marketing"}, "body": {"Hi {{frist_name}}"}})
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.doc.Find("#sms-tag-errors").Text(), "first_name")
	require.Equal(t, 1, p.doc.Find(`#sms-problems [data-code="missing_opt_out"]`).Length())

	// The editor asks for the counter as the user types, and every tag in
	// the picker is one msgtemplate knows.
	page := ed.get("/channels/sms/new")
	body := page.doc.Find("textarea#body")
	require.Equal(t, "/channels/sms/counter", body.AttrOr("hx-post", ""))
	require.Contains(t, body.AttrOr("hx-trigger", ""), "input changed delay:150ms")
	require.Equal(t, "#sms-live", body.AttrOr("hx-target", ""))
	tags := page.doc.Find("[data-insert-tag]")
	require.GreaterOrEqual(t, tags.Length(), 8)
	for _, tag := range tags.Map(func(_ int, sel *goquery.Selection) string { return sel.AttrOr("data-insert-tag", "") }) {
		_, err := msgtemplate.Parse(tag)
		require.NoError(t, err, tag)
	}
	require.Equal(t, 1, page.doc.Find(`script[src="/static/templates.js"]`).Length())
	require.Equal(t, http.StatusOK, ed.get("/static/templates.js").status)
}

// TestTemplateBadInput checks that a refused save keeps what was typed,
// puts the message by the field and changes nothing.
func TestTemplateBadInput(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		ed := s.as(account.RoleEditor)
		ed.get("/channels/sms/new")

		for _, tc := range []struct {
			name, field, want string
			form              url.Values
		}{
			{"unknown tag", "body", "first_name", url.Values{"name": {"Hi"}, "kind": {"transactional"}, "body": {"Hi {{frist_name}}"}}},
			{"no body", "body", "body is required", url.Values{"name": {"Hi"}, "kind": {"transactional"}, "body": {"  "}}},
			{"no name", "name", "name is required", url.Values{"name": {""}, "kind": {"transactional"}, "body": {"Hello"}}},
			{"bad kind", "kind", "transactional or marketing", url.Values{"name": {"Hi"}, "kind": {"spam"}, "body": {"Hello"}}},
			{"too long", "body", "1600", url.Values{"name": {"Hi"}, "kind": {"transactional"}, "body": {strings.Repeat("a", 1601)}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := ed.post("/channels/sms", tc.form)
				require.Equal(t, http.StatusUnprocessableEntity, p.status)
				field := p.doc.Find("#" + tc.field)
				require.Equal(t, "true", field.AttrOr("aria-invalid", ""))
				require.Contains(t, field.AttrOr("aria-describedby", ""), tc.field+"-error")
				require.Contains(t, p.doc.Find("#"+tc.field+"-error").Text(), tc.want)
				require.Equal(t, tc.form.Get("body"), p.doc.Find("textarea#body").Text())
				require.Equal(t, tc.form.Get("name"), p.doc.Find("#name").AttrOr("value", ""))
			})
		}
		pg, err := s.app.Templates.List(ctx, s.acct, msgtemplate.Filter{})
		require.NoError(t, err)
		require.Empty(t, pg.Data)

		// A marketing template without an opt-out cannot be submitted; the
		// reason shows by the button and the draft stays a draft.
		tpl := newTemplate(t, s, "Promo", "marketing", "Acme Rewards: double points this week!")
		ed.get("/channels/sms/" + tpl.ID)
		p := ed.post("/channels/sms/"+tpl.ID+"/submit", nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#submit-error").Text(), "opt out")
		got, err := s.app.Templates.Get(ctx, s.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusDraft, got.Status)

		// A bad edit of an existing template keeps the typed text and
		// makes no version.
		p = ed.post("/channels/sms/"+tpl.ID, url.Values{"name": {"Promo"}, "kind": {"marketing"}, "body": {"{{oops"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Equal(t, "{{oops", p.doc.Find("textarea#body").Text())
		require.NotEmpty(t, p.doc.Find("#body-error").Text())
		got, err = s.app.Templates.Get(ctx, s.acct, tpl.ID)
		require.NoError(t, err)
		require.Len(t, got.Versions, 1)
	})
}

// TestTemplateSendTest sends a test to the simulator's handset, and
// refuses a number not written as +[country code][number].
func TestTemplateSendTest(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		tpl := newTemplate(t, s, "Welcome", "transactional", "Welcome to {{program_name}}, {{first_name}}!")
		ed := s.as(account.RoleEditor)
		ed.get("/channels/sms/" + tpl.ID)

		for _, bad := range []string{"7346263333", "(734) 626-3333", "+1 734", "call me"} {
			p := ed.post("/channels/sms/"+tpl.ID+"/test", url.Values{"to": {bad}})
			require.Equal(t, http.StatusUnprocessableEntity, p.status, bad)
			require.Contains(t, p.doc.Find("#test-to-error").Text(), "+[country code][number]", bad)
			require.Equal(t, bad, p.doc.Find("#test-to").AttrOr("value", ""))
			require.Equal(t, "true", p.doc.Find("#test-to").AttrOr("aria-invalid", ""))
		}
		p := ed.post("/channels/sms/"+tpl.ID+"/test", url.Values{"to": {"+17346263333"}})
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Contains(t, p.text(), "Test message sent to +17346263333")
		require.Eventually(t, func() bool {
			in := s.app.Sim.Inbox("+17346263333")
			return len(in) == 1 && in[0].Body == "Welcome to Acme Rewards, Alex!"
		}, 10*time.Second, 20*time.Millisecond)
	})
}

// TestTemplateSelfApproval: an admin decides only when the account
// approves its own templates, and a rejection needs a reason.
func TestTemplateSelfApproval(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		tpl := newTemplate(t, s, "Points", "transactional", "You earned {{points}} points!")
		_, err := s.app.Templates.Submit(ctx, s.acct, tpl.ID, "test")
		require.NoError(t, err)
		adm := s.as(account.RoleAdmin)

		// Off: no buttons, and the route refuses.
		p := adm.get("/channels/sms/" + tpl.ID)
		require.Equal(t, 0, p.doc.Find("#approve-template").Length())
		p = adm.post("/channels/sms/"+tpl.ID+"/approve", nil)
		require.Equal(t, http.StatusForbidden, p.status)

		on := true
		_, err = s.app.Accounts.Configure(ctx, s.acct, account.Setup{SelfApproval: &on})
		require.NoError(t, err)
		p = adm.get("/channels/sms/" + tpl.ID)
		require.Equal(t, 1, p.doc.Find("#approve-template").Length())
		// An editor sees the state but not the decision.
		require.Equal(t, 0, s.as(account.RoleEditor).get("/channels/sms/"+tpl.ID).doc.Find("#approve-template").Length())

		p = adm.post("/channels/sms/"+tpl.ID+"/reject", url.Values{"reason": {"  "}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#reason-error").Text(), "say why")
		require.Equal(t, "true", p.doc.Find("#reason").AttrOr("aria-invalid", ""))

		p = adm.post("/channels/sms/"+tpl.ID+"/reject", url.Values{"reason": {"Say which program"}})
		require.Contains(t, p.text(), "Version 1 rejected")
		require.Equal(t, "rejected", p.doc.Find("#template-status").AttrOr("data-status", ""))
		require.Contains(t, p.doc.Find(`#template-versions [data-decision="rejected"]`).Text(), "Say which program")
		require.Contains(t, p.doc.Find(`#template-versions [data-decision="rejected"]`).Text(), "admin@acme.test")

		// Deciding twice is a clash, shown on the page.
		p = adm.post("/channels/sms/"+tpl.ID+"/approve", nil)
		require.Equal(t, http.StatusConflict, p.status)
	})
}

// TestTemplatePagesAcrossAccounts: another account's template is not
// found, whichever page or action asks.
func TestTemplatePagesAcrossAccounts(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	other, _, err := s.app.Accounts.CreateAccount(ctx, account.NewAccount{Name: "Other"})
	require.NoError(t, err)
	theirs, err := s.app.Templates.Create(ctx, other.ID, msgtemplate.NewTemplate{Name: "Theirs", Kind: "transactional", Body: "Hello"}, "test")
	require.NoError(t, err)
	adm := s.as(account.RoleAdmin)
	require.Equal(t, http.StatusNotFound, adm.get("/channels/sms/"+theirs.ID).status)
	for _, action := range []string{"", "/submit", "/test", "/approve", "/reject", "/delete"} {
		p := adm.post("/channels/sms/"+theirs.ID+action, url.Values{"name": {"Mine"}, "kind": {"transactional"},
			"body": {"Changed"}, "to": {"+17346263333"}, "reason": {"no"}})
		require.Equal(t, http.StatusNotFound, p.status, action)
	}
	got, err := s.app.Templates.Get(ctx, other.ID, theirs.ID)
	require.NoError(t, err)
	require.Equal(t, "Theirs", got.Name)
	require.Len(t, got.Versions, 1)
	require.Equal(t, msgtemplate.StatusDraft, got.Status)
}

// TestTemplatePagesEscape: a template named like a script is shown as
// text on every page that names it.
func TestTemplatePagesEscape(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	const evil = "<script>alert(1)</script>"
	tpl := newTemplate(t, s, evil, "transactional", "Hi "+evil)
	_, err := s.app.Templates.Submit(context.Background(), s.acct, tpl.ID, "test")
	require.NoError(t, err)
	ed := s.as(account.RoleEditor)
	pages := []*page{ed.get("/channels/sms"), ed.get("/channels/sms/" + tpl.ID), s.as(account.RoleOperator).get("/operator/templates")}
	ed.get("/channels/sms/new")
	pages = append(pages, ed.htmx(http.MethodPost, "/channels/sms/counter", url.Values{"kind": {"transactional"}, "body": {evil}}))
	for _, p := range pages {
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.NotContains(t, p.body, "<script>alert(1)")
	}
}

// TestTemplateListGalleryAndViewer: the list filters, the gallery makes a
// draft copy, and a viewer reads without forms.
func TestTemplateListGalleryAndViewer(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	draft := newTemplate(t, s, "Draft one", "transactional", "Hello")
	sent := newTemplate(t, s, "Sent one", "transactional", "Hello again")
	_, err := s.app.Templates.Submit(ctx, s.acct, sent.ID, "test")
	require.NoError(t, err)

	ed := s.as(account.RoleEditor)
	p := ed.get("/channels/sms")
	require.Equal(t, 2, p.doc.Find("#templates tbody tr").Length())
	p = ed.get("/channels/sms?status=pending_approval")
	require.Equal(t, 1, p.doc.Find("#templates tbody tr").Length())
	require.Equal(t, sent.ID, p.doc.Find("#templates tbody tr").AttrOr("data-template-id", ""))
	require.Equal(t, "pending_approval", p.doc.Find("#templates [data-status]").AttrOr("data-status", ""))
	require.Equal(t, http.StatusUnprocessableEntity, ed.get("/channels/sms?status=nope").status)

	p = ed.get("/channels/sms/gallery")
	require.Equal(t, len(msgtemplate.Gallery()), p.doc.Find("#gallery > li").Length())
	p = ed.post("/channels/sms", url.Values{"from_gallery": {"welcome"}})
	id := templateIDFrom(t, p)
	require.Equal(t, "Welcome", p.doc.Find("#template-name").Text())
	welcome, _ := msgtemplate.GalleryByKey("welcome")
	require.Equal(t, welcome.Body, p.doc.Find("textarea#body").Text())
	p = ed.post("/channels/sms", url.Values{"from_gallery": {"nope"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.text(), "no gallery entry")

	v := s.as(account.RoleViewer)
	p = v.get("/channels/sms/" + draft.ID)
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, 0, p.doc.Find("form#template-form, #send-test, #delete-template, #submit-template").Length())
	require.Equal(t, "Hello", p.doc.Find("#template-body").Text())
	require.Equal(t, "GSM-7", p.doc.Find("#sms-counter").AttrOr("data-encoding", ""))
	require.Equal(t, 0, v.get("/channels/sms/gallery").doc.Find("#use-welcome").Length())
	require.Equal(t, http.StatusForbidden, v.get("/channels/sms/new").status)

	// Deleting takes it off the list; its page stays, read-only.
	ed.get("/channels/sms/" + id)
	p = ed.post("/channels/sms/"+id+"/delete", nil)
	require.Equal(t, "/channels/sms", p.url.Path)
	require.Equal(t, 0, p.doc.Find(`#templates tr[data-template-id="`+id+`"]`).Length())
	p = ed.get("/channels/sms/" + id)
	require.Equal(t, "deleted", p.doc.Find("#template-status").AttrOr("data-status", ""))
	require.Equal(t, 0, p.doc.Find("form#template-form").Length())
}
