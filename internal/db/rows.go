package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// stmtParams bounds the parameters of one multi-row INSERT. Both engines
// allow far more (SQLite 32766, PostgreSQL 65535), but the SQLite driver
// looks each bound parameter's name up in a list as long as the
// statement's parameters, so binding grows with the square of a
// statement's size: 1,000 message rows (28,000 parameters) in one
// statement spent seconds binding. SQLite statements are now prepared with
// anonymous parameters where they can be (see anonymousParams), which
// have no names to look up; a few hundred parameters still keep the round
// trips few and a failed statement's retry small.
const stmtParams = 300

// InsertRows inserts rows with multi-row INSERT statements, up to
// stmtParams values per statement: one round trip per statement instead of
// one per row. table and columns are code constants;
// only values are bound. suffix (such as "ON CONFLICT DO NOTHING") is
// appended to each statement.
func InsertRows(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string) error {
	return insertRows(ctx, q, table, columns, rows, suffix, nil)
}

// InsertRowsReturning is InsertRows for statements whose suffix ends in a
// RETURNING clause: scan is called on each row they return.
func InsertRowsReturning(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	return insertRows(ctx, q, table, columns, rows, suffix, scan)
}

func insertRows(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
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
		if err := execOrScan(ctx, q, sb.String(), args, scan); err != nil {
			return fmt.Errorf("db: insert into %s: %w", table, err)
		}
	}
	return nil
}

// Column is a column a bulk insert writes, with its PostgreSQL type.
type Column struct {
	Name string
	Type string // as PostgreSQL spells it: text, integer, timestamptz, boolean
}

// Cols lists columns as "name type" pairs: Cols("id text", "n integer").
func Cols(specs ...string) []Column {
	cols := make([]Column, len(specs))
	for i, spec := range specs {
		name, typ, ok := strings.Cut(spec, " ")
		if !ok {
			panic("db: column " + spec + " has no type")
		}
		cols[i] = Column{Name: name, Type: typ}
	}
	return cols
}

// unnestRows bounds the rows of one PostgreSQL bulk insert, so that a
// failed statement's retry stays small.
const unnestRows = 1000

// Insert inserts rows, each holding one value per column, into table.
// table and columns are code constants; only values are bound. suffix
// (such as "ON CONFLICT DO NOTHING") is appended to each statement.
//
// On PostgreSQL each column's values are bound as one array of the
// column's type and the rows are unnested from the arrays: one statement
// of as many parameters as columns, parsed and planned once for up to
// unnestRows rows. A multi-row VALUES list of a wide table holds ten rows
// in its few hundred parameters, and the server parses and plans each
// one anew: a thousand messages took a hundred statements and 214 ms.
// SQLite binds its parameters in process and has no arrays; it gets the
// VALUES lists of InsertRows.
func (d *DB) Insert(ctx context.Context, q Querier, table string, columns []Column, rows [][]any, suffix string) error {
	return d.insert(ctx, q, table, columns, rows, suffix, nil)
}

// InsertReturning is Insert for a suffix that ends in a RETURNING clause:
// scan is called on each row the statements return.
func (d *DB) InsertReturning(ctx context.Context, q Querier, table string, columns []Column, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	return d.insert(ctx, q, table, columns, rows, suffix, scan)
}

func (d *DB) insert(ctx context.Context, q Querier, table string, columns []Column, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.Name
	}
	if d.Engine != Postgres {
		return insertRows(ctx, q, table, names, rows, suffix, scan)
	}
	if len(rows) == 0 {
		return nil
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT * FROM unnest(")
	for i, c := range columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("$" + strconv.Itoa(i+1) + "::" + c.Type + "[]")
	}
	sb.WriteByte(')')
	if suffix != "" {
		sb.WriteString(" " + suffix)
	}
	query := sb.String()
	for start := 0; start < len(rows); start += unnestRows {
		chunk := rows[start:min(start+unnestRows, len(rows))]
		arrays := make([][]any, len(columns))
		for j := range arrays {
			arrays[j] = make([]any, len(chunk))
		}
		for i, row := range chunk {
			if len(row) != len(columns) {
				return fmt.Errorf("db: insert into %s: row %d has %d values for %d columns", table, start+i, len(row), len(columns))
			}
			for j, v := range row {
				arrays[j][i] = v
			}
		}
		args := make([]any, len(arrays))
		for j, a := range arrays {
			args[j] = a
		}
		if err := execOrScan(ctx, q, query, args, scan); err != nil {
			return fmt.Errorf("db: insert into %s: %w", table, err)
		}
	}
	return nil
}

func execOrScan(ctx context.Context, q Querier, query string, args []any, scan func(*sql.Rows) error) error {
	if scan == nil {
		_, err := q.ExecContext(ctx, query, args...)
		return err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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

// Cast writes parameter $n for a value whose type the statement does not
// show PostgreSQL (a VALUES list's column, say): "$n::type" there; SQLite
// takes values as they come.
func (d *DB) Cast(n int, pgType string) string {
	if d.Engine == Postgres {
		return "$" + strconv.Itoa(n) + "::" + pgType
	}
	return "$" + strconv.Itoa(n)
}
