package message

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// CreateMany makes the messages of a batch, such as one page of a scheduled
// promotion's audience, under the same rules as Create (rendering, audience
// rules, sending window, frequency cap, monthly limit), and returns them in
// the order of reqs. Requests name their contacts by ContactID.
//
// A request whose DedupeKey already made a message gets that message back,
// not a second one, and so does a repeat of a key within the batch. A
// request whose contact is gone is skipped quietly (contact_deleted), and a
// Quiet request with a missing merge value is skipped as in Create; neither
// fails the batch. What fails the batch is what would fail every request
// alike: SMS off, an unapproved template, no sender number.
//
// The batch is written in one transaction with multi-row inserts, and the
// dispatcher of each number is woken once.
func (s *Service) CreateMany(ctx context.Context, accountID string, reqs []Request) ([]*Message, error) {
	out := make([]*Message, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if !a.SMSEnabled {
		return nil, problem.Invalidf(ReasonSMSNotEnabled, "", "SMS is not enabled for this account; the operator enables it")
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		if r.ContactID == "" {
			return nil, problem.Invalidf("required", "contact_id", "request %d names no contact_id", i)
		}
		ids[i] = r.ContactID
	}
	contacts, err := s.contacts.GetMany(ctx, accountID, ids)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	lk := &lookups{s: s}
	byKey := map[string]*Message{}
	var fresh []*Message
	for i, r := range reqs {
		if m := byKey[r.DedupeKey]; r.DedupeKey != "" && m != nil {
			out[i] = m
			continue
		}
		var m *Message
		if c, ok := contacts[r.ContactID]; ok {
			if m, err = s.render(ctx, a, &c, r, lk); err != nil {
				return nil, err
			}
			if m.Status == "" {
				if reason := Skip(a, m.Kind, &c, true, ""); reason != "" {
					m.Status, m.Reason = Skipped, reason
				}
			}
			planWindow(a, &c, m, now)
		} else if m, err = s.goneContact(ctx, a, r, lk, now); err != nil {
			return nil, err
		}
		m.CreatedAt, m.UpdatedAt = now, now
		out[i] = m
		fresh = append(fresh, m)
		if r.DedupeKey != "" {
			byKey[r.DedupeKey] = m
		}
	}
	existing, mark, err := s.storeMany(ctx, a, fresh, now)
	if err != nil {
		return nil, err
	}
	var stored []*Message
	for i, m := range out {
		if m.DedupeKey != nil && existing[*m.DedupeKey] != nil {
			out[i] = existing[*m.DedupeKey]
		}
	}
	for _, m := range fresh {
		if m.DedupeKey == nil || existing[*m.DedupeKey] == nil {
			stored = append(stored, m)
		}
	}
	s.afterStore(ctx, a.ID, stored, mark)
	return out, nil
}

// goneContact is the skipped message of a request whose contact no longer
// exists: recorded, like any skip, so the outcome shows why nothing went.
func (s *Service) goneContact(ctx context.Context, a account.Account, r Request, lk *lookups, now time.Time) (*Message, error) {
	tpl, kind, err := lk.template(ctx, a.ID, r)
	if err != nil {
		return nil, err
	}
	m := &Message{ID: id.New(id.Message), AccountID: a.ID, ContactID: &r.ContactID, Kind: kind, TemplateID: &tpl.ID,
		VersionID: &tpl.VersionID, Step: r.Step, Encoding: string(segment.GSM7), Status: Skipped,
		Reason: ReasonContactDeleted, NextAttempt: now}
	setOpt(&m.ProgramID, r.ProgramID)
	setOpt(&m.AutomationID, r.AutomationID)
	setOpt(&m.EventID, r.EventID)
	setOpt(&m.DedupeKey, r.DedupeKey)
	return m, nil
}

// storeMany writes new messages in one transaction, leaving out those whose
// dedupe key already made a message (returned by key). On PostgreSQL a
// concurrent writer can insert a key between the look-up and the insert;
// the batch is then tried again, and finds that message.
func (s *Service) storeMany(ctx context.Context, a account.Account, msgs []*Message, now time.Time) (map[string]*Message, int, error) {
	type base struct {
		status Status
		reason string
	}
	bases := make([]base, len(msgs))
	var keys []string
	for i, m := range msgs {
		bases[i] = base{m.Status, m.Reason}
		if m.DedupeKey != nil {
			keys = append(keys, *m.DedupeKey)
		}
	}
	for attempt := 1; ; attempt++ {
		var existing map[string]*Message
		mark := 0
		err := s.write(ctx, s.groups.Accept, func(tx *sql.Tx) error {
			var err error
			if existing, err = byDedupeKeys(ctx, tx, a.ID, keys); err != nil {
				return err
			}
			var insert []*Message
			for i, m := range msgs {
				m.Status, m.Reason, m.Reserved = bases[i].status, bases[i].reason, false
				if m.DedupeKey == nil || existing[*m.DedupeKey] == nil {
					insert = append(insert, m)
				}
			}
			if mark, err = s.admit(ctx, tx, a, insert, now); err != nil {
				return err
			}
			return insertMessages(ctx, s.db, tx, insert)
		})
		if db.IsUniqueViolation(err) && attempt < 3 {
			continue
		}
		return existing, mark, err
	}
}

// byDedupeKeys returns the messages an account already has for keys.
func byDedupeKeys(ctx context.Context, q db.Querier, accountID string, keys []string) (map[string]*Message, error) {
	out := map[string]*Message{}
	for start := 0; start < len(keys); start += 1000 {
		chunk := keys[start:min(start+1000, len(keys))]
		rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE account_id = $1
			AND dedupe_key IN (`+db.Placeholders(2, len(chunk))+`)`, append([]any{accountID}, anySlice(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("message: by dedupe key: %w", err)
		}
		found, err := scanMessages(rows)
		if err != nil {
			return nil, err
		}
		for _, m := range found {
			out[*m.DedupeKey] = m
		}
	}
	return out, nil
}
