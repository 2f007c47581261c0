package message

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// Filter narrows a list of messages. Zero values do not filter.
type Filter struct {
	Statuses   []Status
	Kind       Kind
	TemplateID string
	ProgramID  string
	ContactID  string
	// NoticesTo, with ContactID, adds the notices (texts naming no
	// contact) sent to this E.164 number: a conversation shows the
	// "Reply Y to confirm" its contact was sent before opting in.
	NoticesTo    string
	AutomationID string
	ErrorCode    string    // the carrier's, such as 30007 (carrier filtering)
	From, To     time.Time // created_at range, To exclusive
	Cursor       string
	Limit        int
}

// Page is one page of messages, newest first.
type Page struct {
	Data       []*Message `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// ParseFilter reads a filter from query-string values.
func ParseFilter(get func(string) string) (Filter, error) {
	f := Filter{Kind: Kind(get("kind")), TemplateID: get("template_id"), ProgramID: get("program_id"),
		ContactID: get("contact_id"), AutomationID: get("automation_id"), ErrorCode: get("error_code"),
		Cursor: get("cursor"), Limit: 50}
	if !isErrorCode(f.ErrorCode) {
		return f, problem.Invalidf("invalid_error_code", "error_code", "error_code is a carrier's code: 1 to 16 digits")
	}
	for _, s := range strings.Split(get("status"), ",") {
		if s == "" {
			continue
		}
		if _, ok := knownStatuses[Status(s)]; !ok {
			return f, problem.Invalidf("invalid_status", "status", "unknown status %q", s)
		}
		f.Statuses = append(f.Statuses, Status(s))
	}
	switch f.Kind {
	case "", Transactional, Marketing, Test, Reply:
	default:
		return f, problem.Invalidf("invalid_kind", "kind", "kind must be transactional, marketing, test or reply")
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := get(t.name); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, problem.Invalidf("invalid_time", t.name, "%s must be an RFC 3339 time such as 2026-11-01T00:00:00Z", t.name)
			}
			*t.dst = ts.UTC()
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, problem.Invalidf("invalid_limit", "limit", "limit must be a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if f.Cursor != "" {
		if _, err := decodeCursor(f.Cursor); err != nil {
			return f, err
		}
	}
	return f, nil
}

// allStatuses is every status a stored message can have, in the order of
// its life.
var allStatuses = []Status{Skipped, LimitQueued, Scheduled, Queued, RateLimited, Sending, Sent, Delivered,
	Undelivered, Failed, Cancelled}

var knownStatuses = func() map[Status]bool {
	m := make(map[Status]bool, len(allStatuses))
	for _, st := range allStatuses {
		m[st] = true
	}
	return m
}()

// isErrorCode reports whether s is empty (no filter) or a carrier's error
// code as Herald keeps them: digits, at most 16.
func isErrorCode(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 64 || !strings.HasPrefix(string(b), id.Message+"_") {
		return "", problem.Invalidf("invalid_cursor", "cursor", "cursor is not one this API returned")
	}
	return string(b), nil
}

// where builds the clause from fixed fragments; values are bound. A
// filter with both ContactID and NoticesTo is List's two halves, built one
// at a time (see query); here ContactID wins.
func (f Filter) where(accountID string) (string, []any) { return f.whereAfter(nil, accountID) }

// whereAfter is where with its parameters numbered after args.
func (f Filter) whereAfter(args []any, accountID string) (string, []any) {
	args = append(args, accountID)
	clauses := []string{"account_id = $" + strconv.Itoa(len(args))}
	add := func(clause string, v any) {
		args = append(args, v)
		clauses = append(clauses, strings.Replace(clause, "$?", "$"+strconv.Itoa(len(args)), 1))
	}
	if len(f.Statuses) > 0 {
		marks := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			args = append(args, string(s))
			marks[i] = "$" + strconv.Itoa(len(args))
		}
		clauses = append(clauses, "status IN ("+strings.Join(marks, ", ")+")")
	}
	for _, c := range []struct {
		clause string
		v      string
	}{{"kind = $?", string(f.Kind)}, {"template_id = $?", f.TemplateID}, {"program_id = $?", f.ProgramID},
		{"automation_id = $?", f.AutomationID}, {"error_code = $?", f.ErrorCode}} {
		if c.v != "" {
			add(c.clause, c.v)
		}
	}
	switch {
	case f.ContactID != "":
		add("contact_id = $?", f.ContactID)
	case f.NoticesTo != "":
		add("contact_id IS NULL AND to_phone = $?", f.NoticesTo)
	}
	if !f.From.IsZero() {
		add("created_at >= $?", f.From)
	}
	if !f.To.IsZero() {
		add("created_at < $?", f.To)
	}
	if f.Cursor != "" {
		last, _ := decodeCursor(f.Cursor)
		add("id < $?", last)
	}
	return strings.Join(clauses, " AND "), args
}

// query is the statement of one page (its size plus one, to tell whether
// another follows). A conversation, a contact's messages and the notices to
// its number, is two halves, each read newest first through its own index
// and cut at the page's size, then merged. As one query with an OR, the
// plan was the planner's to choose, and SQLite's sampled statistics (see
// db.Optimize) rated a contact's messages in the thousands and walked every
// message of the account instead.
func (f Filter) query(accountID string) (string, []any) {
	half := func(g Filter, args []any) (string, []any) {
		where, args := g.whereAfter(args, accountID)
		args = append(args, f.Limit+1)
		return `SELECT ` + messageColumns + ` FROM messages WHERE ` + where +
			` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args)), args
	}
	if f.ContactID == "" || f.NoticesTo == "" {
		return half(f, nil)
	}
	own, notices := f, f
	own.NoticesTo, notices.ContactID = "", ""
	first, args := half(own, nil)
	second, args := half(notices, args)
	args = append(args, f.Limit+1)
	return `SELECT * FROM (` + first + `) own UNION ALL SELECT * FROM (` + second + `) notices
		ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args)), args
}

// List returns one page of an account's messages, newest first.
func (s *Service) List(ctx context.Context, accountID string, f Filter) (Page, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	query, args := f.query(accountID)
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("message: list: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return Page{}, err
	}
	page := Page{Data: msgs}
	if page.Data == nil {
		page.Data = []*Message{}
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(page.Data[f.Limit-1].ID))
	}
	return page, nil
}

// Outcome statuses of the Communication Outcomes log.
var outcomeOf = map[Status]string{
	Queued: "processing", Scheduled: "processing", Sending: "processing", Sent: "completed", Delivered: "delivered",
	Undelivered: "failed", Failed: "failed", RateLimited: "rate_limited", Skipped: "skipped",
	LimitQueued: "limit_queued", Cancelled: "cancelled",
}

// OutcomeStatus is the outcome log's word for a message status.
func OutcomeStatus(s Status) string { return outcomeOf[s] }

// OutcomeStatuses are the outcome log's words, in the order of a message's
// life.
var OutcomeStatuses = []string{"processing", "completed", "delivered", "rate_limited", "skipped", "limit_queued", "failed", "cancelled"}

// StatusesOfOutcome returns the message statuses an outcome status stands
// for, or nil when it is not one.
func StatusesOfOutcome(outcome string) []Status {
	var out []Status
	for _, st := range allStatuses {
		if outcomeOf[st] == outcome {
			out = append(out, st)
		}
	}
	return out
}

// CountOutcomes counts an account's messages matching f by outcome status.
func (s *Service) CountOutcomes(ctx context.Context, accountID string, f Filter) (map[string]int, error) {
	f.Cursor = ""
	where, args := f.where(accountID)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT status, count(*) FROM messages WHERE `+where+` GROUP BY status`, args...)
	if err != nil {
		return nil, fmt.Errorf("message: count outcomes: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{"processing": 0, "completed": 0, "delivered": 0, "rate_limited": 0, "skipped": 0,
		"limit_queued": 0, "failed": 0, "cancelled": 0}
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("message: count outcomes: %w", err)
		}
		counts[outcomeOf[st]] += n
	}
	return counts, rows.Err()
}
