package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldsms/herald/internal/db"
)

// Plan returns the planner's plan for query, one step per line, without
// running it: PostgreSQL's EXPLAIN, or SQLite's EXPLAIN QUERY PLAN (whose
// step text is its last column). Tests read it to check that a query uses
// the index it was written for.
func Plan(t testing.TB, d *db.DB, query string, args ...any) string {
	t.Helper()
	return PlanOn(t, d.Read(), d.Engine, query, args...)
}

// PlanOn is Plan on a given connection or transaction of an engine: the
// plan as a transaction with its own planner settings makes it.
func PlanOn(t testing.TB, q db.Querier, e db.Engine, query string, args ...any) string {
	t.Helper()
	explain := "EXPLAIN "
	if e == db.SQLite {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := q.QueryContext(context.Background(), explain+query, args...)
	if err != nil {
		t.Fatalf("dbtest: explain: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("dbtest: explain: %v", err)
	}
	var steps []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("dbtest: explain: %v", err)
		}
		steps = append(steps, fmt.Sprint(vals[len(vals)-1]))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("dbtest: explain: %v", err)
	}
	return strings.Join(steps, "\n")
}
