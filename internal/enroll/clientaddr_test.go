package enroll

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		name    string
		remote  string
		xff     []string // one X-Forwarded-For header each
		trusted []netip.Prefix
		want    string
	}{
		{"no proxy", "203.0.113.9:5000", nil, proxies, "203.0.113.9"},
		{"header ignored from an untrusted peer", "203.0.113.9:5000", []string{"198.51.100.1"}, proxies, "203.0.113.9"},
		{"header ignored with no trusted proxies", "10.0.0.2:5000", []string{"198.51.100.1"}, nil, "10.0.0.2"},
		{"trusted proxy names the visitor", "10.0.0.2:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"what the visitor wrote is not taken", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"a chain of trusted proxies", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.1, 10.0.0.7"}, proxies, "198.51.100.1"},
		{"several headers read as one list", "10.0.0.2:5000", []string{"1.2.3.4", "198.51.100.1, 10.0.0.7"}, proxies, "198.51.100.1"},
		{"all hops trusted", "10.0.0.2:5000", []string{"10.0.0.9, 10.0.0.7"}, proxies, "10.0.0.9"},
		{"trusted proxy without the header", "10.0.0.2:5000", nil, proxies, "10.0.0.2"},
		{"a hop with a port", "10.0.0.2:5000", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1"},
		{"IPv6 visitor", "[2001:db8::1]:443", []string{"2001:db8:ffff::1, 2a00:1450::5"}, proxies, "2a00:1450::5"},
		{"IPv4-mapped hop", "10.0.0.2:5000", []string{"::ffff:198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbage ends the walk at the last good hop", "10.0.0.2:5000", []string{"198.51.100.1, <script>, 10.0.0.7"}, proxies, "10.0.0.7"},
		{"empty hop ends the walk", "10.0.0.2:5000", []string{"198.51.100.1,,"}, proxies, "10.0.0.2"},
		{"unreadable peer", "not an address", []string{"198.51.100.1"}, proxies, "0.0.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/enroll/p", nil)
			r.RemoteAddr = tt.remote
			for _, h := range tt.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			require.Equal(t, tt.want, clientAddr(r, tt.trusted).String())
		})
	}
}

func FuzzClientAddr(f *testing.F) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Add("198.51.100.1, 10.0.0.7")
	f.Add("::ffff:1.2.3.4:80,[::1]:9")
	f.Add(",,, ")
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("POST", "/enroll/p", nil)
		r.RemoteAddr = "10.0.0.2:5000"
		r.Header.Set("X-Forwarded-For", xff)
		got := clientAddr(r, proxies)
		// Whatever the header says, the answer is the proxy's address or
		// one of the header's hops, and never one left of an untrusted hop.
		if got == netip.MustParseAddr("10.0.0.2") {
			return
		}
		hops := strings.Split(xff, ",")
		at := -1
		for i, h := range hops {
			if a, ok := parseHop(h); ok && a == got {
				at = i
			}
		}
		require.GreaterOrEqual(t, at, 0, "%s is not in %q", got, xff)
		for _, h := range hops[at+1:] {
			a, ok := parseHop(h)
			require.True(t, ok && isTrusted(a, proxies), "%s was taken from left of %q", got, h)
		}
	})
}
