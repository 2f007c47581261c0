package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// stmtParams bounds the parameters of one multi-row INSERT. Both engines
// allow far more (SQLite 32766, PostgreSQL 65535), but the SQLite driver
// looks each bound parameter's name up in a list as long as the
// statement's parameters, so binding grows with the square of a
// statement's size: 1,000 message rows (28,000 parameters) in one
// statement spent seconds binding, 10 rows a fifth of the insert's cost.
// A few hundred parameters keep the round trips few and binding cheap.
const stmtParams = 300

// InsertRows inserts rows with multi-row INSERT statements, up to
// stmtParams values per statement: one round trip per statement instead of
// one per row. table and columns are code constants;
// only values are bound. suffix (such as "ON CONFLICT DO NOTHING") is
// appended to each statement.
func InsertRows(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	perStmt := max(1, stmtParams/len(columns))
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
