package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// Each value reaches its own parameter, whether the statement's
// parameters were rewritten as anonymous ones (in order, once each) or
// kept (one used twice, or out of order).
func TestParametersBindInPlace(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, tt := range []struct {
			query string
			args  []any
			want  string
		}{
			{`SELECT $1 || '-' || $2 || '-' || $3`, []any{"a", "b", "c"}, "a-b-c"},
			{`SELECT $1 || '-' || $2 || '-' || $1`, []any{"a", "b"}, "a-b-a"},
			{`SELECT $3 || '-' || $2 || '-' || $1`, []any{"a", "b", "c"}, "c-b-a"},
			{`SELECT '$1' || $1 || $2 || $3 -- $1`, []any{"a", "b", "c"}, "$1abc"},
		} {
			var got string
			require.NoError(t, d.Read().QueryRowContext(ctx, tt.query, tt.args...).Scan(&got), tt.query)
			require.Equal(t, tt.want, got, tt.query)
		}
	})
}
