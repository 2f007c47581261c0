package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// outcomePages are Communication Outcomes → SMS: the log of what happened
// to every message, and one message's whole life.
func (s *Server) outcomePages() []page {
	return []page{
		{"GET", "/outcomes/sms", viewer, s.outcomes},
		{"GET", "/outcomes/sms/messages/{id}", viewer, s.messageDetail},
	}
}

// selectOption is one choice of a <select>.
type selectOption struct{ Value, Label string }

// listPager is what the "pager" partial reads.
type listPager struct {
	Next, Path string
	Query      url.Values
}

// outcomeFilter is the outcome log's filter form, as typed.
type outcomeFilter struct {
	Status, Kind, TemplateID, ProgramID, AutomationID, ErrorCode, From, To string
	// ContactID narrows the log to one contact, from the contact's page.
	ContactID string
}

type outcomeTile struct {
	Status  string
	Count   int
	Current bool
}

type outcomeRow struct {
	M                    *message.Message
	Outcome              string
	Template, Automation string
}

type outcomesData struct {
	Filter      outcomeFilter
	Errors      map[string]string
	Tiles       []outcomeTile
	Total       int
	Rows        []outcomeRow
	Pager       listPager
	Templates   []selectOption
	Programs    []selectOption
	Automations []selectOption
	Kinds       []string
	Statuses    []string
}

// outcomes is the log: filters, counts by outcome for the filter (status
// aside, so every tile stays a way in), and one page of messages.
func (s *Server) outcomes(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "outcomes", "Communication Outcomes · SMS"
	q := r.URL.Query()
	in := outcomeFilter{Status: q.Get("status"), Kind: q.Get("kind"), TemplateID: q.Get("template_id"),
		ProgramID: q.Get("program_id"), AutomationID: q.Get("automation_id"), ErrorCode: strings.TrimSpace(q.Get("error_code")),
		From: q.Get("from"), To: q.Get("to"), ContactID: q.Get("contact_id")}
	d := outcomesData{Filter: in, Errors: map[string]string{}, Pager: listPager{Path: v.Path, Query: q},
		Kinds: []string{"transactional", "marketing", "test", "reply"}, Statuses: message.OutcomeStatuses}
	if err := s.outcomeChoices(r.Context(), v.Principal.AccountID, &d); err != nil {
		return err
	}
	f, err := in.parse(q.Get("cursor"), v.Account.Location())
	if err != nil {
		p, ok := problem.As(err)
		if !ok || p.Kind != problem.Invalid {
			return err
		}
		d.Errors[p.Field] = p.Message
		return s.render(w, r, http.StatusUnprocessableEntity, "outcomes", v, d)
	}
	all := f
	all.Statuses = nil
	counts, err := s.Messages.CountOutcomes(r.Context(), v.Principal.AccountID, all)
	if err != nil {
		return err
	}
	for _, st := range message.OutcomeStatuses {
		d.Tiles = append(d.Tiles, outcomeTile{Status: st, Count: counts[st], Current: st == in.Status})
		d.Total += counts[st]
	}
	page, err := s.Messages.List(r.Context(), v.Principal.AccountID, f)
	if err != nil {
		return err
	}
	names := optionNames(d.Templates, d.Automations)
	for _, m := range page.Data {
		row := outcomeRow{M: m, Outcome: message.OutcomeStatus(m.Status)}
		if m.TemplateID != nil {
			row.Template = orID(names[*m.TemplateID], *m.TemplateID)
		}
		if m.AutomationID != nil {
			row.Automation = orID(names[*m.AutomationID], *m.AutomationID)
		}
		d.Rows = append(d.Rows, row)
	}
	d.Pager.Next = page.NextCursor
	return s.render(w, r, http.StatusOK, "outcomes", v, d)
}

// parse turns the typed filter into a message filter. Dates are whole days
// in the account's time zone, as on the dashboard, "to" included.
func (in outcomeFilter) parse(cursor string, zone *time.Location) (message.Filter, error) {
	vals := map[string]string{"kind": in.Kind, "template_id": in.TemplateID, "program_id": in.ProgramID,
		"automation_id": in.AutomationID, "error_code": in.ErrorCode, "contact_id": in.ContactID, "cursor": cursor}
	if in.Status != "" {
		sts := message.StatusesOfOutcome(in.Status)
		if sts == nil {
			return message.Filter{}, problem.Invalidf("invalid_status", "status", "choose one of the outcome statuses")
		}
		list := make([]string, len(sts))
		for i, st := range sts {
			list[i] = string(st)
		}
		vals["status"] = strings.Join(list, ",")
	}
	for _, d := range []struct {
		name, value string
		days        int
	}{{"from", in.From, 0}, {"to", in.To, 1}} {
		if d.value == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, d.value, zone)
		if err != nil {
			return message.Filter{}, problem.Invalidf("invalid_date", d.name, "give a date such as 2026-11-01")
		}
		vals[d.name] = day.AddDate(0, 0, d.days).UTC().Format(time.RFC3339)
	}
	f, err := message.ParseFilter(func(k string) string { return vals[k] })
	if err == nil && !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, problem.Invalidf("invalid_date_range", "to", "the end date comes before the start date")
	}
	return f, err
}

// outcomeChoices fills the filter's pickers with the account's templates,
// programs and automations.
func (s *Server) outcomeChoices(ctx context.Context, accountID string, d *outcomesData) error {
	tpls, err := s.allTemplates(ctx, accountID)
	if err != nil {
		return err
	}
	for _, t := range tpls {
		d.Templates = append(d.Templates, selectOption{t.ID, t.Name})
	}
	if d.Programs, err = s.programOptions(ctx, accountID); err != nil {
		return err
	}
	autos, err := s.Automations.List(ctx, accountID)
	if err != nil {
		return err
	}
	for _, a := range autos {
		d.Automations = append(d.Automations, selectOption{a.ID, a.Name})
	}
	return nil
}

// maxTemplatePages bounds how many pages of templates a picker reads
// (500 each); an account with more picks the rest by link.
const maxTemplatePages = 10

// allTemplates lists an account's templates that are not archived.
func (s *Server) allTemplates(ctx context.Context, accountID string) ([]msgtemplate.Template, error) {
	var out []msgtemplate.Template
	f := msgtemplate.Filter{Limit: 500}
	for range maxTemplatePages {
		page, err := s.Templates.List(ctx, accountID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Data...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	return out, nil
}

func (s *Server) programOptions(ctx context.Context, accountID string) ([]selectOption, error) {
	progs, err := s.Accounts.ListPrograms(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]selectOption, 0, len(progs))
	for _, p := range progs {
		out = append(out, selectOption{p.ID, p.Name})
	}
	return out, nil
}

// optionNames maps ids to labels over several pickers.
func optionNames(lists ...[]selectOption) map[string]string {
	m := map[string]string{}
	for _, l := range lists {
		for _, o := range l {
			m[o.Value] = o.Label
		}
	}
	return m
}

func orID(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

type messageData struct {
	M          *message.Message
	History    []messageEvent
	Outcome    string
	Contact    *contact.Contact
	Template   string
	Automation *automation.Automation
}

// messageEvent is one status change, its time to the millisecond: a
// message is often sent and delivered within the same second.
type messageEvent struct {
	message.Event
	At string
}

// messageDetail is the transaction-level view of one message: what was
// sent, how it was encoded, and every status it has had.
func (s *Server) messageDetail(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx, acct := r.Context(), v.Principal.AccountID
	m, err := s.Messages.Get(ctx, acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	v.Section, v.Title = "outcomes", "Message "+m.ID
	d := messageData{M: m, Outcome: message.OutcomeStatus(m.Status)}
	for _, e := range m.History {
		d.History = append(d.History, messageEvent{Event: e, At: e.OccurredAt.UTC().Format("2006-01-02 15:04:05.000")})
	}
	if m.ContactID != nil {
		c, err := s.Contacts.Get(ctx, acct, *m.ContactID)
		if err != nil && !problem.Is(err, problem.NotFound) {
			return err
		}
		if err == nil {
			d.Contact = &c
		}
	}
	if m.TemplateID != nil {
		d.Template = *m.TemplateID
		t, err := s.Templates.Get(ctx, acct, *m.TemplateID)
		if err != nil && !problem.Is(err, problem.NotFound) {
			return err
		}
		if err == nil {
			d.Template = t.Name
		}
	}
	if m.AutomationID != nil {
		a, err := s.Automations.Get(ctx, acct, *m.AutomationID)
		if err != nil && !problem.Is(err, problem.NotFound) {
			return err
		}
		if err == nil {
			d.Automation = &a
		}
	}
	return s.render(w, r, http.StatusOK, "outcome_message", v, d)
}
