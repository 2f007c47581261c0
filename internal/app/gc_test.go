package app

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TuneGC sets the collector only when the operator has chosen nothing.
// It changes the whole process's collector, so it runs alone and puts the
// settings back.
func TestTuneGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	tests := []struct {
		name    string
		env     map[string]string
		tuned   bool
		percent int
		limit   int64
	}{
		{"nothing chosen", nil, true, 400, 200 << 20},
		{"GOGC chosen", map[string]string{"GOGC": "100"}, false, 100, math.MaxInt64},
		{"GOMEMLIMIT chosen", map[string]string{"GOMEMLIMIT": "1GiB"}, false, 100, math.MaxInt64},
		{"GOGC off", map[string]string{"GOGC": "off"}, false, 100, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			require.Equal(t, tt.tuned, TuneGC(func(k string) string { return tt.env[k] }))
			require.Equal(t, tt.percent, debug.SetGCPercent(100))
			require.Equal(t, tt.limit, debug.SetMemoryLimit(-1))
		})
	}
}
