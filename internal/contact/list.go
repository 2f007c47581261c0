package contact

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// Filter narrows a list of contacts. Zero values do not filter.
type Filter struct {
	SMSPreference consent.Preference // the summary preference (marketing's, see Contact)
	Country       string             // ISO alpha-2 of the phone
	Query         string             // part of a name, an email or a phone
	Cursor        string             // from the previous page's NextCursor
	Limit         int                // 1..500, default 50
}

// Page is one page of contacts, oldest first.
type Page struct {
	Data       []Contact `json:"data"`
	NextCursor string    `json:"next_cursor"`
}

// ParseFilter reads a filter from query-string values, refusing bad ones.
func ParseFilter(pref, country, q, cursor, limit string) (Filter, error) {
	f := Filter{Country: strings.ToUpper(strings.TrimSpace(country)), Query: strings.TrimSpace(q), Cursor: cursor, Limit: 50}
	if pref != "" {
		p, err := consent.ParsePreference(pref)
		if err != nil {
			e, _ := problem.As(err)
			e.Field = "sms_preference"
			return f, e
		}
		f.SMSPreference = p
	}
	if f.Country != "" && (len(f.Country) != 2 || strings.Trim(f.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return f, problem.Invalidf("invalid_country", "country", "country must be an ISO 3166 alpha-2 code such as US")
	}
	if len(f.Query) > 200 {
		return f, problem.Invalidf("too_long", "q", "q is longer than 200 bytes")
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > 500 {
			return f, problem.Invalidf("invalid_limit", "limit", "limit must be a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if cursor != "" {
		if _, err := decodeCursor(cursor); err != nil {
			return f, err
		}
	}
	return f, nil
}

func encodeCursor(lastID string) string { return base64.RawURLEncoding.EncodeToString([]byte(lastID)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 64 {
		return "", problem.Invalidf("invalid_cursor", "cursor", "cursor is not one this API returned")
	}
	return string(b), nil
}

// where builds the WHERE clause of a filtered list from fixed fragments;
// only values travel as parameters.
func (f Filter) where(accountID string) (string, []any) {
	clauses := []string{"account_id = $1"}
	args := []any{accountID}
	// add appends a clause whose "$?" marks are numbered in turn.
	add := func(clause string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			clause = strings.Replace(clause, "$?", "$"+strconv.Itoa(len(args)), 1)
		}
		clauses = append(clauses, clause)
	}
	if f.SMSPreference != "" {
		add("sms_marketing = $?", string(f.SMSPreference))
	}
	if f.Country != "" {
		add("phone_country = $?", f.Country)
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		add(`(lower(first_name || ' ' || last_name) LIKE $? ESCAPE '\' OR lower(email) LIKE $? ESCAPE '\'
			OR phone LIKE $? ESCAPE '\' OR COALESCE(phone_e164, '') LIKE $? ESCAPE '\')`, like, like, like, like)
	}
	if f.Cursor != "" {
		last, _ := decodeCursor(f.Cursor)
		add("id > $?", last)
	}
	return strings.Join(clauses, " AND "), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// list returns one page of contacts matching f.
func list(ctx context.Context, q db.Querier, accountID string, f Filter) (Page, error) {
	where, args := f.where(accountID)
	args = append(args, f.Limit+1)
	query := `SELECT ` + contactColumns + ` FROM contacts WHERE ` + where +
		` ORDER BY id LIMIT $` + strconv.Itoa(len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("contact: list: %w", err)
	}
	defer rows.Close()
	page := Page{Data: []Contact{}}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return Page{}, err
		}
		page.Data = append(page.Data, c)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("contact: list: %w", err)
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = encodeCursor(page.Data[f.Limit-1].ID)
	}
	return page, nil
}
