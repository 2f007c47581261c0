package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// A message's extra segments are taken from the bucket however few tokens
// it holds; one reservation of more than the bucket holds would take none.
func TestReserveTakesMoreThanTheBucketHolds(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		burst  int
		n      int
		tokens float64 // left in the bucket, at the moment of reserving
	}{
		{"nothing", 1, 0, 1},
		{"a negative count", 1, -2, 1},
		{"within the bucket", 5, 3, 2},
		{"two extra segments, a bucket of one", 1, 2, -1},
		{"more than twice the bucket", 5, 12, -7},
		{"a bucket of none takes nothing, and ends", 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := rate.NewLimiter(10, tt.burst)
			l.AllowN(at, 0) // start the bucket's clock at at, full
			reserveAt(l, tt.n, at)
			require.InDelta(t, tt.tokens, l.TokensAt(at), 1e-9)
		})
	}

	// The reason reserve exists.
	l := rate.NewLimiter(10, 1)
	require.False(t, l.ReserveN(at, 2).OK(), "one reservation of more than the bucket is refused")
	require.InDelta(t, 1, l.TokensAt(at), 1e-9, "and takes nothing")
}
