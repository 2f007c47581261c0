package message

import (
	"context"
	"sync"
	"time"
)

// resultWait bounds how long a carrier report waits for its send's result
// to be written before it is parked instead.
const resultWait = 2 * time.Second

// awaited holds the messages this process is sending whose results are not
// committed yet. The carrier's callbacks routinely arrive while the send's
// result is still on its way to the database, often before the carrier's
// answer has reached the sender at all; a report that names one of these
// messages waits for that commit and is then applied like any other, where
// parking it would cost an insert, a delete and a second transaction. A
// report that reaches another process, or outwaits resultWait, is parked
// as before.
type awaited struct {
	mu      sync.Mutex
	pending map[string]chan struct{} // message id → closed once its result is written
}

// expect notes a message about to be sent.
func (a *awaited) expect(messageID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[string]chan struct{}{}
	}
	if _, ok := a.pending[messageID]; !ok {
		a.pending[messageID] = make(chan struct{})
	}
}

// settle releases the reports waiting for these messages: their results
// are written, or failed to be.
func (a *awaited) settle(messageIDs []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range messageIDs {
		if ch, ok := a.pending[id]; ok {
			close(ch)
			delete(a.pending, id)
		}
	}
}

// wait returns once the message's send result is written, at once if it
// is not being sent, or when ctx ends or resultWait passes.
func (a *awaited) wait(ctx context.Context, messageID string) {
	if messageID == "" {
		return
	}
	a.mu.Lock()
	ch := a.pending[messageID]
	a.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(resultWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}
