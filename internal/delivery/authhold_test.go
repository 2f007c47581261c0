package delivery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/provider"
)

// refusing refuses every send with the account's credentials; the first
// answer waits until ready says so.
type refusing struct {
	ready func() bool
	calls chan string
}

func (r *refusing) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	r.calls <- m.ID
	for !r.ready() && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	return provider.Result{}, &provider.Error{Class: provider.Unauthorized, Code: "20003", Status: 401, Message: "Authenticate"}
}

// A batch claimed while the carrier was refusing the send before it does
// not wait out the number's hold holding its claims (one that expired
// meanwhile would have its messages taken and sent twice): it is given
// back, queued until the hold ends, its attempts not spent.
func TestABatchClaimedAsTheCarrierRefusesIsGivenBack(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, utc(t, "2026-06-15T16:00:00Z")) // noon in New York
		b.cfg.AuthPause = time.Minute
		// Two in the first batch: its second send finds the hold and is
		// given back, and only then is the batch handed over and the next
		// one, claimed during the refused send, let go.
		first := b.create(t, b.contact(t, "+17346263333", ""))
		alsoFirst := b.create(t, b.contact(t, "+17346263335", ""))
		var secondID atomic.Value // the carrier's goroutine reads it
		claimed := func() bool {
			id, _ := secondID.Load().(string)
			if id == "" {
				return false
			}
			m, err := b.messages.Get(b.ctx, b.acct, id)
			return err == nil && m.Status == message.Sending
		}
		carrier := &refusing{ready: claimed, calls: make(chan string, 10)}
		b.provider = carrier
		b.start()
		require.Contains(t, []string{first.ID, alsoFirst.ID}, <-carrier.calls)
		second := b.create(t, b.contact(t, "+17346263334", "")) // claimed while the first is refused
		secondID.Store(second.ID)

		for _, id := range []string{first.ID, alsoFirst.ID, second.ID} {
			var m *message.Message
			require.Eventually(t, func() bool {
				var err error
				m, err = b.messages.Get(b.ctx, b.acct, id)
				require.NoError(t, err)
				return m.Status == message.Queued && m.Reason == message.ReasonCarrierAuthFailed
			}, 10*time.Second, 10*time.Millisecond, "given back")
			require.Equal(t, 0, m.Attempts, "no attempt spent")
			require.True(t, m.NextAttempt.After(time.Now().Add(50*time.Second)), "due when the hold ends: %v", m.NextAttempt)
		}
		select {
		case id := <-carrier.calls:
			t.Fatalf("%s went to the carrier during the hold", id)
		case <-time.After(500 * time.Millisecond):
		}
	})
}
