package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/coalesce"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
)

// Accounts is what the contact service needs to know about an account.
type Accounts interface {
	Get(ctx context.Context, accountID string) (account.Account, error)
	SplitConsent(ctx context.Context, accountID string) (bool, error)
}

// Service is the contact domain: every change to a contact goes through it,
// so the phone rules and the consent ledger hold whichever door a change
// comes in by (API, import, keyword, widget).
type Service struct {
	db       *db.DB
	clock    clock.Clock
	accounts Accounts
	// OnConsent is called after a change of preference has committed,
	// with the ledger records it wrote; webhooks hang off it.
	OnConsent func(ctx context.Context, c Contact, records []consent.Record)

	// byID and byExternalID gather concurrent look-ups (see lookup.go).
	byID, byExternalID *coalesce.Loader[key, Contact]
}

func (s *Service) consented(ctx context.Context, c Contact, records []consent.Record) {
	if s.OnConsent != nil && len(records) > 0 {
		s.OnConsent(ctx, c, records)
	}
}

// NewService returns a Service.
func NewService(d *db.DB, c clock.Clock, accounts Accounts) *Service {
	s := &Service{db: d, clock: c, accounts: accounts}
	s.newLoaders()
	return s
}

// Change says who is changing a contact and on what evidence; it is written
// into any consent record the change makes.
type Change struct {
	Source   consent.Source
	Actor    string
	Evidence json.RawMessage
}

// scope is what an account's settings say about its contacts.
type scope struct {
	accountID string
	region    string
	split     bool
}

func (s *Service) scope(ctx context.Context, accountID string) (scope, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return scope{}, err
	}
	split, err := s.accounts.SplitConsent(ctx, accountID)
	if err != nil {
		return scope{}, err
	}
	return scope{accountID: accountID, region: a.DefaultCountry, split: split}, nil
}

// Upsert creates a contact or updates the one it matches (by external_id,
// else by phone) and reports whether it created one.
func (s *Service) Upsert(ctx context.Context, accountID string, in Input, ch Change) (Contact, bool, error) {
	sc, err := s.scope(ctx, accountID)
	if err != nil {
		return Contact{}, false, err
	}
	return s.upsert(ctx, sc, in, ch)
}

// Prepared is an upsert checked against its account's settings, ready to
// run inside a caller's transaction (UpsertIn).
type Prepared struct {
	sc scope
	in checked
}

// Prepare checks an upsert and reads the account settings it needs, before
// the caller opens its transaction: a read from the pool while a
// transaction holds a connection can wait for ever once every connection
// is held so.
func (s *Service) Prepare(ctx context.Context, accountID string, in Input) (Prepared, error) {
	sc, err := s.scope(ctx, accountID)
	if err != nil {
		return Prepared{}, err
	}
	return prepare(sc, in)
}

func prepare(sc scope, in Input) (Prepared, error) {
	chk, err := in.check(sc.region)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{sc: sc, in: chk}, nil
}

// UpsertIn is Upsert inside the caller's transaction, for a caller that
// writes more in the same commit (an event and its contact). It reports
// whether it created the contact, and returns announce, to be called once
// tx has committed: it tells OnConsent of the preferences the upsert
// changed. On PostgreSQL a concurrent writer can take the same phone or
// external id first; the caller's transaction then fails with a unique
// violation, and a second try finds that contact.
func (s *Service) UpsertIn(ctx context.Context, tx *sql.Tx, p Prepared, ch Change) (Contact, bool, func(context.Context), error) {
	c, created, records, err := s.upsertTx(ctx, tx, p.sc, p.in, ch)
	if err != nil {
		return Contact{}, false, nil, err
	}
	return c, created, func(ctx context.Context) { s.consented(ctx, c, records) }, nil
}

func (s *Service) upsert(ctx context.Context, sc scope, in Input, ch Change) (Contact, bool, error) {
	p, err := prepare(sc, in)
	if err != nil {
		return Contact{}, false, err
	}
	var (
		c        Contact
		created  bool
		announce func(context.Context)
	)
	// A concurrent writer can create the same phone or external id between
	// our lookup and our insert (PostgreSQL); the second try then finds it.
	for try := 0; ; try++ {
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			c, created, announce, err = s.UpsertIn(ctx, tx, p, ch)
			return err
		})
		if try == 0 && db.IsUniqueViolation(err) {
			continue
		}
		if err == nil {
			announce(ctx)
		}
		return c, created, err
	}
}

func (s *Service) upsertTx(ctx context.Context, tx *sql.Tx, sc scope, in checked, ch Change) (Contact, bool, []consent.Record, error) {
	c, phoneKnown, err := s.match(ctx, tx, sc, in)
	created := errors.Is(err, errNoContact)
	if err != nil && !created {
		return Contact{}, false, nil, err
	}
	now := s.clock.Now()
	if created {
		if err := requireIdentity(in); err != nil {
			return Contact{}, false, nil, err
		}
		c = Contact{ID: id.New(id.Contact), AccountID: sc.accountID, CreatedAt: now, Attributes: map[string]any{}}
		c.setPreferences(consent.Unknown, consent.Unknown)
	}
	if err := s.apply(ctx, tx, &c, in, phoneKnown); err != nil {
		return Contact{}, false, nil, err
	}
	c.UpdatedAt = now
	records, err := preferenceRecords(&c, in.Input, ch, sc.split)
	if err != nil {
		return Contact{}, false, nil, err
	}
	if created {
		err = insert(ctx, tx, &c)
	} else {
		err = update(ctx, tx, &c)
	}
	if err != nil {
		return Contact{}, false, nil, err
	}
	return c, created, records, appendRecords(ctx, tx, &c, records)
}

// match finds the contact an input names: by external id, else by phone. A
// phone held by a contact with another external id is a conflict. It also
// reports whether it looked the phone up, so apply need not look again.
func (s *Service) match(ctx context.Context, q db.Querier, sc scope, in checked) (Contact, bool, error) {
	e164 := ""
	if in.number != nil {
		e164 = in.number.E164
	}
	if in.ExternalID != nil {
		c, err := getBy(ctx, q, sc.accountID, "external_id", *in.ExternalID)
		if !errors.Is(err, errNoContact) || e164 == "" {
			return c, false, err
		}
		c, err = getBy(ctx, q, sc.accountID, "phone_e164", e164)
		if err != nil {
			return c, true, err
		}
		// The phone's holder is this contact when it has the same
		// external id: a concurrent writer made it between the two reads.
		if c.ExternalID != nil && *c.ExternalID != *in.ExternalID {
			return Contact{}, true, phoneTaken(e164)
		}
		return c, true, nil // adopt the contact known only by its phone
	}
	if e164 == "" {
		return Contact{}, false, errNoContact
	}
	c, err := getBy(ctx, q, sc.accountID, "phone_e164", e164)
	return c, true, err
}

// requireIdentity refuses to create a contact that nothing identifies: a
// bad phone is kept only when an external id says who the contact is.
func requireIdentity(in checked) error {
	if in.ExternalID != nil {
		return nil
	}
	if in.number == nil {
		return problem.Invalidf("missing_identity", "phone", "a new contact needs a phone or an external_id")
	}
	if !in.number.Valid {
		return invalidPhone(*in.number)
	}
	return nil
}

// apply copies the set fields of in onto c, refusing a phone that another
// contact of the account holds (unless the caller already knows who holds it).
func (s *Service) apply(ctx context.Context, q db.Querier, c *Contact, in checked, phoneKnown bool) error {
	if in.ExternalID != nil {
		c.ExternalID = in.ExternalID
	}
	if n := in.number; n != nil {
		if n.E164 != "" && n.E164 != c.E164() && !phoneKnown {
			other, err := getBy(ctx, q, c.AccountID, "phone_e164", n.E164)
			if err == nil && other.ID != c.ID {
				return phoneTaken(n.E164)
			}
			if err != nil && !errors.Is(err, errNoContact) {
				return err
			}
		}
		c.Phone = n.Raw
		c.PhoneE164 = nil
		if n.E164 != "" {
			v := n.E164
			c.PhoneE164 = &v
		}
		c.PhoneValid, c.PhoneType, c.PhoneCountry, c.SMSCapable = n.Valid, string(n.Type), n.Country, n.SMSCapable
	}
	setIf(&c.FirstName, in.FirstName)
	setIf(&c.LastName, in.LastName)
	setIf(&c.Email, in.Email)
	setIf(&c.TimeZone, in.TimeZone)
	c.Attributes = mergeAttributes(c.Attributes, in.Attributes)
	return nil
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

var allKinds = consent.Kinds

// changePreference sets the preference of the given kinds and returns a
// ledger record for each kind whose value changed.
func changePreference(c *Contact, kinds []consent.Kind, to consent.Preference, ch Change) []consent.Record {
	var out []consent.Record
	t, m := c.Preference(consent.Transactional), c.Preference(consent.Marketing)
	for _, k := range kinds {
		from := c.Preference(k)
		if from == to {
			continue
		}
		out = append(out, consent.Record{ContactID: c.ID, Kind: k, From: from, To: to,
			Source: ch.Source, Actor: ch.Actor, Evidence: ch.Evidence})
		if k == consent.Transactional {
			t = to
		} else {
			m = to
		}
	}
	c.setPreferences(t, m)
	return out
}

// preferenceRecords applies the preferences an input sets, to every kind
// or (from an export's columns, when the account keeps consent per kind) to
// one, and returns the ledger records.
func preferenceRecords(c *Contact, in Input, ch Change, split bool) ([]consent.Record, error) {
	ch.Evidence = orEvidence(in.ConsentEvidence, ch.Evidence)
	if in.SMSPreference != nil {
		to, err := consent.ParsePreference(*in.SMSPreference)
		if err != nil {
			return nil, fieldErr(err, "sms_preference")
		}
		return changePreference(c, allKinds, to, ch), nil
	}
	var records []consent.Record
	for _, k := range allKinds {
		v, ok := in.kindPreferences[k]
		if !ok {
			continue
		}
		to, err := consent.ParsePreference(v)
		if err != nil {
			return nil, fieldErr(err, string(k)+"_preference")
		}
		kinds := []consent.Kind{k}
		if !split {
			kinds = allKinds // one number: all-or-nothing; marketing's column, read last, wins
		}
		records = append(records, changePreference(c, kinds, to, ch)...)
	}
	return records, nil
}

func appendRecords(ctx context.Context, q db.Querier, c *Contact, records []consent.Record) error {
	for i := range records {
		records[i].OccurredAt = c.UpdatedAt
	}
	return consent.AppendAll(ctx, q, c.AccountID, c.E164(), records)
}

func orEvidence(a, b json.RawMessage) json.RawMessage {
	if len(a) > 0 {
		return a
	}
	return b
}

func phoneTaken(e164 string) error {
	return problem.Conflictf("phone_taken", "phone", "another contact of this account already has the number %s", e164)
}

func invalidPhone(n phone.Number) error {
	reason := string(n.Reason)
	if reason == "" {
		reason = "not_sms_capable"
	}
	e := problem.Invalidf("invalid_phone", "phone",
		"%q is not a phone number we can text (%s); send it as +[country code][number], e.g. +17346263333", n.Raw, reason)
	e.Detail = map[string]any{"reason": reason}
	return e
}

func fieldErr(err error, field string) error {
	if p, ok := problem.As(err); ok {
		cp := *p
		cp.Field = field
		return &cp
	}
	return fmt.Errorf("contact: %s: %w", field, err)
}
