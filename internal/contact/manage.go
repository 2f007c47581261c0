package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// Get returns one of an account's contacts.
func (s *Service) Get(ctx context.Context, accountID, contactID string) (Contact, error) {
	c, found, err := s.byID.Load(ctx, key{accountID, contactID})
	if err == nil && !found {
		return Contact{}, notFound(contactID)
	}
	return c, err
}

// FindByPhone returns the account's contact with the given E.164 number.
func (s *Service) FindByPhone(ctx context.Context, accountID, e164 string) (Contact, error) {
	c, err := getBy(ctx, s.db.Read(), accountID, "phone_e164", e164)
	if errors.Is(err, errNoContact) {
		return Contact{}, problem.NotFoundf("no contact with the number %s", e164)
	}
	return c, err
}

// List returns one page of an account's contacts.
func (s *Service) List(ctx context.Context, accountID string, f Filter) (Page, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	return list(ctx, s.db.Read(), accountID, f)
}

// Patch changes the set fields of a contact. The contact is named by its
// id, so a phone that cannot be texted is kept, marked not valid.
func (s *Service) Patch(ctx context.Context, accountID, contactID string, in Input, ch Change) (Contact, error) {
	sc, err := s.scope(ctx, accountID)
	if err != nil {
		return Contact{}, err
	}
	chk, err := in.check(sc.region)
	if err != nil {
		return Contact{}, err
	}
	var (
		c       Contact
		records []consent.Record
	)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err = getBy(ctx, tx, accountID, "id", contactID)
		if errors.Is(err, errNoContact) {
			return notFound(contactID)
		}
		if err != nil {
			return err
		}
		if chk.ExternalID != nil && (c.ExternalID == nil || *c.ExternalID != *chk.ExternalID) {
			if other, err := getBy(ctx, tx, accountID, "external_id", *chk.ExternalID); err == nil && other.ID != c.ID {
				return problem.Conflictf("external_id_taken", "external_id", "another contact already has external_id %q", *chk.ExternalID)
			}
		}
		if in.ExternalID != nil && *in.ExternalID == "" {
			c.ExternalID = nil
		}
		if err := s.apply(ctx, tx, &c, chk, false); err != nil {
			return err
		}
		c.UpdatedAt = s.clock.Now()
		records, err = preferenceRecords(&c, chk.Input, ch, sc.split)
		if err != nil {
			return err
		}
		if err := update(ctx, tx, &c); err != nil {
			return err
		}
		return appendRecords(ctx, tx, &c, records)
	})
	if db.IsUniqueViolation(err) {
		return Contact{}, problem.Conflictf("conflict", "", "another contact took that phone or external_id at the same moment; try again")
	}
	if err == nil {
		s.consented(ctx, c, records)
	}
	return c, err
}

// Delete removes a contact. Its consent records stay in the ledger, which
// only ever held its phone as a hash.
func (s *Service) Delete(ctx context.Context, accountID, contactID string) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM contacts WHERE account_id = $1 AND id = $2`, accountID, contactID)
	if err != nil {
		return fmt.Errorf("contact: delete: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(contactID)
	}
	return nil
}

// PreferenceChange asks for a contact's SMS preference to change.
type PreferenceChange struct {
	Preference consent.Preference
	// Kind limits the change to one sender kind. It is honoured only while
	// the account has two numbers; with one, consent is all-or-nothing.
	Kind consent.Kind
	Change
}

// SetPreference changes a contact's SMS preference and appends a ledger
// record for each kind whose value changed, in one transaction. Setting the
// value a contact already has changes nothing and records nothing.
func (s *Service) SetPreference(ctx context.Context, accountID, contactID string, pc PreferenceChange) (Contact, error) {
	sc, err := s.scope(ctx, accountID)
	if err != nil {
		return Contact{}, err
	}
	kinds := allKinds
	if sc.split && pc.Kind != "" {
		kinds = []consent.Kind{pc.Kind}
	}
	var (
		c       Contact
		records []consent.Record
	)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err = getBy(ctx, tx, accountID, "id", contactID)
		if errors.Is(err, errNoContact) {
			return notFound(contactID)
		}
		if err != nil {
			return err
		}
		records = changePreference(&c, kinds, pc.Preference, pc.Change)
		if len(records) == 0 {
			return nil
		}
		c.UpdatedAt = s.clock.Now()
		if err := update(ctx, tx, &c); err != nil {
			return err
		}
		return appendRecords(ctx, tx, &c, records)
	})
	if err == nil {
		s.consented(ctx, c, records)
	}
	return c, err
}

// Consents returns a contact's consent ledger, oldest first. The ledger of
// a deleted contact can still be read by its id.
func (s *Service) Consents(ctx context.Context, accountID, contactID string) ([]consent.Record, error) {
	records, err := consent.List(ctx, s.db.Read(), accountID, contactID)
	if err != nil || len(records) > 0 {
		return records, err
	}
	if _, err := s.Get(ctx, accountID, contactID); err != nil {
		return nil, err
	}
	return records, nil
}

func notFound(contactID string) error { return problem.NotFoundf("no contact %q", contactID) }
