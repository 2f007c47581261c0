package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRetrySchedule checks the documented schedule: 30 s doubling to an
// hour, each wait up to a tenth shorter, the same for the same delivery.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	s := &Service{cfg: Config{}.withDefaults()}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		got := s.retryDelay("whd_01jgz0000000000000000000000", i+1)
		require.LessOrEqual(t, got, w, "attempt %d", i+1)
		require.Greater(t, got, w-w/10-time.Nanosecond, "attempt %d", i+1)
		require.Equal(t, got, s.retryDelay("whd_01jgz0000000000000000000000", i+1), "deterministic")
	}
	require.NotEqual(t, s.retryDelay("whd_a", 8), s.retryDelay("whd_b", 8), "jitter differs by delivery")
	// About 31 attempts fit in the 24-hour window.
	attempts := 1
	for elapsed := time.Duration(0); ; attempts++ {
		elapsed += s.retryDelay("whd_01jgz0000000000000000000000", attempts)
		if elapsed > s.cfg.RetryFor {
			break
		}
	}
	require.InDelta(t, 31, attempts, 4)
}
