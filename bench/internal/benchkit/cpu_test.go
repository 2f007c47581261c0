package benchkit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseCPULine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line string
		busy       time.Duration
		ok         bool
	}{
		// user 100, nice 2, system 30, idle 5000, iowait 40, irq 3, softirq 5, steal 70…
		{"a kernel's line", "cpu  100 2 30 5000 40 3 5 70 0 0", 140 * 10 * time.Millisecond, true},
		{"an older kernel's, no steal", "cpu 1 0 0 9 0 0 1", 2 * 10 * time.Millisecond, true},
		{"one core's line", "cpu0 100 2 30 5000 40 3 5 70 0 0", 0, false},
		{"too short", "cpu 1 2 3", 0, false},
		{"not a number", "cpu 1 x 3 4 5 6 7 8", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			busy, err := parseCPULine(tt.line)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.busy, busy)
		})
	}
}

// On Linux the machine's clock reads and only moves forward.
func TestReadCPU(t *testing.T) {
	t.Parallel()
	before := ReadCPU()
	require.Positive(t, before.Machine)
	require.Positive(t, before.Process)
	spent := before.Since()
	require.GreaterOrEqual(t, spent.Machine, time.Duration(0))
	require.GreaterOrEqual(t, spent.Process, time.Duration(0))
}
