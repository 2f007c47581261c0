package message

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRecentSendsRememberTheLatestSends(t *testing.T) {
	t.Parallel()
	var r recentSends
	msg := func(i int, carrierID string) *Message {
		m := &Message{ID: fmt.Sprintf("msg-%d", i), AccountID: "acc-1"}
		if carrierID != "" {
			m.CarrierID = &carrierID
		}
		return m
	}
	require.False(t, r.sent("acc-1", "msg-0", "SM0"), "nothing remembered yet")
	r.add("acc-1", []*Message{msg(0, "SM0"), msg(1, "")})
	require.True(t, r.sent("acc-1", "msg-0", "SM0"))
	require.False(t, r.sent("acc-2", "msg-0", "SM0"), "another account's report")
	require.False(t, r.sent("acc-1", "msg-0", "SM9"), "another carrier id")
	require.False(t, r.sent("acc-1", "msg-1", ""), "a send without a carrier id is not remembered")
	require.False(t, r.sent("acc-1", "", "SM0"), "a report naming no message")
	r.add("acc-2", []*Message{msg(7, "SM7")})
	require.False(t, r.sent("acc-2", "msg-7", "SM7"), "a message of another account than the one recorded")

	r.add("acc-1", []*Message{msg(0, "SM0")}) // a second record of one send takes no second place
	for i := 1; i < recentCapacity; i++ {
		r.add("acc-1", []*Message{msg(i, fmt.Sprintf("SM%d", i))})
	}
	require.True(t, r.sent("acc-1", "msg-0", "SM0"), "still within capacity")
	r.add("acc-1", []*Message{msg(recentCapacity, "SMlast")})
	require.False(t, r.sent("acc-1", "msg-0", "SM0"), "the oldest is forgotten")
	require.True(t, r.sent("acc-1", "msg-1", "SM1"))
	require.True(t, r.sent("acc-1", fmt.Sprintf("msg-%d", recentCapacity), "SMlast"))
	require.Len(t, r.byID, recentCapacity, "memory stays bounded")
}
