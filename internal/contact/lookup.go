package contact

import (
	"context"
	"fmt"

	"github.com/heraldsms/herald/internal/coalesce"
	"github.com/heraldsms/herald/internal/db"
)

// Every message sent through the API reads its contact by id or external
// id. The look-ups of concurrent requests are gathered (see package
// coalesce) into one statement per account: with 32 API clients, about
// three messages' look-ups a statement.

// key names one contact of an account by the value of a key column.
type key struct{ accountID, value string }

// lookupsAtOnce look-ups run at once, each of at most lookupsMaxKeys keys;
// a caller that finds both running waits for the next. In alternating
// PostgreSQL pipeline runs two did better than one (the API waited on
// each look-up in turn: 647–680 delivered/s against 767–812) and than four
// (fewer keys a statement: 767–842 against 857–898).
const (
	lookupsAtOnce  = 2
	lookupsMaxKeys = 100
)

func (s *Service) newLoaders() {
	s.byID = coalesce.New(lookupsAtOnce, lookupsMaxKeys, func(ctx context.Context, keys []key) (map[key]Contact, error) {
		return s.fetchByKeys(ctx, keys, func(accountID string, ids []string) (map[string]Contact, error) {
			return s.GetMany(ctx, accountID, ids)
		})
	})
	s.byExternalID = coalesce.New(lookupsAtOnce, lookupsMaxKeys, func(ctx context.Context, keys []key) (map[key]Contact, error) {
		return s.fetchByKeys(ctx, keys, func(accountID string, ids []string) (map[string]Contact, error) {
			return s.getManyByExternalID(ctx, accountID, ids)
		})
	})
}

// fetchByKeys runs get once for each account among keys.
func (s *Service) fetchByKeys(ctx context.Context, keys []key, get func(accountID string, values []string) (map[string]Contact, error)) (map[key]Contact, error) {
	values := map[string][]string{}
	var accounts []string
	for _, k := range keys {
		if _, ok := values[k.accountID]; !ok {
			accounts = append(accounts, k.accountID)
		}
		values[k.accountID] = append(values[k.accountID], k.value)
	}
	out := make(map[key]Contact, len(keys))
	for _, acc := range accounts {
		found, err := get(acc, values[acc])
		if err != nil {
			return nil, err
		}
		for v, c := range found {
			out[key{acc, v}] = c
		}
	}
	return out, nil
}

// getManyByExternalID returns the account's contacts with the given
// external ids, by external id. On PostgreSQL each id is its own look-up
// of contacts_external_id, whatever the table's statistics say (see
// db.KeyedBy for what an IN list can be planned as); SQLite seeks the
// index for each value of the list.
func (s *Service) getManyByExternalID(ctx context.Context, accountID string, ids []string) (map[string]Contact, error) {
	query, args := externalIDsQuery(s.db.Engine, accountID, ids)
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("contact: get by external ids: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Contact, len(ids))
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out[*c.ExternalID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("contact: get by external ids: %w", err)
	}
	return out, nil
}

// externalIDsQuery is getManyByExternalID's statement and its arguments.
func externalIDsQuery(e db.Engine, accountID string, ids []string) (string, []any) {
	if e == db.Postgres {
		return `SELECT c.* FROM unnest($2::text[]) AS k (external_id), LATERAL (
			SELECT ` + contactColumns + ` FROM contacts
			WHERE account_id = $1 AND external_id = k.external_id OFFSET 0) AS c`, []any{accountID, ids}
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	return `SELECT ` + contactColumns + ` FROM contacts
		WHERE account_id = $1 AND external_id IN (` + db.Placeholders(2, len(ids)) + `)`, args
}
