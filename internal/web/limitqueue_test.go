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
	"github.com/heraldsms/herald/internal/message"
)

// lqQueued sets the account's monthly limit to limit and stores n messages
// to a contact named name: the first limit go out, the rest wait in the
// limit queue. It returns the queued ones.
func lqQueued(t *testing.T, s *site, limit int64, n int, name string) []*message.Message {
	t.Helper()
	_, err := s.app.Accounts.Configure(context.Background(), s.acct, account.Setup{MonthlyLimit: &limit})
	require.NoError(t, err)
	tpl := dqsTemplate(t, s, s.acct, "Reward ready", "Your reward is ready.")
	c := dqsContact(t, s, s.acct, "+17346263333", name)
	var queued []*message.Message
	for range n {
		m := dqsSend(t, s, s.acct, c, tpl)
		if m.Status == message.LimitQueued {
			queued = append(queued, m)
		}
	}
	require.Len(t, queued, n-int(limit))
	return queued
}

func lqStatus(t *testing.T, s *site, accountID, id string) message.Status {
	t.Helper()
	m, err := s.app.Messages.Get(context.Background(), accountID, id)
	require.NoError(t, err)
	return m.Status
}

func TestLimitQueueShowsUsageAndWaitingMessages(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		queued := lqQueued(t, s, 4, 7, dqsXSS)

		p := s.as(account.RoleAdmin).get("/limit-queue")
		require.Equal(t, http.StatusOK, p.status, p.text())

		// Usage: all 4 of 4 used, every mark passed, shown as a meter and
		// as words.
		meter := p.doc.Find("meter#lq-usage")
		for attr, want := range map[string]string{"min": "0", "max": "4", "value": "4", "low": "2", "high": "3"} {
			got, _ := meter.Attr(attr)
			require.Equal(t, want, got, attr)
		}
		require.Contains(t, p.doc.Find("#lq-usage-text").Text(), "4 of 4 messages used this month (100 %)")
		require.Equal(t, 3, p.doc.Find(".lq-mark.reached").Length())
		label, _ := p.doc.Find(`label[for="lq-usage"]`).Html()
		require.NotEmpty(t, label)

		// The queue: one row per waiting message, each with a labelled box.
		require.Equal(t, "3", strings.TrimSpace(p.doc.Find("#lq-total").Text()))
		require.Equal(t, 3, p.doc.Find("#lq-table tbody tr").Length())
		for _, m := range queued {
			box := p.doc.Find(`input[name="id"][value="` + m.ID + `"]`)
			require.Equal(t, 1, box.Length())
			id, _ := box.Attr("id")
			require.Equal(t, 1, p.doc.Find(`label[for="`+id+`"]`).Length())
		}
		sa, _ := p.doc.Find("#lq-select-all").Attr("data-select-all")
		require.Equal(t, "id", sa)

		// The contact's name is shown escaped.
		require.Contains(t, p.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.NotContains(t, p.body, "<script>alert(1)")
	})
}

func TestLimitQueueSendAndCancelSelected(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		queued := lqQueued(t, s, 1, 6, "Ava")
		b := s.as(account.RoleAdmin)
		b.get("/limit-queue")

		p := b.post("/limit-queue/send", url.Values{"id": {queued[0].ID}})
		require.Equal(t, "/limit-queue", p.url.Path)
		require.Contains(t, p.doc.Find(".notice").Text(), "Sent 1 message to the send queue.")
		require.NotEqual(t, message.LimitQueued, lqStatus(t, s, s.acct, queued[0].ID))

		p = b.post("/limit-queue/cancel", url.Values{"id": {queued[1].ID, queued[2].ID}})
		require.Contains(t, p.doc.Find(".notice").Text(), "Cancelled 2 messages.")
		require.Equal(t, message.Cancelled, lqStatus(t, s, s.acct, queued[1].ID))
		require.Equal(t, message.Cancelled, lqStatus(t, s, s.acct, queued[2].ID))
		require.Equal(t, message.LimitQueued, lqStatus(t, s, s.acct, queued[3].ID))
		require.Equal(t, 2, p.doc.Find("#lq-table tbody tr").Length())

		// htmx sends the token in a header; the ticked boxes still count.
		p = b.htmx(http.MethodPost, "/limit-queue/cancel", url.Values{"id": {queued[3].ID}})
		require.Equal(t, "/limit-queue", p.header.Get("HX-Redirect"))
		require.Equal(t, message.Cancelled, lqStatus(t, s, s.acct, queued[3].ID))
		queued = append(queued[:3], queued[4:]...)

		// A message no longer waiting is counted, not acted on twice.
		p = b.post("/limit-queue/cancel", url.Values{"id": {queued[1].ID}})
		require.Contains(t, p.doc.Find(".notice").Text(), "Cancelled 0 messages; 1 message no longer waiting.")

		// Nothing ticked: the queue again, with what to do, and no change.
		p = b.post("/limit-queue/send", url.Values{})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.doc.Find("#lq-error").Text(), "Tick at least one message")
		require.Equal(t, message.LimitQueued, lqStatus(t, s, s.acct, queued[3].ID))
	})
}

func TestLimitQueueSendAllAsksFirst(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	queued := lqQueued(t, s, 0, 3, "Ava")
	b := s.as(account.RoleAdmin)
	p := b.get("/limit-queue")
	require.Contains(t, p.text(), "monthly limit is 0")

	// "Send all" only asks; nothing moves until the answer.
	p = b.get("/limit-queue/confirm?action=send")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.doc.Find("#lq-confirm").Text(), "Yes, send all 3")
	for _, m := range queued {
		require.Equal(t, message.LimitQueued, lqStatus(t, s, s.acct, m.ID))
	}
	require.Equal(t, http.StatusUnprocessableEntity, b.get("/limit-queue/confirm?action=explode").status)

	action, _ := p.doc.Find("#lq-confirm").Closest("form").Attr("action")
	require.Equal(t, "/limit-queue/send", action)
	p = b.post(action, url.Values{"all": {"true"}})
	require.Contains(t, p.doc.Find(".notice").Text(), "Sent 3 messages to the send queue.")
	for _, m := range queued {
		require.NotEqual(t, message.LimitQueued, lqStatus(t, s, s.acct, m.ID))
	}
	require.Contains(t, p.doc.Find("#lq-empty").Text(), "No messages are waiting")
}

func TestLimitQueueCancelAll(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	queued := lqQueued(t, s, 0, 2, "Ava")
	b := s.as(account.RoleAdmin)
	p := b.get("/limit-queue/confirm?action=cancel")
	require.Contains(t, p.doc.Find("#lq-confirm-text").Text(), "cannot be undone")
	p = b.post("/limit-queue/cancel", url.Values{"all": {"true"}})
	require.Contains(t, p.doc.Find(".notice").Text(), "Cancelled 2 messages.")
	for _, m := range queued {
		require.Equal(t, message.Cancelled, lqStatus(t, s, s.acct, m.ID))
	}
}

func TestLimitQueueKeepsToItsAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t, db.SQLite)
	queued := lqQueued(t, s, 0, 1, "Ava")

	// Another account's admin sees an empty queue and cannot act on this
	// account's message by its id.
	_, other := dqsOtherAccount(t, s)
	p := other.get("/limit-queue")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.text(), "No messages are waiting")
	p = other.post("/limit-queue/cancel", url.Values{"id": {queued[0].ID}})
	require.Contains(t, p.doc.Find(".notice").Text(), "1 message no longer waiting")
	require.Equal(t, message.LimitQueued, lqStatus(t, s, s.acct, queued[0].ID))

	// The queue is for admins: an editor may not see it or act on it.
	editor := s.as(account.RoleEditor)
	require.Equal(t, http.StatusForbidden, editor.get("/limit-queue").status)
	require.Equal(t, http.StatusForbidden, editor.htmx(http.MethodPost, "/limit-queue/send", url.Values{"id": {queued[0].ID}}).status)
	require.Equal(t, message.LimitQueued, lqStatus(t, s, s.acct, queued[0].ID))
}
