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
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/web"
	"github.com/heraldsms/herald/internal/webhook"
)

// Names a hostile user or integration might give things: a script element,
// and a value that tries to leave an HTML attribute.
const (
	hostile     = `<script>alert(1)</script>`
	hostileAttr = `"><img src=x onerror=alert(2)>`
	// hostileShown is hostile as html/template writes it, in text and in
	// attribute values alike.
	hostileShown = `&lt;script&gt;alert(1)&lt;/script&gt;`
)

// hostileSite is a site whose contact, templates, automation, program,
// webhook, message, inbound reply and second account all carry hostile
// names, with the ids each page's {placeholder} takes.
type hostileSite struct {
	*site
	ids     map[string]string // route prefix → id for its {id}
	handset string
	// query is what a page needs in its address to show something.
	query map[string]string
}

func newHostileSite(t *testing.T) *hostileSite {
	t.Helper()
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	app := s.app
	h := &hostileSite{site: s, ids: map[string]string{}, handset: "+14155550134"}

	prog, err := app.Accounts.CreateProgram(ctx, s.acct, account.NewProgram{Name: hostile, Description: hostileAttr})
	require.NoError(t, err)
	evidence, err := json.Marshal(map[string]string{"note": hostile})
	require.NoError(t, err)
	c := addOptedInContact(t, s, contact.Input{Phone: &h.handset, FirstName: strp(hostile), LastName: strp(hostileAttr),
		Email: strp("ava@example.com"), Attributes: map[string]any{"tier": hostile}, ConsentEvidence: evidence})

	sent := addApprovedTemplate(t, s, hostile, "Hi {{first_name}}, your reward is ready.")
	pending, err := app.Templates.Create(ctx, s.acct, msgtemplate.NewTemplate{Name: hostile + " 2", Kind: "transactional",
		Body: "Thanks {{first_name}}! " + hostileAttr}, "editor@acme.test")
	require.NoError(t, err)
	_, err = app.Templates.Submit(ctx, s.acct, pending.ID, "editor@acme.test")
	require.NoError(t, err)

	auto, err := app.Automations.Create(ctx, s.acct, automation.Definition{Name: hostile,
		Trigger: automation.Trigger{Type: automation.TriggerEvent, Event: automation.EventAdvocateEnrolled, ProgramID: prog.ID},
		Steps:   []automation.Step{{Type: automation.StepSendSMS, TemplateID: sent.ID}}}, "editor@acme.test")
	require.NoError(t, err)

	hook, err := app.Webhooks.Create(ctx, s.acct, webhook.EndpointInput{URL: strp("http://127.0.0.1:9/hook?x=" + url.QueryEscape(hostile)),
		Description: strp(hostile), Events: &[]string{webhook.MessageDelivered}})
	require.NoError(t, err)

	// A message that renders the hostile name into its body, delivered by
	// the simulator, and a hostile reply from the handset.
	m, err := app.Messages.Create(ctx, s.acct, message.Request{ContactID: c.ID, TemplateID: sent.ID, ProgramID: prog.ID})
	require.NoError(t, err)
	awaitMessageStatus(t, s, m.ID, message.Delivered)
	require.NoError(t, app.Sim.Reply(ctx, h.handset, "+18885550100", "hello "+hostile))
	// And one waiting in the limit queue, past a limit lowered to nothing.
	none := int64(0)
	_, err = app.Accounts.Configure(ctx, s.acct, account.Setup{MonthlyLimit: &none})
	require.NoError(t, err)
	waiting, err := app.Messages.Create(ctx, s.acct, message.Request{ContactID: c.ID, TemplateID: sent.ID, ProgramID: prog.ID})
	require.NoError(t, err)
	require.Equal(t, message.LimitQueued, waiting.Status)

	other, _, err := app.Accounts.CreateAccount(ctx, account.NewAccount{Name: hostile, BrandName: hostileAttr})
	require.NoError(t, err)

	h.ids["/automations/"] = auto.ID
	h.ids["/audience/contacts/"] = c.ID
	h.ids["/channels/sms/"] = sent.ID
	h.ids["/outcomes/sms/messages/"] = m.ID
	h.ids["/settings/webhooks/"] = hook.Endpoint.ID
	h.ids["/operator/accounts/"] = other.ID
	h.query = map[string]string{
		"/dashboards/sms/message": "?id=" + m.ID,
		"/simulator/open":         "?handset=" + url.QueryEscape(h.handset),
		"/limit-queue/confirm":    "?action=cancel",
	}
	return h
}

// fill puts the seeded ids into a route's placeholders. A placeholder it
// does not know fails the test, so a new page is not walked half-filled.
func (h *hostileSite) fill(t *testing.T, route string) string {
	t.Helper()
	path := strings.ReplaceAll(route, "{handset}", url.PathEscape(h.handset))
	for prefix, id := range h.ids {
		if strings.HasPrefix(path, prefix) {
			path = strings.Replace(path, "{id}", id, 1)
		}
	}
	require.NotContains(t, path, "{", "the escaping walk has no value for a placeholder of %s: seed one in newHostileSite", route)
	return path + h.query[route]
}

// showsHostile are the pages that show a hostile name: each must show it,
// escaped. The walk checks every other page for the raw form only.
var showsHostile = map[string]bool{
	"/audience/contacts":                   true,
	"/audience/contacts/{id}":              true,
	"/channels/sms":                        true,
	"/channels/sms/{id}":                   true,
	"/automations":                         true,
	"/automations/{id}":                    true,
	"/automations/{id}/edit":               true,
	"/automations/new":                     true, // the program picker
	"/outcomes/sms":                        true,
	"/outcomes/sms/messages/{id}":          true,
	"/dashboards/sms":                      true,
	"/limit-queue":                         true,
	"/settings/webhooks":                   true,
	"/settings/webhooks/{id}":              true,
	"/simulator":                           true,
	"/simulator/handsets/{handset}":        true,
	"/simulator/handsets/{handset}/thread": true,
	"/operator":                            true,
	"/operator/accounts/{id}":              true,
	"/operator/templates":                  true,
}

func TestHostileNamesAreEscapedOnEveryPage(t *testing.T) {
	t.Parallel()
	h := newHostileSite(t)
	admin, op := h.as(account.RoleAdmin), h.as(account.RoleOperator)

	var routes []web.Route
	for _, r := range h.app.Web.Routes() {
		if r.Method == http.MethodGet {
			routes = append(routes, r)
		}
	}
	require.NotEmpty(t, routes)
	for _, r := range routes {
		path := h.fill(t, r.Path)
		var who []*browser
		switch r.Access {
		case "operator":
			who = []*browser{op}
		case "public", "signed_in":
			who = []*browser{admin, op}
		default:
			who = []*browser{admin}
		}
		for _, b := range who {
			p := b.get(path)
			require.Equal(t, http.StatusOK, p.status, "GET %s: %s", path, p.text())
			checkEscaped(t, path, p, showsHostile[r.Path])
		}
	}

	// Hostile values come in through the address too.
	for _, path := range []string{
		"/audience/contacts?q=" + url.QueryEscape(hostile),
		"/outcomes/sms?contact_id=" + url.QueryEscape(hostile),
		"/simulator/open?handset=" + url.QueryEscape(hostile),
		"/no-such-page/" + url.PathEscape(hostile),
	} {
		checkEscaped(t, path, admin.get(path), false)
	}
	checkEscaped(t, "/signin?next=…", h.browser().get("/signin?next="+url.QueryEscape(`/x"`+hostileAttr)), false)
}

// checkEscaped asserts a page carries no hostile markup, and shows the
// hostile name escaped where it must show it.
func checkEscaped(t *testing.T, path string, p *page, mustShow bool) {
	t.Helper()
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		require.NotContains(t, ct, "html", "GET %s", path)
		return
	}
	require.NotContains(t, p.body, "<script>alert(1)", "GET %s shows a hostile name unescaped", path)
	require.NotContains(t, p.body, "<img src=x", "GET %s lets a hostile value out of an attribute", path)
	if mustShow {
		require.Contains(t, p.body, hostileShown, "GET %s should show the hostile name, escaped", path)
	}
}

// TestHostileNamesRunNoScriptInChromium opens the main pages in Chromium
// with the pages' Content-Security-Policy turned off, so only escaping
// stands between a hostile name and a running script; a dialog that opens
// fails the test.
func TestHostileNamesRunNoScriptInChromium(t *testing.T) {
	t.Parallel()
	c := newChrome(t)
	h := newHostileSite(t)
	dialogs := c.watchDialogs()
	c.bypassCSP()
	// First, that the watch sees a dialog at all: its silence below must
	// mean something.
	c.visit(`data:text/html,<script>alert("probe")</script><p>probe</p>`)
	require.Eventually(t, func() bool { return len(dialogs()) == 1 }, 10*time.Second, 20*time.Millisecond)
	c.signIn(h.site, h.users[account.RoleAdmin])
	for _, path := range []string{
		"/dashboards/sms", "/audience/contacts", "/audience/contacts/{id}", "/channels/sms", "/channels/sms/{id}",
		"/automations", "/automations/{id}", "/automations/{id}/edit", "/outcomes/sms", "/outcomes/sms/messages/{id}",
		"/simulator", "/simulator/handsets/{handset}", "/settings/webhooks/{id}",
	} {
		c.visit(h.url + h.fill(t, path))
		if strings.Contains(path, "handsets") {
			time.Sleep(2500 * time.Millisecond) // the thread polls every 2 s: let it swap once
		}
		c.noInjectedMarkup(path)
	}
	c.signOut()
	c.signIn(h.site, h.users[account.RoleOperator])
	for _, path := range []string{"/operator", "/operator/templates", "/operator/accounts/{id}"} {
		c.visit(h.url + h.fill(t, path))
		c.noInjectedMarkup(path)
	}
	// The public enrollment page shows the program's name and description.
	progs, err := h.app.Accounts.ListPrograms(context.Background(), h.acct)
	require.NoError(t, err)
	c.visit(h.url + "/enroll/" + progs[0].ID)
	c.noInjectedMarkup("/enroll/{program_id}")
	require.Len(t, dialogs(), 1, "a hostile name ran a script: %q", dialogs())
}
