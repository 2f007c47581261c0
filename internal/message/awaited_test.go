package message

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// len is how many messages are being sent.
func (a *awaited) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

// waitReturns runs a.wait(ctx, id) and says whether it returned within d.
func waitReturns(ctx context.Context, a *awaited, id string, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		a.wait(ctx, id)
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func TestAwaitedHoldsReportsUntilTheirMessagesSettle(t *testing.T) {
	t.Parallel()
	var a awaited
	ctx := context.Background()
	require.True(t, waitReturns(ctx, &a, "", time.Second), "a report naming no message never waits")
	require.True(t, waitReturns(ctx, &a, "msg-unknown", time.Second), "nor one naming a message not being sent")

	a.expect("msg-1")
	a.expect("msg-1") // a second expect of the same send is one expectation
	a.expect("msg-2")
	require.Equal(t, 2, a.len())

	done := make(chan struct{})
	go func() {
		a.wait(ctx, "msg-1")
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("the report went on before its message's result was written")
	case <-time.After(50 * time.Millisecond):
	}
	a.settle([]string{"msg-1", "msg-unknown"})
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("the report still waits after its message's result was written")
	}
	require.Equal(t, 1, a.len(), "a settled message is forgotten, the others kept")
	require.True(t, waitReturns(ctx, &a, "msg-1", time.Second), "a later report for a settled message does not wait")

	gone, cancel := context.WithCancel(ctx)
	cancel()
	require.True(t, waitReturns(gone, &a, "msg-2", time.Second), "a report whose caller has gone stops waiting")
	a.settle([]string{"msg-2"})
	require.Zero(t, a.len())
}

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
