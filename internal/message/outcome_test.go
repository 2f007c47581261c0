package message_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/message"
)

// TestOutcomeStatusesStandForMessageStatuses checks the outcome log's
// words against the message life in the design: every message status
// belongs to exactly one outcome.
func TestOutcomeStatusesStandForMessageStatuses(t *testing.T) {
	t.Parallel()
	want := map[string][]message.Status{
		"processing":   {message.Scheduled, message.Queued, message.Sending},
		"completed":    {message.Sent},
		"delivered":    {message.Delivered},
		"rate_limited": {message.RateLimited},
		"skipped":      {message.Skipped},
		"limit_queued": {message.LimitQueued},
		"failed":       {message.Undelivered, message.Failed},
		"cancelled":    {message.Cancelled},
	}
	seen := map[message.Status]bool{}
	for outcome, statuses := range want {
		require.ElementsMatch(t, statuses, message.StatusesOfOutcome(outcome), outcome)
		for _, st := range statuses {
			require.False(t, seen[st], "%s in two outcomes", st)
			seen[st] = true
			require.Equal(t, outcome, message.OutcomeStatus(st))
		}
	}
	require.Nil(t, message.StatusesOfOutcome("lost"))
}

func TestOutcomeStatusesAreComplete(t *testing.T) {
	for _, o := range message.OutcomeStatuses {
		require.NotEmpty(t, message.StatusesOfOutcome(o), o)
	}
}
