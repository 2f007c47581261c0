package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heraldsms/herald/internal/db"
)

const messageColumns = `id, account_id, program_id, contact_id, number_id, to_phone, from_phone, kind, priority,
template_id, version_id, automation_id, step, event_id, dedupe_key, body, encoding, segments, status,
reason, error_code, carrier, carrier_id, attempts, next_attempt_at, reserved, created_at, updated_at`

var insertColumns = db.Cols("id text", "account_id text", "program_id text", "contact_id text", "number_id text",
	"to_phone text", "from_phone text", "kind text", "priority integer", "template_id text", "version_id text",
	"automation_id text", "step integer", "event_id text", "dedupe_key text", "body text", "encoding text",
	"segments integer", "status text", "reason text", "error_code text", "carrier text", "carrier_id text",
	"attempts integer", "next_attempt_at timestamptz", "reserved boolean", "created_at timestamptz",
	"updated_at timestamptz")

var eventColumns = db.Cols("account_id text", "message_id text", "status text", "reason text", "error_code text",
	"occurred_at timestamptz")

// firstColumns write a message's first log entry, marked as its creation:
// on SQLite the metrics fold counts messages made from these entries.
var firstColumns = append(slices.Clone(eventColumns), db.Column{Name: "created", Type: "boolean"})

func (m *Message) values() []any {
	return []any{m.ID, m.AccountID, m.ProgramID, m.ContactID, m.NumberID, m.To, m.From, string(m.Kind),
		m.Kind.priority(), m.TemplateID, m.VersionID, m.AutomationID, m.Step, m.EventID, m.DedupeKey, m.Body,
		m.Encoding, m.Segments, string(m.Status), m.Reason, m.ErrorCode, m.Carrier, m.CarrierID, m.Attempts,
		m.NextAttempt, m.Reserved, m.CreatedAt, m.UpdatedAt}
}

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var (
		m        Message
		priority int
		step     sql.NullInt64
	)
	err := row.Scan(&m.ID, &m.AccountID, &m.ProgramID, &m.ContactID, &m.NumberID, &m.To, &m.From, &m.Kind,
		&priority, &m.TemplateID, &m.VersionID, &m.AutomationID, &step, &m.EventID, &m.DedupeKey, &m.Body,
		&m.Encoding, &m.Segments, &m.Status, &m.Reason, &m.ErrorCode, &m.Carrier, &m.CarrierID, &m.Attempts,
		&m.NextAttempt, &m.Reserved, &m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if step.Valid {
		s := int(step.Int64)
		m.Step = &s
	}
	m.NextAttempt, m.CreatedAt, m.UpdatedAt = m.NextAttempt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return &m, nil
}

func scanMessages(rows *sql.Rows) ([]*Message, error) {
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("message: scan: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message: scan: %w", err)
	}
	return out, nil
}

// change is one status change to log.
type change struct {
	accountID, messageID string
	status               Status
	reason, errorCode    string
	at                   time.Time
}

func (c change) values() []any {
	return []any{c.accountID, c.messageID, string(c.status), c.reason, c.errorCode, c.at}
}

// logChanges appends status changes to the transaction log.
func logChanges(ctx context.Context, d *db.DB, q db.Querier, changes []change) error {
	rows := make([][]any, len(changes))
	for i, c := range changes {
		rows[i] = c.values()
	}
	return d.Insert(ctx, q, "message_events", eventColumns, rows, "")
}

// insertMessages writes new messages and their first log entries.
func insertMessages(ctx context.Context, d *db.DB, q db.Querier, msgs []*Message) error {
	rows := make([][]any, len(msgs))
	first := make([][]any, len(msgs))
	for i, m := range msgs {
		rows[i] = m.values()
		first[i] = append(change{m.AccountID, m.ID, m.Status, m.Reason, m.ErrorCode, m.CreatedAt}.values(), true)
	}
	if err := d.Insert(ctx, q, "messages", insertColumns, rows, ""); err != nil {
		return err
	}
	return d.Insert(ctx, q, "message_events", firstColumns, first, "")
}

func getMessage(ctx context.Context, q db.Querier, accountID, messageID string) (*Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx,
		`SELECT `+messageColumns+` FROM messages WHERE account_id = $1 AND id = $2`, accountID, messageID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoMessage
	}
	if err != nil {
		return nil, fmt.Errorf("message: get: %w", err)
	}
	return m, nil
}

var errNoMessage = errors.New("message: no such message")

func history(ctx context.Context, q db.Querier, accountID, messageID string) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT status, reason, error_code, occurred_at FROM message_events
		WHERE account_id = $1 AND message_id = $2 ORDER BY occurred_at, seq`, accountID, messageID)
	if err != nil {
		return nil, fmt.Errorf("message: history: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Status, &e.Reason, &e.ErrorCode, &e.OccurredAt); err != nil {
			return nil, fmt.Errorf("message: history: %w", err)
		}
		e.OccurredAt = e.OccurredAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
