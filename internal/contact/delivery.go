package contact

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// GetByExternalID returns the account's contact with an external id.
func (s *Service) GetByExternalID(ctx context.Context, accountID, externalID string) (Contact, error) {
	c, found, err := s.byExternalID.Load(ctx, key{accountID, externalID})
	if err == nil && !found {
		return Contact{}, problem.NotFoundf("no contact with external_id %q", externalID)
	}
	return c, err
}

// GetMany returns the account's contacts with the given ids, by id;
// missing ones (deleted) are absent from the map. The dispatcher re-checks
// a whole batch of messages with one query.
func (s *Service) GetMany(ctx context.Context, accountID string, ids []string) (map[string]Contact, error) {
	out := make(map[string]Contact, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, accountID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.db.Read().QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts
			WHERE `+s.db.KeyedBy("account_id")+` = $1 AND id IN (`+db.Placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("contact: get many: %w", err)
		}
		for rows.Next() {
			c, err := scanContact(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[c.ID] = c
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("contact: get many: %w", err)
		}
	}
	return out, nil
}

// MarkNotSMSCapable records that the carrier said the contact's number
// cannot take texts (invalid, or not a mobile).
func (s *Service) MarkNotSMSCapable(ctx context.Context, accountID, contactID string) error {
	_, err := s.db.Write().ExecContext(ctx, `UPDATE contacts SET sms_capable = $3, updated_at = $4
		WHERE account_id = $1 AND id = $2`, accountID, contactID, false, s.clock.Now())
	if err != nil {
		return fmt.Errorf("contact: mark not capable: %w", err)
	}
	return nil
}

// NoteUnreachable counts a delivery failure that says the number may not
// take texts (unreachable, unknown, landline). At the threshold the number
// is marked not SMS-capable; one failure alone can be a phone switched off.
// It reports whether the number was marked.
func (s *Service) NoteUnreachable(ctx context.Context, accountID, contactID string, threshold int) (bool, error) {
	var n int
	err := s.db.Write().QueryRowContext(ctx, `UPDATE contacts SET unreachable_count = unreachable_count + 1,
		sms_capable = CASE WHEN unreachable_count + 1 >= $3 THEN $4 ELSE sms_capable END, updated_at = $5
		WHERE account_id = $1 AND id = $2 RETURNING unreachable_count`,
		accountID, contactID, threshold, false, s.clock.Now()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("contact: note unreachable: %w", err)
	}
	return n == threshold, nil
}

// OptOutByCarrier records that the carrier refused a message because the
// recipient unsubscribed at the carrier (Twilio 21610): the contact is
// opted out of everything, with the carrier as the source.
func (s *Service) OptOutByCarrier(ctx context.Context, accountID, contactID, messageID, code string) error {
	evidence, _ := json.Marshal(map[string]string{"message_id": messageID, "error_code": code})
	_, err := s.SetPreference(ctx, accountID, contactID, PreferenceChange{
		Preference: consent.OptedOut,
		Change:     Change{Source: consent.SourceCarrier, Actor: "carrier", Evidence: evidence},
	})
	if problem.Is(err, problem.NotFound) {
		return nil // deleted since; nothing to opt out
	}
	return err
}
