package twilio_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

func TestStatusRankOnlyMovesForward(t *testing.T) {
	t.Parallel()

	// The life of a message, in order.
	life := []string{"accepted", "scheduled", "queued", "sending", "sent", "delivery_unknown", "delivered", "read"}
	for i := 1; i < len(life); i++ {
		require.Less(t, twilio.StatusRank(life[i-1]), twilio.StatusRank(life[i]), "%s before %s", life[i-1], life[i])
	}

	final := []string{"delivered", "undelivered", "failed", "canceled", "partially_delivered"}
	for _, a := range final {
		require.Greater(t, twilio.StatusRank(a), twilio.StatusRank("sent"), a)
		require.Greater(t, twilio.StatusRank(a), twilio.StatusRank("delivery_unknown"), a)
		for _, b := range final {
			require.Equal(t, twilio.StatusRank(a), twilio.StatusRank(b), "no final status replaces another: %s, %s", a, b)
		}
	}

	for _, s := range []string{"", "received", "receiving", "exploded"} {
		require.Zero(t, twilio.StatusRank(s), s)
		require.Less(t, twilio.StatusRank(s), twilio.StatusRank("accepted"), s)
	}
	require.Equal(t, twilio.StatusRank("sent"), twilio.StatusRank(" Sent "))
}
