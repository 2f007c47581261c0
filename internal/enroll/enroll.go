// Package enroll is the enrollment widget: a hosted sign-up page per
// program, a script that draws the same form on a customer's site, and the
// public endpoint both post to. A submission creates or updates the contact
// (matched by phone within the account); a ticked SMS box records marketing
// consent with its evidence: the disclosure word for word and its version,
// the IP, user agent, page and time. Where the account asks for double
// opt-in, a "Reply Y to confirm" text goes out instead, and the consent is
// recorded only when the Y comes back (see Confirm).
package enroll

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

// Accounts is what enrollment reads of an account.
type Accounts interface {
	Get(ctx context.Context, accountID string) (account.Account, error)
	PublicProgram(ctx context.Context, programID string) (account.Program, error)
	EnrollSettings(ctx context.Context, accountID string) (account.EnrollSettings, error)
}

// Contacts is how enrollment writes contacts and their consent.
type Contacts interface {
	Upsert(ctx context.Context, accountID string, in contact.Input, ch contact.Change) (contact.Contact, bool, error)
	SetPreference(ctx context.Context, accountID, contactID string, pc contact.PreferenceChange) (contact.Contact, error)
}

// Notices sends the double opt-in's confirmation text.
type Notices interface {
	SendNotice(ctx context.Context, n message.Notice) (*message.Message, error)
}

// Service handles enrollments.
type Service struct {
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	accounts Accounts
	contacts Contacts
	notices  Notices
	// ConfirmWithin is how long a "Reply Y" stays open; a later Y is an
	// ordinary reply.
	ConfirmWithin time.Duration
}

// NewService returns a Service.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger, accounts Accounts, contacts Contacts, notices Notices) *Service {
	return &Service{db: d, clock: c, log: log, accounts: accounts, contacts: contacts, notices: notices,
		ConfirmWithin: 7 * 24 * time.Hour}
}

// Page is what a program's form shows.
type Page struct {
	Account    account.Account
	Program    account.Program
	Settings   account.EnrollSettings
	Disclosure Disclosure
}

// Page returns the form of a program, named by its id alone.
func (s *Service) Page(ctx context.Context, programID string) (Page, error) {
	if !id.HasPrefix(programID, id.Program) {
		return Page{}, problem.NotFoundf("no program %q", programID)
	}
	p, err := s.accounts.PublicProgram(ctx, programID)
	if err != nil {
		return Page{}, err
	}
	a, err := s.accounts.Get(ctx, p.AccountID)
	if err != nil {
		return Page{}, err
	}
	e, err := s.accounts.EnrollSettings(ctx, a.ID)
	if err != nil {
		return Page{}, err
	}
	return Page{Account: a, Program: p, Settings: e, Disclosure: NewDisclosure(a, p, e)}, nil
}

// Request is a submitted form and what the server saw of its sender.
type Request struct {
	Form
	IP        string
	UserAgent string
	Referer   string
}

// Outcome is what a submission did.
type Outcome string

// The outcomes.
const (
	Subscribed       Outcome = "subscribed"        // consent recorded
	ConfirmationSent Outcome = "confirmation_sent" // waiting for the Y
	Saved            Outcome = "saved"             // details kept, box not ticked
)

// Result is what the person is told.
type Result struct {
	Outcome Outcome `json:"status"`
	Message string  `json:"message"`
}

// Evidence is what a consent record from the form keeps.
type Evidence struct {
	Disclosure        string    `json:"disclosure"`
	DisclosureVersion string    `json:"disclosure_version"`
	IP                string    `json:"ip"`
	UserAgent         string    `json:"user_agent"`
	Page              string    `json:"page"`
	Time              time.Time `json:"time"`
	ProgramID         string    `json:"program_id"`
	DoubleOptIn       bool      `json:"double_opt_in"`
}

const maxUserAgent = 512

// Submit validates a form, then creates or updates the contact and, when
// the box is ticked, records consent or asks for its confirmation. Nothing
// is written until every field is valid.
func (s *Service) Submit(ctx context.Context, programID string, r Request) (Result, error) {
	pg, err := s.Page(ctx, programID)
	if err != nil {
		return Result{}, err
	}
	chk, inv := check(r.Form, pg.Account)
	if inv != nil {
		return Result{}, inv
	}
	double := r.OptIn && pg.Settings.DoubleOptIn
	if r.OptIn && r.DisclosureVersion != "" && r.DisclosureVersion != pg.Disclosure.Version() {
		return Result{}, problem.Conflictf("disclosure_changed", "sms_opt_in",
			"The text message terms on this form have changed. Please read them again and resubmit.")
	}
	if double && !pg.Account.SMSEnabled {
		return Result{}, unavailable()
	}
	c, err := s.upsert(ctx, pg, chk)
	if err != nil {
		return Result{}, err
	}
	if !r.OptIn {
		return Result{Saved, "Thanks, " + chk.first + "! Your details are saved. You won't get texts unless you tick the box."}, nil
	}
	ev := Evidence{Disclosure: pg.Disclosure.Text(), DisclosureVersion: pg.Disclosure.Version(), IP: r.IP,
		UserAgent: truncate(r.UserAgent, maxUserAgent), Page: pageOf(r.Page, r.Referer), Time: s.clock.Now(),
		ProgramID: pg.Program.ID, DoubleOptIn: double}
	raw, err := json.Marshal(ev)
	if err != nil {
		return Result{}, err
	}
	if double {
		return s.askToConfirm(ctx, pg, c, raw)
	}
	_, err = s.contacts.SetPreference(ctx, pg.Account.ID, c.ID, contact.PreferenceChange{Preference: consent.OptedIn,
		Kind: consent.Marketing, Change: contact.Change{Source: consent.SourceWidget, Actor: "visitor", Evidence: raw}})
	if err != nil {
		return Result{}, err
	}
	return Result{Subscribed, "Thanks, " + chk.first + "! You're subscribed to texts from " + pg.Account.Brand() +
		". Reply STOP at any time to opt out."}, nil
}

// upsert creates or updates the contact the phone names. An empty email
// leaves a known one as it is.
func (s *Service) upsert(ctx context.Context, pg Page, chk checked) (contact.Contact, error) {
	e164 := chk.number.E164
	in := contact.Input{Phone: &e164, FirstName: &chk.first, LastName: &chk.last}
	if chk.email != "" {
		in.Email = &chk.email
	}
	c, _, err := s.contacts.Upsert(ctx, pg.Account.ID, in, contact.Change{Source: consent.SourceWidget, Actor: "visitor"})
	return c, err
}

func unavailable() error {
	return problem.New(problem.Unavailable, "texts_unavailable", "",
		"We can't send text messages for this program right now, so we can't confirm your subscription. Please try again later.")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 { // do not cut a UTF-8 sequence in two
		n--
	}
	return s[:n]
}
