package message

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/guard"
)

// The marketing guards (package guard) applied to message rows: a
// marketing message outside its recipient's local sending window is stored
// as scheduled, due when the window opens, and one past the contact's
// frequency cap is skipped. Both are checked when the message is made and
// again right before it is sent. Transactional messages, tests and replies
// pass untouched.

// recipient is whom the window rules judge a message by: its number, and
// the contact's own time zone and country when there is a contact.
func recipient(to string, c *contact.Contact) guard.Recipient {
	r := guard.Recipient{E164: to}
	if c != nil {
		r.TimeZone, r.Country = c.TimeZone, c.PhoneCountry
	}
	return r
}

// planWindow sets when a new message may go: now, or for marketing outside
// the recipient's window, when the window next opens.
func planWindow(a account.Account, c *contact.Contact, m *Message, now time.Time) {
	m.NextAttempt = now
	if m.Kind != Marketing || m.Status != "" {
		return
	}
	m.NextAttempt, _ = guard.NextOpen(now, recipient(m.To, c), a.SendingWindow)
}

// admit decides, inside the transaction that stores them, the status of
// new messages that passed the audience rules: skipped past the frequency
// cap, limit_queued past the monthly limit, otherwise queued, or scheduled
// when they must wait for the window. Counting the cap in the same
// transaction as the insert is what keeps two messages made at once from
// both passing it: SQLite has one writer, and on PostgreSQL the contacts'
// rows are locked first. It returns the usage mark the reservations crossed.
func (s *Service) admit(ctx context.Context, tx *sql.Tx, a account.Account, msgs []*Message, now time.Time) (int, error) {
	capped, err := s.applyCap(ctx, tx, a, msgs)
	if err != nil {
		return 0, err
	}
	var wanting []*Message
	for _, m := range msgs {
		if m.Status == "" && !capped[m] {
			wanting = append(wanting, m)
		}
	}
	mark, err := reserveMany(ctx, s.db, tx, a, wanting, now)
	if err != nil {
		return 0, err
	}
	for _, m := range wanting {
		if m.Status == Queued && m.NextAttempt.After(now) {
			m.Status, m.Reason = Scheduled, ReasonSendingWindow
		}
	}
	return mark, nil
}

// applyCap skips the marketing messages that would take a contact past the
// account's frequency cap (or a state's daily limit), counting what the
// contact already has on its way or sent and the batch's earlier messages.
func (s *Service) applyCap(ctx context.Context, tx *sql.Tx, a account.Account, msgs []*Message) (map[*Message]bool, error) {
	var ids []string
	lo, hi := time.Time{}, time.Time{}
	for _, m := range msgs {
		if m.Status != "" || m.Kind != Marketing || m.ContactID == nil {
			continue
		}
		ids = append(ids, *m.ContactID)
		if lo.IsZero() || m.NextAttempt.Before(lo) {
			lo = m.NextAttempt
		}
		if m.NextAttempt.After(hi) {
			hi = m.NextAttempt
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if err := s.lockContacts(ctx, tx, a.ID, ids); err != nil {
		return nil, err
	}
	cp := a.FrequencyCap.Effective()
	times, err := marketingTimes(ctx, s.db.Engine, tx, a.ID, ids, lo.Add(-cp.Period), hi.Add(cp.Period))
	if err != nil {
		return nil, err
	}
	capped := map[*Message]bool{}
	for _, m := range msgs {
		if m.Status != "" || m.Kind != Marketing || m.ContactID == nil {
			continue
		}
		near := 0
		for _, t := range times[*m.ContactID] {
			if d := t.Sub(m.NextAttempt); d > -cp.Period && d < cp.Period {
				near++
			}
		}
		if !guard.CapAllows(near, a.FrequencyCap, guard.StateLimit(m.To)) {
			m.Status, m.Reason = Skipped, ReasonFrequencyCap
			capped[m] = true
			continue
		}
		times[*m.ContactID] = append(times[*m.ContactID], m.NextAttempt)
	}
	return capped, nil
}

// lockContacts takes the row locks of the contacts about to get marketing,
// in id order so that two batches cannot deadlock, on PostgreSQL; a second
// transaction for the same contact waits, then counts what the first wrote.
// SQLite's single writer serialises the transactions already.
func (s *Service) lockContacts(ctx context.Context, tx *sql.Tx, accountID string, ids []string) error {
	if s.db.Engine != db.Postgres {
		return nil
	}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		args := append([]any{accountID}, anySlice(chunk)...)
		rows, err := tx.QueryContext(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND id IN (`+
			db.Placeholders(2, len(chunk))+`) ORDER BY id FOR UPDATE`, args...)
		if err != nil {
			return fmt.Errorf("message: lock contacts: %w", err)
		}
		rows.Close()
	}
	return nil
}

// marketingTimes returns, per contact, when each of their marketing
// messages went or will go (next_attempt_at: the send's time once sent, the
// window's opening while scheduled), for messages between from and to that
// count against the cap: all but those skipped, cancelled, waiting in the
// limit queue (they are checked again when released) or failed before the
// carrier took them.
func marketingTimes(ctx context.Context, e db.Engine, q db.Querier, accountID string, ids []string, from, to time.Time) (map[string][]time.Time, error) {
	out := make(map[string][]time.Time, len(ids))
	for start := 0; start < len(ids); start += 1000 {
		query, args := marketingTimesQuery(e, accountID, ids[start:min(start+1000, len(ids))], from, to)
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("message: marketing times: %w", err)
		}
		for rows.Next() {
			var id string
			var t time.Time
			if err := rows.Scan(&id, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("message: marketing times: %w", err)
			}
			out[id] = append(out[id], t.UTC())
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("message: marketing times: %w", err)
		}
	}
	return out, nil
}

// countsAgainstCap are the messages the cap counts when it places new
// ones: all but those skipped, cancelled, waiting in the limit queue or
// failed before the carrier took them.
const countsAgainstCap = `status NOT IN ('skipped', 'cancelled', 'limit_queued') AND (status <> 'failed' OR carrier_id IS NOT NULL)`

// marketingTimesQuery reads the times of the marketing messages of some
// contacts (ids, each once) between from and to.
//
// On PostgreSQL it reads each contact's messages by its own look-up
// (LATERAL, kept apart from the outer query by OFFSET 0). Written as one
// IN list, the planner chose by its statistics, and statistics taken while
// a promotion's first pages were written (some sixty rows) had it read the
// account's every message for each page until the next analysis.
func marketingTimesQuery(e db.Engine, accountID string, ids []string, from, to time.Time) (string, []any) {
	if e == db.Postgres {
		return `SELECT c.id, m.next_attempt_at FROM unnest($4::text[]) AS c (id), LATERAL (
			SELECT next_attempt_at FROM messages
			WHERE account_id = $1 AND contact_id = c.id AND kind = 'marketing'
			AND next_attempt_at > $2 AND next_attempt_at < $3 AND ` + countsAgainstCap + `
			OFFSET 0) AS m`, []any{accountID, from, to, ids}
	}
	return `SELECT contact_id, next_attempt_at FROM messages
		WHERE account_id = $1 AND next_attempt_at > $2 AND next_attempt_at < $3
		AND kind = 'marketing' AND contact_id IN (` + db.Placeholders(4, len(ids)) + `)
		AND ` + countsAgainstCap, append([]any{accountID, from, to}, anySlice(ids)...)
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Hold is why a claimed message may not go now: skipped for Reason, or,
// when Reason is empty, held back until Until (its window opens then).
type Hold struct {
	Reason string
	Until  time.Time
}

// recheckGuards applies the window and the cap to claimed marketing
// messages that passed the audience rules. The cap counts what the contact
// was sent, or is being sent, outside this batch in the last period, and the
// batch's messages allowed before; messages still waiting are not counted:
// they are checked when their own turn comes.
func (s *Service) recheckGuards(ctx context.Context, a account.Account, msgs []*Message, contacts map[string]contact.Contact, holds map[string]Hold) error {
	now := s.clock.Now()
	var ids, batch []string
	for _, m := range msgs {
		batch = append(batch, m.ID)
		if _, held := holds[m.ID]; !held && m.Kind == Marketing && m.ContactID != nil {
			ids = append(ids, *m.ContactID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	cp := a.FrequencyCap.Effective()
	sent, err := sentMarketing(ctx, s.db.Engine, s.db.Read(), a.ID, ids, batch, now.Add(-cp.Period))
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if _, held := holds[m.ID]; held || m.Kind != Marketing || m.ContactID == nil {
			continue
		}
		var c *contact.Contact
		if found, ok := contacts[*m.ContactID]; ok {
			c = &found
		}
		if at, open := guard.NextOpen(now, recipient(m.To, c), a.SendingWindow); !open {
			holds[m.ID] = Hold{Until: at}
			continue
		}
		if !guard.CapAllows(sent[*m.ContactID], a.FrequencyCap, guard.StateLimit(m.To)) {
			holds[m.ID] = Hold{Reason: ReasonFrequencyCap}
			continue
		}
		sent[*m.ContactID]++
	}
	return nil
}

// goneOrGoing are the messages the cap counts when it re-checks a batch:
// those being sent now, and those the carrier took since $2.
const goneOrGoing = `(status = 'sending' OR (next_attempt_at > $2 AND (status IN ('sent', 'delivered', 'undelivered')
	OR (status = 'failed' AND carrier_id IS NOT NULL))))`

// sentMarketingQuery counts, per contact of ids (each once), the marketing
// messages that went out since since or are going out now, leaving out a
// batch being checked. On PostgreSQL each contact is counted by its own
// look-up, for the reason marketingTimesQuery gives: with statistics from a
// nearly empty table the planner read every message of the account being
// sent or sent, 12 ms a batch in a 100,000-contact promotion.
func sentMarketingQuery(e db.Engine, accountID string, ids, batch []string, since time.Time) (string, []any) {
	if e == db.Postgres {
		return `SELECT c.id, (SELECT count(*) FROM messages
			WHERE account_id = $1 AND contact_id = c.id AND kind = 'marketing' AND id <> ALL ($4::text[])
			AND ` + goneOrGoing + `)
			FROM unnest($3::text[]) AS c (id)`, []any{accountID, since, ids, batch}
	}
	args := append([]any{accountID, since}, anySlice(ids)...)
	return `SELECT contact_id, count(*) FROM messages
		WHERE account_id = $1 AND kind = 'marketing' AND contact_id IN (` + db.Placeholders(3, len(ids)) + `)
		AND id NOT IN (` + db.Placeholders(3+len(ids), len(batch)) + `)
		AND ` + goneOrGoing + `
		GROUP BY contact_id`, append(args, anySlice(batch)...)
}

// sentMarketing counts, per contact, the marketing messages outside batch
// being sent now or taken by the carrier since since.
func sentMarketing(ctx context.Context, e db.Engine, q db.Querier, accountID string, ids, batch []string, since time.Time) (map[string]int, error) {
	query, args := sentMarketingQuery(e, accountID, ids, batch, since)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("message: sent marketing: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int, len(ids))
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("message: sent marketing: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message: sent marketing: %w", err)
	}
	return out, nil
}
