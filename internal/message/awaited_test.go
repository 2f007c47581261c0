package message

import (
	"context"
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
