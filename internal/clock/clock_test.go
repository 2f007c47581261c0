package clock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/clock"
)

func mustUTC(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

func TestWallTime(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	lh, err := time.LoadLocation("Australia/Lord_Howe") // clocks move 30 minutes
	require.NoError(t, err)
	cases := []struct {
		name string
		got  time.Time
		want string
	}{
		{"ordinary", clock.WallTime(2026, time.June, 15, 8, 0, ny), "2026-06-15T12:00:00Z"},
		{"in the gap", clock.WallTime(2026, time.March, 8, 2, 30, ny), "2026-03-08T07:00:00Z"},
		{"gap start", clock.WallTime(2026, time.March, 8, 2, 0, ny), "2026-03-08T07:00:00Z"},
		{"after the gap", clock.WallTime(2026, time.March, 8, 3, 0, ny), "2026-03-08T07:00:00Z"},
		{"twice, first", clock.WallTime(2026, time.November, 1, 1, 0, ny), "2026-11-01T05:00:00Z"},
		{"twice, first again", clock.WallTime(2026, time.November, 1, 1, 59, ny), "2026-11-01T05:59:00Z"},
		{"after the repeat", clock.WallTime(2026, time.November, 1, 2, 0, ny), "2026-11-01T07:00:00Z"},
		// Lord Howe goes from 02:00 +10:30 to 02:30 +11 on 4 October 2026.
		{"half-hour gap", clock.WallTime(2026, time.October, 4, 2, 15, lh), "2026-10-03T15:30:00Z"},
	}
	for _, tc := range cases {
		require.Equal(t, mustUTC(t, tc.want), tc.got.UTC(), tc.name)
	}
}
