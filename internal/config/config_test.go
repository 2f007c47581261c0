package config

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string // nil: refused
	}{
		{"", []string{}},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}},
		{" 10.1.2.3/8 , 192.0.2.7 ,", []string{"10.0.0.0/8", "192.0.2.7/32"}},
		{"2001:db8::/32,::1", []string{"2001:db8::/32", "::1/128"}},
		{"::ffff:192.0.2.7", []string{"192.0.2.7/32"}},
		{"10.0.0.0/33", nil},
		{"proxy.internal", nil},
		{"fe80::1%eth0", nil},
		{"10.0.0.1, nope", nil},
	}
	for _, tt := range tests {
		c := Config{TrustedProxies: tt.in}
		got, err := c.Proxies()
		if tt.want == nil {
			require.ErrorContains(t, err, "HERALD_TRUSTED_PROXIES", "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		want := make([]netip.Prefix, 0, len(tt.want))
		for _, p := range tt.want {
			want = append(want, netip.MustParsePrefix(p))
		}
		require.Equal(t, len(want), len(got), "%q", tt.in)
		for i := range want {
			require.Equal(t, want[i], got[i], "%q", tt.in)
		}
	}
}

// A bad proxy list stops Herald at start, with the others' errors.
func TestValidateRefusesBadProxies(t *testing.T) {
	t.Parallel()
	c := Config{Addr: "127.0.0.1:8080", LogLevel: "info", LogFormat: "text", TrustedProxies: "10.0.0.0/99"}
	require.ErrorContains(t, c.Validate(), `HERALD_TRUSTED_PROXIES: "10.0.0.0/99"`)
	c.TrustedProxies = "10.0.0.0/8"
	require.NoError(t, c.Validate())
}
