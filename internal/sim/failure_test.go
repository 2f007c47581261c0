package sim_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/sim"
)

// classes sends n messages and lists the class of each outcome (Unknown for
// a success).
func (b *testBundle) classes(t *testing.T, n int) []provider.Class {
	t.Helper()
	out := make([]provider.Class, n)
	for i := range out {
		_, err := b.client.Send(t.Context(), b.messageWithoutCallback())
		out[i] = provider.ClassOf(err)
	}
	return out
}

func (b *testBundle) messageWithoutCallback() provider.Message {
	m := b.message()
	m.StatusCallback = ""
	return m
}

const (
	ok      = provider.Unknown
	limited = provider.RateLimited
	retry   = provider.Retryable
)

func TestFailureForTheNextRequests(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		failure sim.Failure
		want    []provider.Class
	}{
		{"next two 429", sim.Failure{Status: http.StatusTooManyRequests, Requests: 2}, []provider.Class{limited, limited, ok, ok}},
		{"next three 500", sim.Failure{Status: http.StatusInternalServerError, Requests: 3}, []provider.Class{retry, retry, retry, ok}},
		{"503 until cleared", sim.Failure{Status: http.StatusServiceUnavailable}, []provider.Class{retry, retry, retry, retry}},
		{"zero Failure clears", sim.Failure{}, []provider.Class{ok, ok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sim.Config{})
			b.sim.SetFailure(tt.failure)
			require.Equal(t, tt.want, b.classes(t, len(tt.want)))
		})
	}
}

func TestFailureForADuration(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC))
	b := setup(t, sim.Config{Clock: clk.Now})

	b.sim.SetFailure(sim.Failure{Status: http.StatusTooManyRequests, For: time.Minute})
	require.Equal(t, []provider.Class{limited, limited}, b.classes(t, 2))
	clk.Advance(59 * time.Second)
	require.Equal(t, []provider.Class{limited}, b.classes(t, 1))
	clk.Advance(time.Second)
	require.Equal(t, []provider.Class{ok, ok}, b.classes(t, 2), "the window has ended")
}

func TestFailureWithAProbability(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Seed: 7})

	b.sim.SetFailure(sim.Failure{Status: http.StatusTooManyRequests, Probability: 0.25})
	refused := 0
	for _, c := range b.classes(t, 400) {
		if c == limited {
			refused++
		}
	}
	// Binomial(400, 0.25): mean 100, standard deviation about 8.7.
	require.InDelta(t, 100, refused, 40)
	require.Len(t, b.sim.Received(), 400-refused)
}

func TestSetLatencyDelaysEveryAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	const latency = 400 * time.Millisecond
	b.sim.SetLatency(latency)
	start := time.Now()
	b.send(t, b.messageWithoutCallback())
	require.GreaterOrEqual(t, time.Since(start), latency)

	b.sim.Reset()
	start = time.Now()
	b.send(t, b.messageWithoutCallback())
	require.Less(t, time.Since(start), latency, "Reset removes the latency")
}

// When callbacks cannot keep up, the queue's bound refuses sends with a 429
// rather than dropping statuses or growing without end.
func TestAFullCallbackQueueRateLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{QueueLimit: 2, CallbackDelay: time.Hour})

	b.send(t, b.message())
	b.send(t, b.message())
	_, err := b.client.Send(t.Context(), b.message())
	pe, isProvider := errors.AsType[*provider.Error](err)
	require.True(t, isProvider, "%v", err)
	require.Equal(t, provider.RateLimited, pe.Class)
	require.Equal(t, "20429", pe.Code)
	require.Equal(t, time.Second, pe.RetryAfter)
	require.Len(t, b.sim.Received(), 2)
	require.Equal(t, 2, b.sim.Pending())
}
