package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// Limits of an event.
const (
	MaxEventIDBytes = 128
	MaxBatch        = 1000
)

// Event is a program event as its sender posts it.
type Event struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	ProgramID  string         `json:"program_id,omitempty"`
	OccurredAt *time.Time     `json:"occurred_at,omitempty"`
	Contact    EventContact   `json:"contact"`
	Data       map[string]any `json:"data,omitempty"`
}

// EventContact names the event's contact, matched by external_id, else by
// phone, and created when there is none. It carries no SMS preference on
// purpose: an event never implies consent.
type EventContact struct {
	ExternalID *string `json:"external_id,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	FirstName  *string `json:"first_name,omitempty"`
	LastName   *string `json:"last_name,omitempty"`
	Email      *string `json:"email,omitempty"`
}

// Accepted says what became of one event.
type Accepted struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// validate checks an event's own fields, before anything is looked up.
func (e *Event) validate() error {
	switch {
	case e.ID == "":
		return problem.Invalidf("event_id_required", "id", "give the event your own id; a repeat of it is ignored")
	case len(e.ID) > MaxEventIDBytes:
		return problem.Invalidf("event_id_too_long", "id", "an event id has at most %d bytes", MaxEventIDBytes)
	case strings.TrimSpace(e.ID) != e.ID || strings.ContainsFunc(e.ID, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return problem.Invalidf("event_id_invalid", "id", "an event id has no surrounding spaces or control characters")
	case e.Type == "":
		return problem.Invalidf("event_type_required", "type", "name the event type, such as %s", EventRewardApproved)
	case !ValidEventType(e.Type):
		return problem.Invalidf("event_type_invalid", "type", "%q is not an event type such as %s", clip(e.Type), EventRewardApproved)
	case blank(e.Contact.ExternalID) && blank(e.Contact.Phone):
		return problem.Invalidf("contact_required", "contact", "name the contact by external_id or phone")
	}
	return nil
}

func blank(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }

// matchArgs is the job that matches a stored event to automations.
type matchArgs struct {
	AccountID string `json:"account_id"`
	EventID   string `json:"event_id"`
}

func (matchArgs) Kind() string { return "event.match" }

const existsEvent = `SELECT 1 FROM events WHERE account_id = $1 AND id = $2`

const insertEvent = `
INSERT INTO events (account_id, id, type, program_id, contact_id, data, occurred_at, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (account_id, id) DO NOTHING`

// Ingest accepts one event: it checks it, and in one transaction matches
// or creates its contact (never setting a preference), stores it and queues
// its matching, so an accepted event is always matched, once; in that
// transaction it also stops the reminders it is the stop event of. An id the
// account has sent before is a duplicate and changes nothing.
func (s *Service) Ingest(ctx context.Context, accountID string, e Event) (Accepted, error) {
	out := Accepted{ID: e.ID}
	if err := e.validate(); err != nil {
		return out, err
	}
	if s.queue == nil {
		return out, errors.New("automation: no job queue (SetQueue was not called)")
	}
	var one int
	err := s.db.Read().QueryRowContext(ctx, existsEvent, accountID, e.ID).Scan(&one)
	if err == nil {
		out.Duplicate = true
		return out, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("automation: find event: %w", err)
	}
	var programID *string
	if e.ProgramID != "" {
		if _, err := s.programs.GetProgram(ctx, accountID, e.ProgramID); err != nil {
			return out, err
		}
		programID = &e.ProgramID
	}
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return out, problem.Invalidf("data_invalid", "data", "data must be a JSON object")
	}
	now := s.clock.Now()
	occurred := now
	if e.OccurredAt != nil {
		occurred = e.OccurredAt.UTC()
	}
	in, err := s.contacts.Prepare(ctx, accountID, contact.Input{ExternalID: e.Contact.ExternalID, Phone: e.Contact.Phone,
		FirstName: e.Contact.FirstName, LastName: e.Contact.LastName, Email: e.Contact.Email})
	if err != nil {
		return out, prefixField(err, "contact.")
	}
	change := contact.Change{Source: consent.SourceAPI, Actor: "event:" + e.ID}
	// The contact and the event are written in one transaction, so an
	// event costs one commit. A unique violation is a concurrent writer
	// that made the same contact first (PostgreSQL); the second try finds it.
	var announce func(context.Context)
	for try := 0; ; try++ {
		out.Duplicate = false
		err = s.write(ctx, func(tx *sql.Tx) error {
			c, _, done, err := s.contacts.UpsertIn(ctx, tx, in, change)
			if err != nil {
				return prefixField(err, "contact.")
			}
			announce = done
			res, err := tx.ExecContext(ctx, insertEvent, accountID, e.ID, e.Type, programID, c.ID, string(raw), occurred, now)
			if err != nil {
				return fmt.Errorf("automation: insert event: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				out.Duplicate = true // a concurrent request stored it first
				return err
			}
			if err := stopRuns(ctx, tx, accountID, e.Type, c.ID, data, now); err != nil {
				return err
			}
			_, err = s.queue.Insert(ctx, tx, matchArgs{AccountID: accountID, EventID: e.ID}, &river.InsertOpts{MaxAttempts: 10})
			return err
		})
		if try == 0 && db.IsUniqueViolation(err) {
			continue
		}
		break
	}
	if err == nil {
		announce(ctx)
	}
	return out, err
}

// prefixField puts a contact error's field under "contact." so the client
// sees where in the event it was.
func prefixField(err error, prefix string) error {
	if p, ok := problem.As(err); ok && p.Field != "" && !strings.HasPrefix(p.Field, prefix) {
		cp := *p
		cp.Field = prefix + p.Field
		return &cp
	}
	return err
}

// storedEvent is an event as the match job reads it back.
type storedEvent struct {
	id, typ, programID, contactID string
	data                          map[string]any
	occurredAt                    time.Time
}

const selectEvent = `
SELECT id, type, COALESCE(program_id, ''), contact_id, data, occurred_at FROM events WHERE account_id = $1 AND id = $2`

func (s *Service) loadEvent(ctx context.Context, accountID, eventID string) (storedEvent, error) {
	var (
		e   storedEvent
		raw string
	)
	err := s.db.Read().QueryRowContext(ctx, selectEvent, accountID, eventID).Scan(&e.id, &e.typ, &e.programID, &e.contactID, &raw, &e.occurredAt)
	if err != nil {
		return e, fmt.Errorf("automation: load event %s: %w", eventID, err)
	}
	if err := json.Unmarshal([]byte(raw), &e.data); err != nil {
		return e, fmt.Errorf("automation: event %s data: %w", eventID, err)
	}
	return e, nil
}
