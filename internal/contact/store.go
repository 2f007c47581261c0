package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
)

// errNoContact is the store's "no such row"; the service turns it into a
// 404-shaped problem or a create.
var errNoContact = errors.New("contact: no such contact")

const contactColumns = `
id, account_id, external_id, phone, phone_e164, phone_valid, phone_type, phone_country,
sms_capable, first_name, last_name, email, time_zone, attributes, sms_transactional,
sms_marketing, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanContact(row scanner) (Contact, error) {
	var (
		c           Contact
		ext, e164   sql.NullString
		attrs       string
		trans, mark consent.Preference
	)
	err := row.Scan(&c.ID, &c.AccountID, &ext, &c.Phone, &e164, &c.PhoneValid, &c.PhoneType,
		&c.PhoneCountry, &c.SMSCapable, &c.FirstName, &c.LastName, &c.Email, &c.TimeZone, &attrs,
		&trans, &mark, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNoContact
	}
	if err != nil {
		return c, fmt.Errorf("contact: scan: %w", err)
	}
	if ext.Valid {
		c.ExternalID = &ext.String
	}
	if e164.Valid {
		c.PhoneE164 = &e164.String
	}
	c.Attributes = map[string]any{}
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
		return c, fmt.Errorf("contact: attributes of %s: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.setPreferences(trans, mark)
	return c, nil
}

func getBy(ctx context.Context, q db.Querier, accountID, column, value string) (Contact, error) {
	// column is one of three constants, never input.
	var query string
	switch column {
	case "id":
		query = `SELECT ` + contactColumns + ` FROM contacts WHERE account_id = $1 AND id = $2`
	case "external_id":
		query = `SELECT ` + contactColumns + ` FROM contacts WHERE account_id = $1 AND external_id = $2`
	case "phone_e164":
		query = `SELECT ` + contactColumns + ` FROM contacts WHERE account_id = $1 AND phone_e164 = $2`
	default:
		panic("contact: getBy on unknown column " + column)
	}
	return scanContact(q.QueryRowContext(ctx, query, accountID, value))
}

const insertContact = `
INSERT INTO contacts (` + contactColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

func insert(ctx context.Context, q db.Querier, c *Contact) error {
	attrs, err := c.attributesJSON()
	if err != nil {
		return fmt.Errorf("contact: attributes: %w", err)
	}
	_, err = q.ExecContext(ctx, insertContact, c.ID, c.AccountID, c.ExternalID, c.Phone, c.PhoneE164,
		c.PhoneValid, c.PhoneType, c.PhoneCountry, c.SMSCapable, c.FirstName, c.LastName, c.Email,
		c.TimeZone, attrs, string(c.Preference(consent.Transactional)), string(c.Preference(consent.Marketing)),
		c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("contact: insert: %w", err)
	}
	return nil
}

const updateContact = `
UPDATE contacts SET external_id = $3, phone = $4, phone_e164 = $5, phone_valid = $6, phone_type = $7,
	phone_country = $8, sms_capable = $9, first_name = $10, last_name = $11, email = $12,
	time_zone = $13, attributes = $14, sms_transactional = $15, sms_marketing = $16, updated_at = $17
WHERE account_id = $1 AND id = $2`

func update(ctx context.Context, q db.Querier, c *Contact) error {
	attrs, err := c.attributesJSON()
	if err != nil {
		return fmt.Errorf("contact: attributes: %w", err)
	}
	_, err = q.ExecContext(ctx, updateContact, c.AccountID, c.ID, c.ExternalID, c.Phone, c.PhoneE164,
		c.PhoneValid, c.PhoneType, c.PhoneCountry, c.SMSCapable, c.FirstName, c.LastName, c.Email,
		c.TimeZone, attrs, string(c.Preference(consent.Transactional)), string(c.Preference(consent.Marketing)),
		c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("contact: update: %w", err)
	}
	return nil
}
