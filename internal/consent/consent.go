// Package consent keeps a contact's SMS preferences and the append-only
// ledger of every change to them: who changed it, when, from where, and on
// what evidence. A preference is kept per sender kind (transactional,
// marketing); while an account has one number, both change together.
package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// Preference is a contact's answer to "may we text you?".
type Preference string

// The preferences.
const (
	Unknown  Preference = "unknown"
	OptedIn  Preference = "opted_in"
	OptedOut Preference = "opted_out"
)

// ParsePreference checks a preference name.
func ParsePreference(s string) (Preference, error) {
	switch p := Preference(s); p {
	case Unknown, OptedIn, OptedOut:
		return p, nil
	}
	return "", problem.Invalidf("invalid_preference", "preference",
		"preference must be unknown, opted_in or opted_out; got %q", s)
}

// Kind is the kind of sender number a preference is for.
type Kind string

// The kinds.
const (
	Transactional Kind = "transactional"
	Marketing     Kind = "marketing"
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{Transactional, Marketing}

// ParseKind checks a kind name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Transactional, Marketing:
		return k, nil
	}
	return "", problem.Invalidf("invalid_kind", "kind", "kind must be transactional or marketing; got %q", s)
}

// Source says where a change of preference came from.
type Source string

// The sources.
const (
	SourceWidget  Source = "widget"
	SourceKeyword Source = "keyword"
	SourceAPI     Source = "api"
	SourceImport  Source = "import"
	SourceAdmin   Source = "admin"
	SourceCarrier Source = "carrier"
)

// ParseSource checks a source name.
func ParseSource(s string) (Source, error) {
	switch src := Source(s); src {
	case SourceWidget, SourceKeyword, SourceAPI, SourceImport, SourceAdmin, SourceCarrier:
		return src, nil
	}
	return "", problem.Invalidf("invalid_source", "source",
		"source must be one of widget, keyword, api, import, admin, carrier; got %q", s)
}

// Record is one entry of the ledger. Records are never updated or deleted.
type Record struct {
	ID         string          `json:"id"`
	ContactID  string          `json:"contact_id"`
	Kind       Kind            `json:"kind"`
	From       Preference      `json:"from"`
	To         Preference      `json:"to"`
	Source     Source          `json:"source"`
	Actor      string          `json:"actor,omitempty"`
	Evidence   json.RawMessage `json:"evidence"`
	OccurredAt time.Time       `json:"occurred_at"`
}

// HashPhone returns the form in which the ledger keeps a phone number. It is
// salted with the account id so that the same number in two accounts does
// not link them.
func HashPhone(accountID, e164 string) string {
	if e164 == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(accountID + ":" + e164))
	return hex.EncodeToString(sum[:])
}

const insertRecord = `
INSERT INTO consents (id, account_id, contact_id, phone_hash, kind, from_pref, to_pref, source, actor, evidence, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// Append adds a record to the ledger, inside the caller's transaction so the
// record and the preference it explains are written together.
func Append(ctx context.Context, q db.Querier, accountID, phoneE164 string, r *Record) error {
	if r.ID == "" {
		r.ID = id.New(id.Consent)
	}
	if len(r.Evidence) == 0 {
		r.Evidence = json.RawMessage(`{}`)
	}
	_, err := q.ExecContext(ctx, insertRecord, r.ID, accountID, r.ContactID, HashPhone(accountID, phoneE164),
		string(r.Kind), string(r.From), string(r.To), string(r.Source), r.Actor, string(r.Evidence), r.OccurredAt)
	if err != nil {
		return fmt.Errorf("consent: append: %w", err)
	}
	return nil
}

var recordColumns = []string{"id", "account_id", "contact_id", "phone_hash", "kind", "from_pref", "to_pref", "source",
	"actor", "evidence", "occurred_at"}

// AppendAll adds several records of one contact in one statement, inside
// the caller's transaction.
func AppendAll(ctx context.Context, q db.Querier, accountID, phoneE164 string, records []Record) error {
	rows := make([][]any, len(records))
	hash := HashPhone(accountID, phoneE164)
	for i := range records {
		r := &records[i]
		if r.ID == "" {
			r.ID = id.New(id.Consent)
		}
		if len(r.Evidence) == 0 {
			r.Evidence = json.RawMessage(`{}`)
		}
		rows[i] = []any{r.ID, accountID, r.ContactID, hash, string(r.Kind), string(r.From), string(r.To), string(r.Source),
			r.Actor, string(r.Evidence), r.OccurredAt}
	}
	if err := db.InsertRows(ctx, q, "consents", recordColumns, rows, ""); err != nil {
		return fmt.Errorf("consent: append: %w", err)
	}
	return nil
}

const selectRecords = `
SELECT id, contact_id, kind, from_pref, to_pref, source, actor, evidence, occurred_at
FROM consents WHERE account_id = $1 AND contact_id = $2
ORDER BY occurred_at, id`

// List returns a contact's ledger, oldest first. It works for a deleted
// contact too: the records outlive it.
func List(ctx context.Context, q db.Querier, accountID, contactID string) ([]Record, error) {
	rows, err := q.QueryContext(ctx, selectRecords, accountID, contactID)
	if err != nil {
		return nil, fmt.Errorf("consent: list: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var (
			r        Record
			evidence string
		)
		if err := rows.Scan(&r.ID, &r.ContactID, &r.Kind, &r.From, &r.To, &r.Source, &r.Actor, &evidence, &r.OccurredAt); err != nil {
			return nil, fmt.Errorf("consent: list: %w", err)
		}
		r.Evidence = json.RawMessage(evidence)
		r.OccurredAt = r.OccurredAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent: list: %w", err)
	}
	return out, nil
}
