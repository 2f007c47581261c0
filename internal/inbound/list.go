package inbound

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldsms/herald/internal/problem"
)

const inboundColumns = `id, contact_id, carrier_id, from_phone, to_phone, body, intent, rule, keyword, action, reply,
needs_review, received_at`

func scanOne(row interface{ Scan(...any) error }) (Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.ContactID, &m.CarrierID, &m.From, &m.To, &m.Body, &m.Intent, &m.Rule, &m.Keyword,
		&m.Action, &m.Reply, &m.NeedsReview, &m.ReceivedAt)
	m.ReceivedAt = m.ReceivedAt.UTC()
	return m, err
}

// Filter narrows the inbound log.
type Filter struct {
	ContactID   string
	Intent      string
	NeedsReview bool
	Cursor      string
	Limit       int
}

// ParseFilter reads a filter from query-string values.
func ParseFilter(get func(string) string) (Filter, error) {
	f := Filter{ContactID: get("contact_id"), Intent: get("intent"), Cursor: get("cursor"), Limit: 50}
	switch get("needs_review") {
	case "", "false":
	case "true":
		f.NeedsReview = true
	default:
		return f, problem.Invalidf("invalid_bool", "needs_review", "needs_review must be true or false")
	}
	switch f.Intent {
	case "", "opt_out", "opt_out_all", "opt_in", "help", "review", "none":
	default:
		return f, problem.Invalidf("invalid_intent", "intent", "unknown intent %q", f.Intent)
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, problem.Invalidf("invalid_limit", "limit", "limit must be a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if f.Cursor != "" {
		if b, err := base64.RawURLEncoding.DecodeString(f.Cursor); err != nil || len(b) == 0 || len(b) > 64 {
			return f, problem.Invalidf("invalid_cursor", "cursor", "cursor is not one this API returned")
		}
	}
	return f, nil
}

// Page is one page of the inbound log, newest first.
type Page struct {
	Data       []Message `json:"data"`
	NextCursor string    `json:"next_cursor"`
}

// List returns the account's replies, newest first.
func (s *Service) List(ctx context.Context, accountID string, f Filter) (Page, error) {
	clauses, args := []string{"account_id = $1"}, []any{accountID}
	add := func(clause string, v any) {
		args = append(args, v)
		clauses = append(clauses, strings.Replace(clause, "$?", "$"+strconv.Itoa(len(args)), 1))
	}
	if f.ContactID != "" {
		add("contact_id = $?", f.ContactID)
	}
	if f.Intent != "" {
		add("intent = $?", f.Intent)
	}
	if f.NeedsReview {
		add("needs_review = $?", true)
	}
	if f.Cursor != "" {
		b, _ := base64.RawURLEncoding.DecodeString(f.Cursor)
		add("id < $?", string(b))
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	args = append(args, f.Limit+1)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+inboundColumns+` FROM inbound_messages WHERE `+
		strings.Join(clauses, " AND ")+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return Page{}, fmt.Errorf("inbound: list: %w", err)
	}
	defer rows.Close()
	page := Page{Data: []Message{}}
	for rows.Next() {
		m, err := scanOne(rows)
		if err != nil {
			return Page{}, fmt.Errorf("inbound: list: %w", err)
		}
		page.Data = append(page.Data, m)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("inbound: list: %w", err)
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(page.Data[f.Limit-1].ID))
	}
	return page, nil
}
