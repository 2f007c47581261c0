package account_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
)

func TestLocation(t *testing.T) {
	for _, tc := range []struct{ zone, want string }{
		{"America/New_York", "America/New_York"},
		{"Asia/Kolkata", "Asia/Kolkata"},
		{"Not/A_Zone", "UTC"},
	} {
		require.Equal(t, tc.want, account.Account{TimeZone: tc.zone}.Location().String(), tc.zone)
	}
	// 23:30 UTC on 30 November is still November in New York, December in Kolkata.
	t0 := time.Date(2026, time.November, 30, 23, 30, 0, 0, time.UTC)
	require.Equal(t, "2026-11", t0.In(account.Account{TimeZone: "America/New_York"}.Location()).Format("2006-01"))
	require.Equal(t, "2026-12", t0.In(account.Account{TimeZone: "Asia/Kolkata"}.Location()).Format("2006-01"))
}
