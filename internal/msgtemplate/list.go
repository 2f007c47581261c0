package msgtemplate

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// Filter narrows a list of templates. Zero values do not filter. Archived
// templates are never listed; Get still finds them, for message history.
type Filter struct {
	Status Status
	Kind   Kind
	Cursor string // from the previous page's NextCursor
	Limit  int    // 1..500, default 50
}

// Page is one page of templates, oldest first.
type Page struct {
	Data       []Template `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// ParseFilter reads a filter from query-string values, refusing bad ones.
func ParseFilter(status, kind, cursor, limit string) (Filter, error) {
	f := Filter{Cursor: cursor, Limit: 50}
	var err error
	if status != "" {
		if f.Status, err = ParseStatus(status); err != nil {
			return f, err
		}
	}
	if kind != "" {
		if f.Kind, err = ParseKind(kind, "kind"); err != nil {
			return f, err
		}
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

// where builds the WHERE clause of a list from fixed fragments; only values
// travel as parameters. An empty accountID lists across accounts (the
// operator's review queue).
func (f Filter) where(accountID string) (string, []any) {
	clauses := []string{"t.archived_at IS NULL"}
	var args []any
	add := func(clause string, v any) {
		args = append(args, v)
		clauses = append(clauses, strings.Replace(clause, "$?", "$"+strconv.Itoa(len(args)), 1))
	}
	if accountID != "" {
		add("t.account_id = $?", accountID)
	}
	if f.Status != "" {
		add("t.status = $?", string(f.Status))
	}
	if f.Kind != "" {
		add("cv.kind = $?", string(f.Kind))
	}
	if f.Cursor != "" {
		last, _ := decodeCursor(f.Cursor)
		add("t.id > $?", last)
	}
	return strings.Join(clauses, " AND "), args
}

// list returns one page of templates matching f.
func list(ctx context.Context, q db.Querier, accountID string, f Filter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	where, args := f.where(accountID)
	args = append(args, f.Limit+1)
	query := templateSelect + ` WHERE ` + where + ` ORDER BY t.id LIMIT $` + strconv.Itoa(len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("msgtemplate: list: %w", err)
	}
	defer rows.Close()
	page := Page{Data: []Template{}}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return Page{}, err
		}
		page.Data = append(page.Data, t)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("msgtemplate: list: %w", err)
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = encodeCursor(page.Data[f.Limit-1].ID)
	}
	return page, nil
}
