package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

// The SMS Limit Queue: messages past the account's monthly limit wait here
// until an admin sends or cancels them. The page calls the same message
// service methods as the API's /limit-queue routes.
func (s *Server) limitQueuePages() []page {
	return []page{
		{"GET", "/limit-queue", admin, s.limitQueue},
		{"GET", "/limit-queue/confirm", admin, s.confirmLimitQueue},
		{"POST", "/limit-queue/send", admin, s.actOnLimitQueue(true)},
		{"POST", "/limit-queue/cancel", admin, s.actOnLimitQueue(false)},
	}
}

// lqData is the limit queue page.
type lqData struct {
	Usage message.Usage
	Meter lqMeter
	Rows  []lqRow
	// Total is how many messages wait, over every page.
	Total int
	Pager lqPager
	// Error says why the last action did nothing; Selected keeps the
	// boxes that were ticked.
	Error    string
	Selected map[string]bool
}

// lqPager is what the shared "pager" partial reads.
type lqPager struct {
	Next, Path string
	Query      url.Values
}

// lqRow is one queued message with the names a person recognises.
type lqRow struct {
	M        *message.Message
	Contact  string
	Template string
}

// lqMeter draws the month's usage: a <meter> whose low and high are the 50
// and 80 % marks, and the three marks with whether each is passed.
type lqMeter struct {
	Max, Value, Low, High int64
	// Used and Limit are the figures as people read them: 12,345.
	Used, Limit string
	Marks       []lqMark
}

type lqMark struct {
	Percent int
	Reached bool
}

// lqMarks are the usage marks an account is told about.
var lqMarks = []int{50, 80, 100}

func newLQMeter(u message.Usage) lqMeter {
	m := lqMeter{Max: u.Limit, Value: min(u.Used, u.Limit), Low: u.Limit * 50 / 100, High: u.Limit * 80 / 100,
		Used: dashCount(u.Used), Limit: dashCount(u.Limit)}
	for _, p := range lqMarks {
		m.Marks = append(m.Marks, lqMark{Percent: p, Reached: u.Limit > 0 && u.Used*100 >= int64(p)*u.Limit})
	}
	return m
}

func (s *Server) limitQueue(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := s.limitQueueData(r, v)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "limitqueue", v, d)
}

// limitQueueData reads the usage and one page of the queue, oldest last as
// the API lists them (newest first).
func (s *Server) limitQueueData(r *http.Request, v *view) (lqData, error) {
	v.Section, v.Title = "limit-queue", "SMS Limit Queue"
	ctx, a := r.Context(), *v.Account
	u, err := s.Messages.UsageOf(ctx, a)
	if err != nil {
		return lqData{}, err
	}
	q := r.URL.Query()
	q.Set("status", string(message.LimitQueued))
	f, err := message.ParseFilter(q.Get)
	if err != nil {
		return lqData{}, err
	}
	page, err := s.Messages.List(ctx, a.ID, f)
	if err != nil {
		return lqData{}, err
	}
	counts, err := s.Messages.CountOutcomes(ctx, a.ID, message.Filter{Statuses: []message.Status{message.LimitQueued}})
	if err != nil {
		return lqData{}, err
	}
	rows, err := s.lqRows(ctx, a.ID, page.Data)
	if err != nil {
		return lqData{}, err
	}
	return lqData{Usage: u, Meter: newLQMeter(u), Rows: rows, Total: counts[string(message.LimitQueued)],
		Pager: lqPager{Next: page.NextCursor, Path: "/limit-queue", Query: v.Query}, Selected: map[string]bool{}}, nil
}

// lqRows names each message's contact and template.
func (s *Server) lqRows(ctx context.Context, accountID string, msgs []*message.Message) ([]lqRow, error) {
	var contactIDs []string
	templates := map[string]string{}
	for _, m := range msgs {
		if m.ContactID != nil {
			contactIDs = append(contactIDs, *m.ContactID)
		}
		if m.TemplateID != nil {
			templates[*m.TemplateID] = ""
		}
	}
	contacts, err := s.Contacts.GetMany(ctx, accountID, contactIDs)
	if err != nil {
		return nil, err
	}
	for id := range templates {
		t, err := s.Templates.Get(ctx, accountID, id)
		if err != nil && !problem.Is(err, problem.NotFound) {
			return nil, err
		}
		templates[id] = t.Name
	}
	rows := make([]lqRow, len(msgs))
	for i, m := range msgs {
		rows[i] = lqRow{M: m}
		if m.ContactID != nil {
			c := contacts[*m.ContactID]
			rows[i].Contact = strings.TrimSpace(c.FirstName + " " + c.LastName)
		}
		if m.TemplateID != nil {
			rows[i].Template = templates[*m.TemplateID]
		}
	}
	return rows, nil
}

// lqConfirmData is the page that asks before acting on the whole queue.
type lqConfirmData struct {
	Send  bool
	Total int
}

// confirmLimitQueue asks before sending or cancelling every queued
// message: one click must not spend a month's allowance or drop a
// campaign. It is a page of its own, so it works without JavaScript.
func (s *Server) confirmLimitQueue(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "limit-queue", "SMS Limit Queue"
	var send bool
	switch r.URL.Query().Get("action") {
	case "send":
		send = true
	case "cancel":
	default:
		return problem.Invalidf("invalid_action", "action", "action must be send or cancel")
	}
	counts, err := s.Messages.CountOutcomes(r.Context(), v.Principal.AccountID,
		message.Filter{Statuses: []message.Status{message.LimitQueued}})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "limitqueue_confirm", v, lqConfirmData{Send: send, Total: counts[string(message.LimitQueued)]})
}

// actOnLimitQueue sends or cancels the ticked messages, or all of them
// when the confirmation page says so.
func (s *Server) actOnLimitQueue(send bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, v *view) error {
		act := s.Messages.CancelQueued
		if send {
			act = s.Messages.ReleaseQueued
		}
		if err := r.ParseForm(); err != nil {
			return problem.New(problem.Malformed, "malformed_form", "", "the form could not be read; reload the page and try again")
		}
		ids, all := r.PostForm["id"], r.PostForm.Get("all") == "true"
		if all {
			ids = nil
		}
		res, err := act(r.Context(), v.Principal.AccountID, ids, all)
		if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
			return s.limitQueueRefused(w, r, v, ids, lqRefusal(p))
		}
		if err != nil {
			return err
		}
		s.notice(w, r, lqNotice(res, send))
		redirect(w, r, "/limit-queue")
		return nil
	}
}

// limitQueueRefused shows the queue again with the boxes still ticked and
// what to do about it.
func (s *Server) limitQueueRefused(w http.ResponseWriter, r *http.Request, v *view, ids []string, msg string) error {
	d, err := s.limitQueueData(r, v)
	if err != nil {
		return err
	}
	d.Error = msg
	for _, id := range ids {
		d.Selected[id] = true
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "limitqueue", v, d)
}

func lqRefusal(p *problem.Error) string {
	if p.Code == "required" {
		return "Tick at least one message, then choose Send selected or Cancel selected."
	}
	return p.Message
}

// lqNotice says what an action did, in a marketer's words.
func lqNotice(res message.QueueResult, send bool) string {
	var parts []string
	if send {
		parts = append(parts, fmt.Sprintf("Sent %s to the send queue", lqMessages(res.Released)))
		if res.Skipped > 0 {
			parts = append(parts, fmt.Sprintf("%s skipped: the contact may no longer receive it", lqMessages(res.Skipped)))
		}
	} else {
		parts = append(parts, fmt.Sprintf("Cancelled %s", lqMessages(res.Cancelled)))
	}
	if res.NotQueued > 0 {
		parts = append(parts, fmt.Sprintf("%s no longer waiting", lqMessages(res.NotQueued)))
	}
	return strings.Join(parts, "; ") + "."
}

func lqMessages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}
