// Package inbound handles replies from handsets: every one is stored with
// what it was classified as and what Herald did about it. Opt-out words
// (and any reasonable way of saying stop) opt the contact out and are
// confirmed once; opt-in words opt an existing contact back in; HELP is
// answered with the account's help text; a reply that may mean stop is
// flagged for a person to review, never silently ignored.
package inbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
)

// Actions Herald takes on a reply.
const (
	ActionOptedOut       = "opted_out"
	ActionOptedIn        = "opted_in"
	ActionAlreadyOut     = "already_opted_out"
	ActionAlreadyIn      = "already_opted_in"
	ActionHelp           = "help_sent"
	ActionReview         = "flagged_for_review"
	ActionUnknownContact = "unknown_contact"
	ActionConfirmed      = "opt_in_confirmed" // a Y that confirmed a double opt-in
	ActionNone           = "none"
)

// Message is one stored reply.
type Message struct {
	ID          string    `json:"id"`
	ContactID   *string   `json:"contact_id"`
	CarrierID   string    `json:"carrier_id"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Body        string    `json:"body"`
	Intent      string    `json:"intent"`
	Rule        string    `json:"rule"`
	Keyword     string    `json:"keyword,omitempty"`
	Action      string    `json:"action"`
	Reply       string    `json:"reply,omitempty"`
	NeedsReview bool      `json:"needs_review"`
	ReceivedAt  time.Time `json:"received_at"`
}

// Reply is a text as the carrier delivered it to Herald.
type Reply struct {
	CarrierID, From, To, Body string
	// CarrierHandled is set when the carrier acted on the keyword itself
	// (Twilio Advanced Opt-Out): Herald records the change and sends no
	// second confirmation.
	CarrierHandled bool
}

// Accounts is what the inbound service reads of an account.
type Accounts interface {
	Numbers(ctx context.Context, accountID string) ([]account.Number, error)
	SplitConsent(ctx context.Context, accountID string) (bool, error)
	Replies(ctx context.Context, accountID string) (account.Replies, error)
}

// Contacts is how the inbound service finds and changes contacts.
type Contacts interface {
	FindByPhone(ctx context.Context, accountID, e164 string) (contact.Contact, error)
	SetPreference(ctx context.Context, accountID, contactID string, pc contact.PreferenceChange) (contact.Contact, error)
}

// Confirmer settles a double opt-in (package enroll): when a contact's
// reply confirms an enrollment that waits for it, Confirm records the
// opt-in and reports ok; otherwise the reply is handled as any other.
type Confirmer interface {
	Confirm(ctx context.Context, accountID string, c contact.Contact, body, inboundID string) (contact.Contact, bool, error)
}

// Service handles replies.
type Service struct {
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	accounts Accounts
	contacts Contacts
	// Confirmer settles double opt-ins; nil when there are none to settle.
	Confirmer Confirmer
	// OnPreference and OnReceived let webhooks hear of what happened.
	OnPreference func(ctx context.Context, accountID string, c contact.Contact, to consent.Preference)
	OnReceived   func(ctx context.Context, accountID string, m Message)
}

// NewService returns a Service.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger, accounts Accounts, contacts Contacts) *Service {
	return &Service{db: d, clock: c, log: log, accounts: accounts, contacts: contacts}
}

// Handle stores a reply, acts on it and returns the text to answer with
// ("" for none). A repeat of a reply the carrier already delivered is not
// acted on twice.
func (s *Service) Handle(ctx context.Context, a account.Account, r Reply) (Message, error) {
	num, err := s.number(ctx, a.ID, r.To)
	if err != nil {
		return Message{}, err
	}
	replies, err := s.accounts.Replies(ctx, a.ID)
	if err != nil {
		return Message{}, err
	}
	class := consent.Classify(r.Body, consent.Keywords{OptOut: replies.OptOutKeywords, OptIn: replies.OptInKeywords, Help: replies.HelpKeywords})
	m := Message{ID: id.New(id.Inbound), CarrierID: r.CarrierID, From: r.From, To: r.To, Body: r.Body,
		Intent: string(class.Intent), Rule: string(class.Rule), Keyword: class.Keyword, ReceivedAt: s.clock.Now()}
	if dup, err := s.seen(ctx, a.ID, r.CarrierID); err != nil || dup.ID != "" {
		return dup, err
	}
	c, known, err := s.contact(ctx, a, r.From)
	if err != nil {
		return Message{}, err
	}
	if known {
		m.ContactID = &c.ID
	}
	texts := replies.Effective(a.Brand())
	if err := s.act(ctx, a, num, c, known, r, texts, &m); err != nil {
		return Message{}, err
	}
	if err := s.store(ctx, a.ID, m); err != nil {
		return Message{}, err
	}
	if s.OnReceived != nil {
		s.OnReceived(ctx, a.ID, m)
	}
	return m, nil
}

// number is the account's sender number a reply was sent to.
func (s *Service) number(ctx context.Context, accountID, to string) (account.Number, error) {
	nums, err := s.accounts.Numbers(ctx, accountID)
	if err != nil {
		return account.Number{}, err
	}
	for _, n := range nums {
		if n.Phone == to {
			return n, nil
		}
	}
	return account.Number{}, problem.Invalidf("unknown_number", "To", "%s is not a sender number of this account", to)
}

func (s *Service) contact(ctx context.Context, a account.Account, from string) (contact.Contact, bool, error) {
	n := phone.Parse(from, a.DefaultCountry)
	if n.E164 == "" {
		return contact.Contact{}, false, nil
	}
	c, err := s.contacts.FindByPhone(ctx, a.ID, n.E164)
	if problem.Is(err, problem.NotFound) {
		return contact.Contact{}, false, nil
	}
	return c, err == nil, err
}

// kindsFor says which consent a keyword to a number changes. With one
// number, or STOPALL, or the number that sends both, it is everything; with
// two numbers, a word to one number changes that number's kind only.
func (s *Service) kindsFor(ctx context.Context, accountID string, num account.Number, all bool) (consent.Kind, error) {
	split, err := s.accounts.SplitConsent(ctx, accountID)
	if err != nil || !split || all || num.Kind == account.NumberBoth {
		return "", err
	}
	return consent.Kind(num.Kind), nil
}

// act does what the reply asks and sets the action and the answer.
func (s *Service) act(ctx context.Context, a account.Account, num account.Number, c contact.Contact, known bool,
	r Reply, texts account.Replies, m *Message) error {
	if known && s.Confirmer != nil && m.Intent != "opt_out" && m.Intent != "opt_out_all" {
		if done, err := s.confirm(ctx, a, c, r, texts, m); done || err != nil {
			return err
		}
	}
	switch m.Intent {
	case "opt_out", "opt_out_all":
		return s.change(ctx, a, num, c, known, r, m, consent.OptedOut, m.Intent == "opt_out_all", texts.OptOutText)
	case "opt_in":
		if !known {
			m.Action = ActionUnknownContact // no contact is made, and no consent inferred
			return nil
		}
		return s.change(ctx, a, num, c, known, r, m, consent.OptedIn, false, texts.OptInText)
	case "help":
		m.Action, m.Reply = ActionHelp, texts.HelpText
	case "review":
		m.Action, m.NeedsReview = ActionReview, true
	default:
		m.Action = ActionNone
	}
	return nil
}

// confirm answers a Y that a double opt-in waits for, as JOIN is answered.
func (s *Service) confirm(ctx context.Context, a account.Account, c contact.Contact, r Reply, texts account.Replies, m *Message) (bool, error) {
	updated, ok, err := s.Confirmer.Confirm(ctx, a.ID, c, r.Body, m.ID)
	if err != nil || !ok {
		return false, err
	}
	m.Action, m.Reply = ActionConfirmed, texts.OptInText
	if s.OnPreference != nil && c.Preference(consent.Marketing) != updated.Preference(consent.Marketing) {
		s.OnPreference(ctx, a.ID, updated, consent.OptedIn)
	}
	return true, nil
}

func (s *Service) change(ctx context.Context, a account.Account, num account.Number, c contact.Contact, known bool,
	r Reply, m *Message, to consent.Preference, all bool, confirmation string) error {
	if !known {
		// Nothing to change, but a STOP is always confirmed.
		m.Action, m.Reply = ActionUnknownContact, confirmation
		if r.CarrierHandled || to == consent.OptedIn {
			m.Reply = ""
		}
		return nil
	}
	kind, err := s.kindsFor(ctx, a.ID, num, all)
	if err != nil {
		return err
	}
	evidence, _ := json.Marshal(map[string]any{"inbound_id": m.ID, "body": r.Body, "rule": m.Rule,
		"keyword": m.Keyword, "to": r.To, "carrier_handled": r.CarrierHandled})
	before := c.SMSPreference
	if kind != "" {
		before = c.Preference(kind)
	}
	updated, err := s.contacts.SetPreference(ctx, a.ID, c.ID, contact.PreferenceChange{Preference: to, Kind: kind,
		Change: contact.Change{Source: consent.SourceKeyword, Actor: "handset", Evidence: evidence}})
	if err != nil {
		return err
	}
	if before == to {
		m.Action = ActionAlreadyOut
		if to == consent.OptedIn {
			m.Action = ActionAlreadyIn
		}
		return nil // confirmed once already
	}
	m.Action = ActionOptedOut
	if to == consent.OptedIn {
		m.Action = ActionOptedIn
	}
	if !r.CarrierHandled {
		m.Reply = confirmation
	}
	if s.OnPreference != nil {
		s.OnPreference(ctx, a.ID, updated, to)
	}
	return nil
}

func (s *Service) seen(ctx context.Context, accountID, carrierID string) (Message, error) {
	m, err := scanOne(s.db.Read().QueryRowContext(ctx, `SELECT `+inboundColumns+` FROM inbound_messages
		WHERE account_id = $1 AND carrier_id = $2`, accountID, carrierID))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, nil
	}
	return m, err
}

func (s *Service) store(ctx context.Context, accountID string, m Message) error {
	_, err := s.db.Write().ExecContext(ctx, `INSERT INTO inbound_messages (id, account_id, contact_id, carrier_id, from_phone,
		to_phone, body, intent, rule, keyword, action, reply, needs_review, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (account_id, carrier_id) DO NOTHING`,
		m.ID, accountID, m.ContactID, m.CarrierID, m.From, m.To, m.Body, m.Intent, m.Rule, m.Keyword, m.Action, m.Reply,
		m.NeedsReview, m.ReceivedAt)
	if err != nil {
		return fmt.Errorf("inbound: store: %w", err)
	}
	return nil
}
