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
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// The handset every simulator test texts, and the account's number.
const (
	simHandset = "+17346263333"
	simSender  = "+18885550100"
)

// simTexted sends the handset a message from the test account and waits
// until the simulator has it, so the handset can answer.
func simTexted(t *testing.T, s *site, name string) string {
	t.Helper()
	tpl := dqsTemplate(t, s, s.acct, "Welcome", "Welcome to Acme Rewards!")
	c := dqsContact(t, s, s.acct, simHandset, name)
	m := dqsSend(t, s, s.acct, c, tpl)
	require.Eventually(t, func() bool { return len(s.app.Sim.Inbox(simHandset)) > 0 }, 15*time.Second, 20*time.Millisecond)
	// The carrier's last report is in too, so the thread has settled: a
	// late status would change it under a test that polls for changes.
	dqsWaitStatus(t, s, s.acct, m.ID, message.Delivered)
	return c
}

// simTurns is the thread's texts as a person reads them, oldest first.
func simTurns(p *page) []string {
	var out []string
	p.doc.Find("#sim-turns .sim-turn").Each(func(_ int, li *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(li.Text()), " "))
	})
	return out
}

func TestSimulatorInboxAndStop(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		c := simTexted(t, s, dqsXSS)

		// Any member of the account sees the handset and its thread.
		viewer := s.as(account.RoleViewer)
		p := viewer.get("/simulator")
		require.Equal(t, http.StatusOK, p.status, p.text())
		link := p.doc.Find("#sim-handsets a")
		require.Equal(t, simHandset, strings.TrimSpace(link.Text()))
		href, _ := link.Attr("href")
		p = viewer.get(href)
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Contains(t, p.doc.Find("#sim-turns").Text(), "Welcome to Acme Rewards!")
		require.Contains(t, p.body, "&lt;script&gt;alert(1)&lt;/script&gt;") // the contact's name
		require.NotContains(t, p.body, "<script>alert(1)")
		poll, _ := p.doc.Find("#sim-thread").Attr("hx-trigger")
		require.Equal(t, "every 2s", poll)

		// An editor texts STOP as the handset: Herald opts the contact out
		// and its confirmation lands in the thread, after the STOP.
		editor := s.as(account.RoleEditor)
		p = editor.get(href)
		to, _ := p.doc.Find("#sim-reply-to option[selected]").Attr("value")
		require.Equal(t, simSender, to)
		p = editor.post("/simulator/handsets/"+simHandset+"/reply", url.Values{"to": {simSender}, "body": {"STOP"}})
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, "/simulator/handsets/"+simHandset, p.url.Path)
		turns := simTurns(p)
		require.Len(t, turns, 3, turns)
		require.Contains(t, turns[1], "Handset → "+simSender)
		require.Contains(t, turns[1], "STOP")
		require.Contains(t, turns[1], "Herald: opted_out")
		require.Contains(t, turns[2], "(answer)")
		require.Equal(t, "opted_out", strings.TrimSpace(p.doc.Find("#sim-contact-preference").Text()))
		got, err := s.app.Contacts.Get(context.Background(), s.acct, c)
		require.NoError(t, err)
		require.Equal(t, consent.OptedOut, got.SMSPreference)

		// JOIN opts back in.
		p = editor.post("/simulator/handsets/"+simHandset+"/reply", url.Values{"to": {simSender}, "body": {"JOIN"}})
		require.Contains(t, simTurns(p)[3], "Herald: opted_in")
		got, err = s.app.Contacts.Get(context.Background(), s.acct, c)
		require.NoError(t, err)
		require.Equal(t, consent.OptedIn, got.SMSPreference)
	})
}

func TestSimulatorThreadPolling(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	simTexted(t, s, "Ava")
	b := s.as(account.RoleViewer)
	p := b.get("/simulator/handsets/" + simHandset)
	poll, _ := p.doc.Find("#sim-thread").Attr("hx-get")

	// Nothing new: 204, and htmx leaves the page alone.
	p = b.htmx(http.MethodGet, poll, nil)
	require.Equal(t, http.StatusNoContent, p.status)

	// A new text: the fragment, with a new version to poll with.
	require.NoError(t, s.app.Sim.Reply(context.Background(), simHandset, simSender, "HELP"))
	p = b.htmx(http.MethodGet, poll, nil)
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, 1, p.doc.Find("#sim-thread").Length())
	require.Zero(t, p.doc.Find("header.top").Length(), "a fragment, not a page")
	require.Contains(t, p.doc.Find("#sim-turns").Text(), "HELP")
	next, _ := p.doc.Find("#sim-thread").Attr("hx-get")
	require.NotEqual(t, poll, next)
	require.Equal(t, http.StatusNoContent, b.htmx(http.MethodGet, next, nil).status)
}

func TestSimulatorReplyRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	simTexted(t, s, "Ava")
	b := s.as(account.RoleEditor)
	b.get("/simulator/handsets/" + simHandset)
	before := len(s.app.Sim.Inbox(simHandset))
	reply := "/simulator/handsets/" + simHandset + "/reply"
	for _, tc := range []struct {
		form        url.Values
		field, says string
	}{
		{url.Values{"to": {simSender}, "body": {"  "}}, "sim-reply-body", "Type the text"},
		{url.Values{"to": {simSender}, "body": {strings.Repeat("a", 1601)}}, "sim-reply-body", "at most 1,600"},
		{url.Values{"to": {"+18885550999"}, "body": {"STOP"}}, "sim-reply-to", "Pick one of the numbers"},
	} {
		p := b.post(reply, tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, p.status, tc.form)
		field := p.doc.Find("#" + tc.field)
		inv, _ := field.Attr("aria-invalid")
		require.Equal(t, "true", inv, tc.form)
		require.Contains(t, p.doc.Find("#"+tc.field+"-error").Text(), tc.says)
		if tc.field == "sim-reply-body" && strings.TrimSpace(tc.form.Get("body")) != "" {
			require.Equal(t, tc.form.Get("body"), field.Text(), "the text typed is kept")
		}
	}
	require.Len(t, s.app.Sim.Inbox(simHandset), before, "nothing reached the handset")

	// A path that is not a number names no handset.
	require.Equal(t, http.StatusNotFound, b.get("/simulator/handsets/not-a-number").status)
	require.Equal(t, http.StatusNotFound, b.post("/simulator/handsets/12345/reply", url.Values{"to": {simSender}, "body": {"HI"}}).status)

	// Opening a handset by its number, typed loosely or badly.
	p := b.get("/simulator/open?handset=" + url.QueryEscape(" +17346263399 "))
	require.Equal(t, "/simulator/handsets/+17346263399", p.url.Path)
	require.Contains(t, p.text(), "No texts yet")
	p = b.get("/simulator/open?handset=555-0001")
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.doc.Find("#sim-open-error").Text(), "+[country code][number]")

	// A viewer reads but does not text.
	viewer := s.as(account.RoleViewer)
	viewer.get("/simulator")
	require.Equal(t, http.StatusForbidden, viewer.post(reply, url.Values{"to": {simSender}, "body": {"STOP"}}).status)
	require.Len(t, s.app.Sim.Inbox(simHandset), before)
}

func TestSimulatorKeepsToItsAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	simTexted(t, s, "Ava")
	otherID, other := dqsOtherAccount(t, s)
	dqsEnableSMS(t, s, otherID, "AC00000000000000000000000000000002", "+18885550199")

	// Another account sees no handset of this one, nor its texts.
	p := other.get("/simulator")
	require.Equal(t, http.StatusOK, p.status)
	require.Zero(t, p.doc.Find("#sim-handsets").Length())
	p = other.get("/simulator/handsets/" + simHandset)
	require.Equal(t, http.StatusOK, p.status)
	require.NotContains(t, p.text(), "Welcome to Acme Rewards!")
	// Its reply form offers only its own number.
	require.Equal(t, []string{"+18885550199"}, p.doc.Find("#sim-reply-to option").Map(func(_ int, o *goquery.Selection) string {
		v, _ := o.Attr("value")
		return v
	}))
	p = other.post("/simulator/handsets/"+simHandset+"/reply", url.Values{"to": {simSender}, "body": {"STOP"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)

	// The operator sees every account's handsets, or one account's.
	op := s.as(account.RoleOperator)
	p = op.get("/simulator")
	require.Equal(t, http.StatusOK, p.status, p.text())
	require.Equal(t, simHandset, strings.TrimSpace(p.doc.Find("#sim-handsets a").Text()))
	require.Equal(t, 3, p.doc.Find("#sim-account option").Length()) // every account, Acme, Globex
	require.Zero(t, op.get("/simulator?account="+otherID).doc.Find("#sim-handsets").Length())
	p = op.get("/simulator?account=" + s.acct)
	href, _ := p.doc.Find("#sim-handsets a").Attr("href")
	require.Equal(t, "/simulator/handsets/"+simHandset+"?account="+s.acct, href)
	require.Equal(t, http.StatusNotFound, op.get("/simulator?account=acct_nope").status)

	// And texts as the handset from the operator's own route.
	p = op.get("/simulator/handsets/" + simHandset)
	action, _ := p.doc.Find("#sim-reply-form").Attr("action")
	require.Equal(t, "/operator/simulator/handsets/"+simHandset+"/reply", action)
	p = op.post(action, url.Values{"to": {simSender}, "body": {"HELP"}})
	require.Equal(t, http.StatusOK, p.status, p.text())
	turns := simTurns(p)
	require.Contains(t, turns[len(turns)-2], "HELP")
	require.Contains(t, turns[len(turns)-2], "Herald: help_sent")

	// A visitor is sent to sign in.
	p = s.browser().get("/simulator")
	require.Equal(t, "/signin", p.url.Path)
}
