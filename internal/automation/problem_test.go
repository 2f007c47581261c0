package automation

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/problem"
)

// requireProblem asserts err is an Invalid problem with the code and the
// field, each unless "".
func requireProblem(t *testing.T, err error, code, field string) {
	t.Helper()
	require.Error(t, err)
	p, ok := problem.As(err)
	require.True(t, ok, "%v is not a problem", err)
	require.Equal(t, problem.Invalid, p.Kind)
	if code != "" {
		require.Equal(t, code, p.Code, p.Message)
	}
	if field != "" {
		require.Equal(t, field, p.Field, p.Message)
	}
	require.NotEmpty(t, p.Message)
}
