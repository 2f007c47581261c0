package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// Template is an approved template version, ready to render.
type Template struct {
	ID, VersionID string
	Kind          Kind
	Compiled      *msgtemplate.Compiled
}

// Templates finds the approved version of a template.
type Templates interface {
	Approved(ctx context.Context, accountID, templateID string) (Template, error)
}

// Accounts is what the message service reads of an account.
type Accounts interface {
	Get(ctx context.Context, accountID string) (account.Account, error)
	Numbers(ctx context.Context, accountID string) ([]account.Number, error)
	GetProgram(ctx context.Context, accountID, programID string) (account.Program, error)
}

// Contacts is what the message service reads of contacts.
type Contacts interface {
	Get(ctx context.Context, accountID, contactID string) (contact.Contact, error)
	GetByExternalID(ctx context.Context, accountID, externalID string) (contact.Contact, error)
	GetMany(ctx context.Context, accountID string, ids []string) (map[string]contact.Contact, error)
}

// Waker is told when a number has new messages to send, so a dispatcher
// need not wait for its next poll.
type Waker interface{ Wake(numberID string) }

// DueWaker is a Waker that is also told when a number's earliest scheduled
// message falls due, so it can move it to the queue on time without
// looking for due messages on every poll.
type DueWaker interface {
	Waker
	WakeAt(numberID string, due time.Time)
}

// Service makes messages and moves them through their life.
type Service struct {
	db        *db.DB
	clock     clock.Clock
	log       *slog.Logger
	accounts  Accounts
	contacts  Contacts
	templates Templates
	waker     Waker
	actions   CarrierActions
	groups    Groups
	accept    *db.Merged[*admission]
	reports   *db.Merged[*report]
	awaited   awaited
	sent      recentSends
	// OnMark is called after a reservation crosses a usage mark (50, 80,
	// 100 %), once per month; webhooks hang off it.
	OnMark func(ctx context.Context, accountID string, mark int)
	// OnOutcome is called after a message reaches an outcome a customer's
	// systems hear of: delivered, undelivered, failed, skipped or
	// limit_queued. It runs after the change is committed.
	OnOutcome func(ctx context.Context, m *Message)
}

// notify tells OnOutcome of messages whose status it reports.
func (s *Service) notify(ctx context.Context, msgs ...*Message) {
	if s.OnOutcome == nil {
		return
	}
	for _, m := range msgs {
		switch m.Status {
		case Delivered, Undelivered, Failed, Skipped, LimitQueued:
			s.OnOutcome(ctx, m)
		}
	}
}

// NewService returns a Service.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger, accounts Accounts, contacts Contacts, templates Templates) *Service {
	s := &Service{db: d, clock: c, log: log, accounts: accounts, contacts: contacts, templates: templates}
	s.SetGroups(Groups{})
	return s
}

// Groups are the group committers the service writes through: a burst of
// writes pays for one commit instead of one each, and on SQLite they stop
// queueing for the writer one by one. Accept takes new messages, Dispatch
// the dispatcher's claims and send results, Reports the carrier's status
// reports. They may be one group; on PostgreSQL, where transactions commit
// in parallel, three let each kind of work go at its own pace.
type Groups struct {
	Accept, Dispatch, Reports *db.Group
}

// SetGroups makes the service commit in groups; a nil group leaves that
// kind of work in transactions of its own.
func (s *Service) SetGroups(g Groups) {
	s.groups = g
	s.accept = db.NewMerged(s.db, g.Accept, s.admitAll)
	s.reports = db.NewMerged(s.db, g.Reports, s.applyReports)
}

// write runs fn in a transaction of its own, or in a shared one of g when
// the service commits in groups.
func (s *Service) write(ctx context.Context, g *db.Group, fn func(tx *sql.Tx) error) error {
	if g != nil {
		return g.Do(ctx, fn)
	}
	return s.db.InTx(ctx, fn)
}

// SetWaker connects the dispatcher, which is built after the service.
func (s *Service) SetWaker(w Waker) { s.waker = w }

// Request asks for one message to one contact.
type Request struct {
	ContactID  string
	ExternalID string
	TemplateID string
	// Kind defaults to the template's kind.
	Kind Kind
	// Data fills {{event.data.x}} and the event-backed tags.
	Data      map[string]any
	ProgramID string
	// Automation context; DedupeKey makes a repeat a no-op.
	AutomationID, EventID, DedupeKey string
	Step                             *int
	// Quiet turns a missing merge value into a skipped message instead of
	// an error, for automations: their caller is not there to fix it.
	Quiet bool
}

// Create renders and stores a message: skipped (an audience rule, or the
// frequency cap for marketing), limit-queued, scheduled (marketing outside
// the recipient's sending window) or queued.
func (s *Service) Create(ctx context.Context, accountID string, r Request) (*Message, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if !a.SMSEnabled {
		return nil, problem.Invalidf(ReasonSMSNotEnabled, "", "SMS is not enabled for this account; the operator enables it")
	}
	c, err := s.findContact(ctx, accountID, r)
	if err != nil {
		return nil, err
	}
	m, err := s.render(ctx, a, &c, r, &lookups{s: s})
	if err != nil {
		return nil, err
	}
	if m.Status == "" {
		if reason := Skip(a, m.Kind, &c, true, ""); reason != "" {
			m.Status, m.Reason = Skipped, reason
		}
	}
	planWindow(a, &c, m, s.clock.Now())
	if err := s.store(ctx, a, m); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) findContact(ctx context.Context, accountID string, r Request) (contact.Contact, error) {
	switch {
	case r.ContactID != "":
		return s.contacts.Get(ctx, accountID, r.ContactID)
	case r.ExternalID != "":
		return s.contacts.GetByExternalID(ctx, accountID, r.ExternalID)
	}
	return contact.Contact{}, problem.Invalidf("required", "contact_id", "name the contact by contact_id or external_id")
}

// render makes the message row: the body rendered once from the approved
// version, with its encoding and segments, and the sender number.
func (s *Service) render(ctx context.Context, a account.Account, c *contact.Contact, r Request, lk *lookups) (*Message, error) {
	tpl, kind, err := lk.template(ctx, a.ID, r)
	if err != nil {
		return nil, err
	}
	values := msgtemplate.Values{FirstName: c.FirstName, LastName: c.LastName, Brand: a.Brand(),
		Attributes: c.Attributes, EventData: r.Data}
	m := &Message{ID: id.New(id.Message), AccountID: a.ID, ContactID: &c.ID, To: c.E164(), Kind: kind,
		TemplateID: &tpl.ID, VersionID: &tpl.VersionID, Step: r.Step, Encoding: string(segment.GSM7)}
	if r.ProgramID != "" {
		p, err := lk.program(ctx, a.ID, r.ProgramID)
		if err != nil {
			return nil, err
		}
		values.ProgramName, m.ProgramID = p.Name, &p.ID
	}
	setOpt(&m.AutomationID, r.AutomationID)
	setOpt(&m.EventID, r.EventID)
	setOpt(&m.DedupeKey, r.DedupeKey)
	body, err := tpl.Compiled.Render(values)
	var missing *msgtemplate.MissingValueError
	switch {
	case errors.As(err, &missing) && r.Quiet:
		m.Status, m.Reason = Skipped, ReasonMissingValue+": "+strings.Join(missing.Tags, ", ")
	case errors.As(err, &missing):
		e := problem.Invalidf(ReasonMissingValue, "data", "no value for %s and the template gives no fallback", strings.Join(missing.Tags, ", "))
		e.Detail = map[string]any{"tags": missing.Tags}
		return nil, e
	case err != nil:
		return nil, fmt.Errorf("message: render: %w", err)
	}
	m.Body = body
	info := segment.Count(body)
	m.Encoding, m.Segments = string(info.Encoding), info.Segments
	// The template is within the limits; its merge values may not be.
	if err := msgtemplate.CheckLength(info, "data"); err != nil {
		pe, ok := problem.As(err)
		if !r.Quiet || !ok {
			return nil, err
		}
		m.Status, m.Reason = Skipped, pe.Code // body_too_long or body_too_many_segments
	}
	if err := lk.number(ctx, a, m); err != nil {
		return nil, err
	}
	return m, nil
}

func setOpt(dst **string, v string) {
	if v != "" {
		*dst = &v
	}
}

// pickNumber chooses the sender number for the message's kind (see
// lookups.number).
func (s *Service) pickNumber(ctx context.Context, a account.Account, m *Message) error {
	return (&lookups{s: s}).number(ctx, a, m)
}

// store writes a new message in one transaction with its reservation
// against the monthly limit and, for marketing, its frequency cap, and
// wakes the number's dispatcher. A message whose NextAttempt is set waits
// until then (see planWindow). With a group, the messages that arrive
// together are admitted and inserted with one set of statements.
func (s *Service) store(ctx context.Context, a account.Account, m *Message) error {
	now := s.clock.Now()
	m.CreatedAt, m.UpdatedAt = now, now
	if m.NextAttempt.IsZero() {
		m.NextAttempt = now
	}
	in := &admission{account: a, msg: m, admit: m.Status == ""}
	err := s.accept.Do(ctx, in)
	if db.IsUniqueViolation(err) && m.DedupeKey != nil {
		return problem.Conflictf("duplicate", "", "this automation step already made a message for this event and contact")
	}
	if err != nil {
		return err
	}
	s.afterStore(ctx, a.ID, []*Message{m}, in.mark)
	return nil
}

// admission is one new message on its way in.
type admission struct {
	account account.Account
	msg     *Message
	// admit says the message still faces the frequency cap and the monthly
	// limit (it is not skipped already).
	admit bool
	// mark is set on one message of each account whose reservations
	// crossed a usage mark, so that it is announced once.
	mark int
}

// admitAll reserves the monthly allowance for new messages, account by
// account, and inserts them all. It can run again on the same messages
// (the group retries items alone when a batch fails), so it starts each
// from the status it came with.
func (s *Service) admitAll(ctx context.Context, tx *sql.Tx, ins []*admission) ([]error, error) {
	now := s.clock.Now()
	var order []string
	byAccount := map[string][]*admission{}
	msgs := make([]*Message, len(ins))
	for i, in := range ins {
		in.mark = 0
		if in.admit {
			in.msg.Status, in.msg.Reason, in.msg.Reserved = "", "", false
		}
		msgs[i] = in.msg
		id := in.account.ID
		if byAccount[id] == nil {
			order = append(order, id)
		}
		byAccount[id] = append(byAccount[id], in)
	}
	for _, id := range order {
		group := byAccount[id]
		var admitted []*Message
		for _, in := range group {
			if in.admit {
				admitted = append(admitted, in.msg)
			}
		}
		mark, err := s.admit(ctx, tx, group[0].account, admitted, now)
		if err != nil {
			return nil, err
		}
		group[0].mark = mark
	}
	if err := insertMessages(ctx, s.db, tx, msgs); err != nil {
		return nil, err
	}
	return make([]error, len(ins)), nil
}

// storeUnreserved writes a message that does not count against the
// monthly limit (a Send Test).
func (s *Service) storeUnreserved(ctx context.Context, m *Message) error {
	now := s.clock.Now()
	m.CreatedAt, m.UpdatedAt, m.NextAttempt = now, now, now
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return insertMessages(ctx, s.db, tx, []*Message{m}) }); err != nil {
		return err
	}
	s.afterStore(ctx, m.AccountID, []*Message{m}, 0)
	return nil
}

// afterStore tells OnOutcome of new messages, wakes each number's
// dispatcher once (for messages to send now, or to note when scheduled
// ones fall due) and announces a usage mark.
func (s *Service) afterStore(ctx context.Context, accountID string, msgs []*Message, mark int) {
	s.notify(ctx, msgs...)
	woken := map[string]bool{}
	due := map[string]time.Time{}
	for _, m := range msgs {
		switch {
		case m.NumberID == nil:
		case m.Status == Queued:
			woken[*m.NumberID] = true
		case m.Status == Scheduled:
			if t, ok := due[*m.NumberID]; !ok || m.NextAttempt.Before(t) {
				due[*m.NumberID] = m.NextAttempt
			}
		}
	}
	s.wake(woken, due)
	if mark > 0 && s.OnMark != nil {
		s.OnMark(ctx, accountID, mark)
	}
}

// wake tells the dispatcher which numbers have messages to send now and
// when the earliest scheduled message of others falls due.
func (s *Service) wake(now map[string]bool, due map[string]time.Time) {
	if s.waker == nil {
		return
	}
	for n := range now {
		s.waker.Wake(n)
	}
	if dw, ok := s.waker.(DueWaker); ok {
		for n, t := range due {
			dw.WakeAt(n, t)
		}
	}
}

// Get returns a message with its transaction log.
func (s *Service) Get(ctx context.Context, accountID, messageID string) (*Message, error) {
	m, err := getMessage(ctx, s.db.Read(), accountID, messageID)
	if errors.Is(err, errNoMessage) {
		return nil, problem.NotFoundf("no message %q", messageID)
	}
	if err != nil {
		return nil, err
	}
	if m.History, err = history(ctx, s.db.Read(), accountID, messageID); err != nil {
		return nil, err
	}
	return m, nil
}

// TemplateSource gives the message service the approved versions kept by
// the template service. The template service sends its tests through the
// message service, so one is built first and Templates is set after.
type TemplateSource struct {
	Templates *msgtemplate.Service
}

// Approved returns the approved version of a template, ready to render.
func (t *TemplateSource) Approved(ctx context.Context, accountID, templateID string) (Template, error) {
	s, err := t.Templates.Sendable(ctx, accountID, templateID)
	if err != nil {
		return Template{}, err
	}
	return Template{ID: s.TemplateID, VersionID: s.VersionID, Kind: Kind(s.Kind), Compiled: s.Compiled}, nil
}
