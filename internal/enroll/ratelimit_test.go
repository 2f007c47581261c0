package enroll

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiterKeysAndForgets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	l := newLimiter(time.Minute, 2)
	cases := []struct {
		addr string
		ok   bool
	}{
		{"198.51.100.7", true},
		{"198.51.100.7", true},
		{"198.51.100.7", false},        // burst spent
		{"::ffff:198.51.100.7", false}, // the same address, IPv4-mapped
		{"198.51.100.8", true},         // a neighbour has its own allowance
		{"2001:db8:1:2::1", true},
		{"2001:db8:1:2::ffff", true},
		{"2001:db8:1:2:aaaa::1", false}, // the same /64
		{"2001:db8:1:3::1", true},       // the next /64
	}
	for _, tc := range cases {
		ok, wait := l.allow(netip.MustParseAddr(tc.addr), now)
		require.Equal(t, tc.ok, ok, tc.addr)
		if !ok {
			require.Equal(t, time.Minute, wait, tc.addr)
		}
	}
	require.Len(t, l.clients, 4)

	// Idle addresses are forgotten at the next sweep; the one seen is kept.
	later := now.Add(11 * time.Minute)
	ok, _ := l.allow(netip.MustParseAddr("198.51.100.7"), later)
	require.True(t, ok, "an idle address has its allowance back")
	require.Len(t, l.clients, 1)
}
