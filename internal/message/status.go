package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/heraldsms/herald/internal/db"
)

// CarrierStatus is a status report from the carrier about one message.
type CarrierStatus struct {
	CarrierID string
	Status    string // the carrier's word: sent, delivered, undelivered, failed…
	ErrorCode string
	// Token identifies the report; a repeat of a token is applied once.
	Token string
	// MessageID is Herald's id for the message, when the callback's URL
	// carries it (see delivery's status callback): a report that outruns
	// its send's result waits for it instead of being parked.
	MessageID string
}

// CallbackParam is the query parameter of a status callback's URL that
// names the message: the dispatcher adds it to the URL it gives the carrier
// with each send, and the carrier posts to that URL as it was given.
const CallbackParam = "message_id"

// carrierStatus maps the carrier's words to Herald's statuses; the others
// (queued, sending, accepted…) say nothing Herald does not know.
var carrierStatus = map[string]Status{
	"sent": Sent, "delivered": Delivered, "undelivered": Undelivered, "failed": Failed,
}

// Unreachable carrier codes say the number may not take texts: 30003
// unreachable, 30005 unknown or inactive, 30006 landline. 30007 (carrier
// filtering) says nothing about the number and is only counted.
var unreachableCodes = map[string]bool{"30003": true, "30005": true, "30006": true}

// unreachableThreshold is how many such failures mark a number unusable.
const unreachableThreshold = 3

// ApplyCarrierStatus moves a message forward on the carrier's report. A
// repeated report, or one that would move the message backwards (a late
// "sent" after "delivered"), changes nothing. A report for a message whose
// send result this process is about to write waits for that write (see
// Expect); one whose result is not written yet is kept and applied when it
// is. With a group, the reports that arrive together are applied with one
// set of statements. Two kinds of report are answered without the
// database, as they could move nothing: a word Herald does not act on, and
// "sent" for a send this process recorded as sent (see recentSends).
func (s *Service) ApplyCarrierStatus(ctx context.Context, accountID string, cs CarrierStatus) error {
	to, known := carrierStatus[cs.Status]
	if !known {
		return nil // a word Herald does not act on moves nothing
	}
	s.awaited.wait(ctx, cs.MessageID)
	if to == Sent && s.sent.sent(accountID, cs.MessageID, cs.CarrierID) {
		return nil // a send this process recorded as sent: nothing to move
	}
	r := &report{accountID: accountID, CarrierStatus: cs}
	if err := s.reports.Do(ctx, r); err != nil {
		return err
	}
	if r.parked {
		return s.unpark(ctx, accountID, cs.CarrierID)
	}
	if r.moved == nil {
		return nil
	}
	if r.last {
		s.notify(ctx, r.moved)
	}
	return s.actOnCarrierCode(ctx, r.moved, cs.ErrorCode)
}

// report is one carrier status report on its way in, and what it did.
type report struct {
	accountID string
	CarrierStatus
	// moved is the message the report moved; last says it made the
	// message's final move in its batch, so it is the one to announce it.
	moved  *Message
	last   bool
	parked bool
}

// lifeRank orders the carrier's statuses as a message lives them, so the
// reports for one message in one batch apply in that order.
var lifeRank = map[Status]int{Sent: 1, Delivered: 2, Undelivered: 2, Failed: 2}

// applyReports applies a batch of carrier reports: it finds the messages
// by carrier id, drops the reports that would move nothing and those whose
// token was seen before, moves each message through the rest in the order
// of its life, and parks the reports whose send result is not written yet.
//
// A report that would move nothing (a late "sent", a word Herald does not
// act on, a repeat of a final status) keeps no token: applied again, it
// would do nothing again, as statuses only move forward. Every send's
// "sent" report is such a report once its result is written, so this
// leaves half the tokens unwritten.
func (s *Service) applyReports(ctx context.Context, tx *sql.Tx, reps []*report) ([]error, error) {
	now := s.clock.Now()
	for _, r := range reps {
		r.moved, r.last, r.parked = nil, false, false
	}
	byAccount := byCarrierID(reps)
	found := map[string]map[string]*Message{} // account → carrier id → message
	var wanted []*report
	for accountID, byCarrier := range byAccount {
		msgs, err := byCarrierIDs(ctx, tx, s.db.KeyedBy("account_id"), accountID, slices.Collect(maps.Keys(byCarrier)))
		if err != nil {
			return nil, err
		}
		found[accountID] = msgs
		for carrierID, rs := range byCarrier {
			if m := msgs[carrierID]; m == nil {
				wanted = append(wanted, rs...)
			} else if mv, ok := planMove(m, rs, now); ok {
				wanted = append(wanted, mv.reports...)
			}
		}
	}
	fresh, err := newTokens(ctx, s.db, tx, wanted, now)
	if err != nil {
		return nil, err
	}
	var moves []move
	var park [][]any
	for accountID, byCarrier := range byCarrierID(fresh) {
		for carrierID, rs := range byCarrier {
			m := found[accountID][carrierID]
			if m == nil {
				for _, r := range rs {
					r.parked = true
					park = append(park, []any{r.CarrierID, accountID, string(carrierStatus[r.Status]), r.ErrorCode, now})
				}
				continue
			}
			if mv, ok := planMove(m, rs, now); ok {
				moves = append(moves, mv)
			}
		}
	}
	if err := s.applyMoves(ctx, tx, moves, now); err != nil {
		return nil, err
	}
	if err := s.db.Insert(ctx, tx, "pending_statuses", pendingColumns, park, ""); err != nil {
		return nil, err
	}
	return make([]error, len(reps)), nil
}

// byCarrierID groups the reports in words Herald acts on by account and
// carrier id.
func byCarrierID(reps []*report) map[string]map[string][]*report {
	out := map[string]map[string][]*report{}
	for _, r := range reps {
		if _, known := carrierStatus[r.Status]; !known {
			continue
		}
		if out[r.accountID] == nil {
			out[r.accountID] = map[string][]*report{}
		}
		out[r.accountID][r.CarrierID] = append(out[r.accountID][r.CarrierID], r)
	}
	return out
}

// pendingColumns park a report that came before its message's carrier id
// was recorded.
var pendingColumns = db.Cols("carrier_id text", "account_id text", "status text", "error_code text",
	"received_at timestamptz")

var tokenColumns = db.Cols("token text", "received_at timestamptz")

// newTokens records the reports' idempotency tokens and returns the
// reports seen for the first time: those without a token, and the first
// report of each token not recorded before.
func newTokens(ctx context.Context, d *db.DB, tx *sql.Tx, reps []*report, now time.Time) ([]*report, error) {
	var rows [][]any
	first := map[string]bool{}
	for _, r := range reps {
		if r.Token != "" && !first[r.Token] {
			first[r.Token] = true
			rows = append(rows, []any{r.Token, now})
		}
	}
	recorded := map[string]bool{}
	err := d.InsertReturning(ctx, tx, "carrier_callbacks", tokenColumns, rows,
		"ON CONFLICT (token) DO NOTHING RETURNING token", func(rows *sql.Rows) error {
			var token string
			if err := rows.Scan(&token); err != nil {
				return err
			}
			recorded[token] = true
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("message: callback tokens: %w", err)
	}
	var fresh []*report
	for _, r := range reps {
		if r.Token == "" {
			fresh = append(fresh, r)
		} else if recorded[r.Token] {
			delete(recorded, r.Token) // a repeat within the batch is a repeat too
			fresh = append(fresh, r)
		}
	}
	return fresh, nil
}

// byCarrierIDs returns an account's messages by carrier id; tenancy is the
// account column as db.KeyedBy writes it.
func byCarrierIDs(ctx context.Context, q db.Querier, tenancy, accountID string, carrierIDs []string) (map[string]*Message, error) {
	out := map[string]*Message{}
	for start := 0; start < len(carrierIDs); start += 250 {
		chunk := carrierIDs[start:min(start+250, len(carrierIDs))]
		rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE `+tenancy+` = $1
			AND carrier_id IN (`+db.Placeholders(2, len(chunk))+`)`, append([]any{accountID}, anySlice(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("message: find by carrier id: %w", err)
		}
		found, err := scanMessages(rows)
		if err != nil {
			return nil, err
		}
		for _, m := range found {
			out[*m.CarrierID] = m
		}
	}
	return out, nil
}

// planMove takes m through its reports in the order of its life, leaving
// out those that would move it backwards or repeat where it is. Parked
// reports hold Herald's status, which is the carrier's word for it.
func planMove(m *Message, rs []*report, now time.Time) (move, bool) {
	slices.SortStableFunc(rs, func(x, y *report) int {
		return lifeRank[carrierStatus[x.Status]] - lifeRank[carrierStatus[y.Status]]
	})
	mv := move{msg: m, from: m.Status, to: m.Status, code: m.ErrorCode}
	for _, r := range rs {
		to := carrierStatus[r.Status]
		if !CanMove(mv.to, to) {
			continue
		}
		mv.to = to
		if r.ErrorCode != "" {
			mv.code = r.ErrorCode
		}
		mv.changes = append(mv.changes, change{m.AccountID, m.ID, to, "", r.ErrorCode, now})
		mv.reports = append(mv.reports, r)
	}
	return mv, len(mv.reports) > 0
}

// move is one message's way through the reports of a batch.
type move struct {
	msg      *Message
	from, to Status
	code     string
	changes  []change
	reports  []*report
}

// applyMoves writes the moves, bound as db.BindRows binds them. A move
// applies only if the message still has the status it was read with
// (another process may have moved it since); the others are dropped with
// their reports.
func (s *Service) applyMoves(ctx context.Context, tx *sql.Tx, moves []move, now time.Time) error {
	values := make([][]any, len(moves))
	for i, mv := range moves {
		values[i] = []any{mv.msg.AccountID, mv.msg.ID, string(mv.to), mv.code, string(mv.from)}
	}
	moved := map[string]bool{}
	err := s.db.BindRows(moveColumns, values, func(table string, args []any) error {
		// now is numbered last, as it comes last, so that SQLite can take
		// the parameters as anonymous ones (see db.anonymousParams).
		args = append(args, now)
		rows, err := tx.QueryContext(ctx, `WITH v (account_id, id, status, code, old) AS (`+table+`)
			UPDATE messages SET status = v.status, error_code = v.code, updated_at = $`+strconv.Itoa(len(args))+` FROM v
			WHERE messages.account_id = v.account_id AND messages.id = v.id AND messages.status = v.old
			RETURNING messages.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			moved[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("message: move: %w", err)
	}
	var changes []change
	for _, mv := range moves {
		if !moved[mv.msg.ID] {
			continue
		}
		mv.msg.Status, mv.msg.ErrorCode = mv.to, mv.code
		changes = append(changes, mv.changes...)
		for _, r := range mv.reports {
			r.moved = mv.msg
		}
		mv.reports[len(mv.reports)-1].last = true
	}
	return logChanges(ctx, s.db, tx, changes)
}

var moveColumns = db.Cols("account_id text", "id text", "status text", "code text", "old text")

// unpark applies a parked status if the send's result was written in the
// meantime. The send's writer also applies parked statuses in its own
// transaction; whichever of the two commits second sees the other's row,
// so a status is never left parked (on PostgreSQL the two can run
// concurrently). It commits with the other carrier reports: when callbacks
// outrun their send results, most of them come this way, and a
// transaction each held SQLite's writer once per report.
func (s *Service) unpark(ctx context.Context, accountID, carrierID string) error {
	var moved []takenReport
	err := s.write(ctx, s.groups.Reports, func(tx *sql.Tx) error {
		m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages
			WHERE `+s.db.KeyedBy("account_id")+` = $1 AND carrier_id = $2`, accountID, carrierID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil // not written yet: its writer will apply the status
		}
		if err != nil {
			return fmt.Errorf("message: unpark: %w", err)
		}
		moved, err = s.takePending(ctx, tx, []*Message{m}, s.clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	return s.afterPending(ctx, moved)
}

// sweepPending applies reports parked for sent messages after their send
// results committed. Record applies the reports it can see in its own
// transaction; one parked by a transaction that committed in the
// meantime is seen here, or by that report's own unpark, whichever runs
// second.
func (s *Service) sweepPending(ctx context.Context, sent []*Message) error {
	var late []*Message
	for start := 0; start < len(sent); start += 250 {
		chunk := sent[start:min(start+250, len(sent))]
		ids := make([]any, len(chunk))
		byCarrier := map[string]*Message{}
		for i, m := range chunk {
			ids[i], byCarrier[*m.CarrierID] = *m.CarrierID, m
		}
		rows, err := s.db.Read().QueryContext(ctx, `SELECT DISTINCT carrier_id FROM pending_statuses
			WHERE carrier_id IN (`+db.Placeholders(1, len(ids))+`)`, ids...)
		if err != nil {
			return fmt.Errorf("message: sweep pending: %w", err)
		}
		for rows.Next() {
			var carrierID string
			if err := rows.Scan(&carrierID); err != nil {
				rows.Close()
				return fmt.Errorf("message: sweep pending: %w", err)
			}
			late = append(late, byCarrier[carrierID])
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("message: sweep pending: %w", err)
		}
	}
	if len(late) == 0 {
		return nil
	}
	var taken []takenReport
	err := s.write(ctx, s.groups.Reports, func(tx *sql.Tx) error {
		var err error
		taken, err = s.takePending(ctx, tx, late, s.clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	return s.afterPending(ctx, taken)
}

// takenReport is a parked report applied to its message.
type takenReport struct {
	msg  *Message
	code string
	last bool
}

// takePending applies, in the send result's own transaction, the reports
// that arrived before these messages' send results were written.
func (s *Service) takePending(ctx context.Context, tx *sql.Tx, sent []*Message, now time.Time) ([]takenReport, error) {
	byCarrier := map[string]*Message{}
	byAccount := map[string][]string{}
	for _, m := range sent {
		byCarrier[*m.CarrierID] = m
		byAccount[m.AccountID] = append(byAccount[m.AccountID], *m.CarrierID)
	}
	var moves []move
	for accountID, ids := range byAccount {
		pending := map[string][]CarrierStatus{}
		for start := 0; start < len(ids); start += 250 {
			chunk := ids[start:min(start+250, len(ids))]
			rows, err := tx.QueryContext(ctx, `DELETE FROM pending_statuses WHERE account_id = $1
				AND carrier_id IN (`+db.Placeholders(2, len(chunk))+`) RETURNING carrier_id, status, error_code`,
				append([]any{accountID}, anySlice(chunk)...)...)
			if err != nil {
				return nil, fmt.Errorf("message: pending statuses: %w", err)
			}
			for rows.Next() {
				var p CarrierStatus
				if err := rows.Scan(&p.CarrierID, &p.Status, &p.ErrorCode); err != nil {
					rows.Close()
					return nil, fmt.Errorf("message: pending statuses: %w", err)
				}
				pending[p.CarrierID] = append(pending[p.CarrierID], p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("message: pending statuses: %w", err)
			}
		}
		for carrierID, ps := range pending {
			rs := make([]*report, len(ps))
			for i, p := range ps {
				rs[i] = &report{accountID: accountID, CarrierStatus: p}
			}
			if mv, ok := planMove(byCarrier[carrierID], rs, now); ok {
				moves = append(moves, mv)
			}
		}
	}
	if err := s.applyMoves(ctx, tx, moves, now); err != nil {
		return nil, err
	}
	var taken []takenReport
	for _, mv := range moves {
		for _, r := range mv.reports {
			if r.moved != nil {
				taken = append(taken, takenReport{msg: r.moved, code: r.ErrorCode, last: r.last})
			}
		}
	}
	return taken, nil
}

// afterPending announces what applying parked reports did, after the
// commit: the message's final status once, and each carrier code's action.
func (s *Service) afterPending(ctx context.Context, taken []takenReport) error {
	for _, t := range taken {
		if t.last {
			s.notify(ctx, t.msg)
		}
		if err := s.actOnCarrierCode(ctx, t.msg, t.code); err != nil {
			return err
		}
	}
	return nil
}

// CarrierActions is how a carrier's error changes a contact.
type CarrierActions interface {
	OptOutByCarrier(ctx context.Context, accountID, contactID, messageID, code string) error
	MarkNotSMSCapable(ctx context.Context, accountID, contactID string) error
	NoteUnreachable(ctx context.Context, accountID, contactID string, threshold int) (bool, error)
}

// SetCarrierActions connects the contact side of carrier errors.
func (s *Service) SetCarrierActions(a CarrierActions) { s.actions = a }

// actOnCarrierCode turns a carrier error code into what it means for the
// contact: 21610 opts them out; 21211 and 21614 mark the number unusable;
// repeated unreachable failures do too.
func (s *Service) actOnCarrierCode(ctx context.Context, m *Message, code string) error {
	if code == "" || m.ContactID == nil || s.actions == nil {
		return nil
	}
	switch {
	case code == "21610":
		return s.actions.OptOutByCarrier(ctx, m.AccountID, *m.ContactID, m.ID, code)
	case code == "21211" || code == "21614" || code == "21635": // not a number, not a mobile, a landline
		return s.actions.MarkNotSMSCapable(ctx, m.AccountID, *m.ContactID)
	case unreachableCodes[code]:
		_, err := s.actions.NoteUnreachable(ctx, m.AccountID, *m.ContactID, unreachableThreshold)
		return err
	}
	return nil
}
