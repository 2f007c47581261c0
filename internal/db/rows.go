package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// maxParams keeps one statement under both engines' limits on bound
// parameters (SQLite 32766, PostgreSQL 65535).
const maxParams = 30000

// InsertRows inserts rows with multi-row INSERT statements, as many rows
// per statement as the parameter limit allows: one round trip per
// statement instead of one per row. table and columns are code constants;
// only values are bound. suffix (such as "ON CONFLICT DO NOTHING") is
// appended to each statement.
func InsertRows(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	perStmt := maxParams / len(columns)
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	for start := 0; start < len(rows); start += perStmt {
		chunk := rows[start:min(start+perStmt, len(rows))]
		var sb strings.Builder
		sb.WriteString(head)
		args := make([]any, 0, len(chunk)*len(columns))
		for i, row := range chunk {
			if len(row) != len(columns) {
				return fmt.Errorf("db: insert into %s: row %d has %d values for %d columns", table, start+i, len(row), len(columns))
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := range row {
				if j > 0 {
					sb.WriteString(", ")
				}
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(len(args) + j + 1))
			}
			sb.WriteByte(')')
			args = append(args, row...)
		}
		if suffix != "" {
			sb.WriteString(" " + suffix)
		}
		if _, err := q.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("db: insert into %s: %w", table, err)
		}
	}
	return nil
}

// Placeholders returns "$from, $from+1, …" for n values, for an IN list
// whose values are bound.
func Placeholders(from, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('$')
		sb.WriteString(strconv.Itoa(from + i))
	}
	return sb.String()
}

// SkipLocked is appended to a claim's inner SELECT: on PostgreSQL
// concurrent claimers pass over each other's rows instead of waiting;
// SQLite has one writer, so there is nothing to skip.
func (d *DB) SkipLocked() string {
	if d.Engine == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
