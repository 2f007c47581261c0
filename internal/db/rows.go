package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
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
// appended to each statement. It is for a few rows at a time and needs no
// column types; batches that grow with the traffic go through DB.Insert,
// which binds them as arrays on PostgreSQL.
func InsertRows(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string) error {
	return insertRows(ctx, q, table, columns, rows, suffix, nil)
}

// InsertRowsReturning is InsertRows for statements whose suffix ends in a
// RETURNING clause: scan is called on each row they return.
func InsertRowsReturning(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	return insertRows(ctx, q, table, columns, rows, suffix, scan)
}

func insertRows(ctx context.Context, q Querier, table string, columns []string, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") "
	if suffix != "" {
		suffix = " " + suffix
	}
	if err := checkWidths(len(columns), rows); err != nil {
		return fmt.Errorf("db: insert into %s: %w", table, err)
	}
	err := valuesLists(len(columns), rows, func(values string, args []any) error {
		return execOrScan(ctx, q, head+values+suffix, args, scan)
	})
	if err != nil {
		return fmt.Errorf("db: insert into %s: %w", table, err)
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
// (such as "ON CONFLICT DO NOTHING") is appended to each statement; the
// rows are bound as BindRows binds them.
func (d *DB) Insert(ctx context.Context, q Querier, table string, columns []Column, rows [][]any, suffix string) error {
	return d.insert(ctx, q, table, columns, rows, suffix, nil)
}

// InsertReturning is Insert for a suffix that ends in a RETURNING clause:
// scan is called on each row the statements return.
func (d *DB) InsertReturning(ctx context.Context, q Querier, table string, columns []Column, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	return d.insert(ctx, q, table, columns, rows, suffix, scan)
}

// insert writes rows. On PostgreSQL its statement, an insert from unnest
// of one array per column, has a single plan whatever its values (every
// row is written; there is nothing to choose), so unlike Herald's other
// statements it is prepared by name, once per connection, and later runs
// skip the server's parse and plan; the pipeline's inserts of messages,
// log entries and callback tokens are a good part of its statements.
func (d *DB) insert(ctx context.Context, q Querier, table string, columns []Column, rows [][]any, suffix string, scan func(*sql.Rows) error) error {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.Name
	}
	head := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") "
	if suffix != "" {
		suffix = " " + suffix
	}
	err := d.BindRows(columns, rows, func(source string, args []any) error {
		if d.prepareInserts {
			args = append([]any{pgx.QueryExecModeCacheStatement}, args...)
		}
		return execOrScan(ctx, q, head+source+suffix, args, scan)
	})
	if err != nil {
		return fmt.Errorf("db: insert into %s: %w", table, err)
	}
	return nil
}

// BindRows binds rows, each holding one value per column, as a table that
// a statement can insert from or join (WITH v (…) AS (table)), in as many
// chunks as the engine needs, and calls fn with each chunk's table and its
// arguments: $1 to $len(args). The statement's own parameters come after
// them, numbered and written after the table.
//
// On PostgreSQL the table is SELECT * FROM unnest($1::type[], …): each
// column's values are bound as one array of the column's type, so one
// statement of as many parameters as columns takes up to unnestRows rows
// and is parsed and planned once. A VALUES list of a wide table holds ten
// rows in a few hundred parameters, and the server parses and plans each
// statement anew: a thousand messages were a hundred statements and 214 ms.
// SQLite binds its parameters in process and has no arrays; there the
// table is a VALUES list of up to stmtParams parameters.
func (d *DB) BindRows(columns []Column, rows [][]any, fn func(table string, args []any) error) error {
	if err := checkWidths(len(columns), rows); err != nil {
		return err
	}
	if d.Engine != Postgres {
		return valuesLists(len(columns), rows, fn)
	}
	var sb strings.Builder
	sb.WriteString("SELECT * FROM unnest(")
	for i, c := range columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("$" + strconv.Itoa(i+1) + "::" + c.Type + "[]")
	}
	sb.WriteByte(')')
	table := sb.String()
	for start := 0; start < len(rows); start += unnestRows {
		chunk := rows[start:min(start+unnestRows, len(rows))]
		args := make([]any, len(columns))
		for j := range columns {
			values := make([]any, len(chunk))
			for i, row := range chunk {
				values[i] = row[j]
			}
			args[j] = values
		}
		if err := fn(table, args); err != nil {
			return err
		}
	}
	return nil
}

// checkWidths refuses rows that do not hold one value per column, before
// any of them is sent.
func checkWidths(width int, rows [][]any) error {
	for i, row := range rows {
		if len(row) != width {
			return fmt.Errorf("row %d has %d values for %d columns", i, len(row), width)
		}
	}
	return nil
}

// valuesLists calls fn with rows as VALUES lists of up to stmtParams
// parameters each.
func valuesLists(width int, rows [][]any, fn func(table string, args []any) error) error {
	perStmt := max(1, stmtParams/width)
	for start := 0; start < len(rows); start += perStmt {
		chunk := rows[start:min(start+perStmt, len(rows))]
		var sb strings.Builder
		sb.WriteString("VALUES ")
		args := make([]any, 0, len(chunk)*width)
		for i, row := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + Placeholders(len(args)+1, width) + ")")
			args = append(args, row...)
		}
		if err := fn(sb.String(), args); err != nil {
			return err
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
