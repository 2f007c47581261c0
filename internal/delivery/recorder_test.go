package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/message"
)

func TestClaimsEnd(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	claimed := func(offsets ...time.Duration) []message.Outcome {
		var out []message.Outcome
		for _, d := range offsets {
			m := &message.Message{}
			if d >= 0 {
				m.ClaimedUntil = at.Add(d)
			}
			out = append(out, message.Outcome{Message: m})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		batch []message.Outcome
		want  time.Time
	}{
		{"the first to run out", claimed(3*time.Second, time.Second, 2*time.Second), at.Add(time.Second)},
		{"one claim", claimed(0), at},
		{"an unknown claim first", claimed(-1, time.Second), time.Time{}},
		{"an unknown claim last", claimed(time.Second, -1), time.Time{}},
		{"nothing", nil, time.Time{}},
	} {
		require.Equal(t, tc.want, claimsEnd(tc.batch), tc.name)
	}
}
