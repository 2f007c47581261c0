package delivery

import (
	"context"
	"time"
)

// Scheduled messages (marketing waiting for its recipient's sending window)
// are moved to the queue by the worker of their number when they fall due.
// The worker keeps the earliest due time in memory, so between due times a
// poll costs nothing: it is told of new ones (WakeAt, from the message
// service and from its own re-checks) and reads the earliest from the
// database after each move and every dueRefresh, which also finds messages
// scheduled by other processes.

// dueRefresh is how often a worker reads its number's earliest due time
// even when told nothing.
const dueRefresh = 5 * time.Second

// WakeAt tells a number's worker, if this process runs it, that a message
// falls due at t.
func (d *Dispatcher) WakeAt(numberID string, t time.Time) {
	d.mu.Lock()
	w := d.workers[numberID]
	d.mu.Unlock()
	if w != nil {
		w.noteDue(t)
		w.wake()
	}
}

// noteDue records that a scheduled message falls due at t.
func (w *worker) noteDue(t time.Time) {
	w.dueMu.Lock()
	defer w.dueMu.Unlock()
	w.due = earlier(w.due, t)
	w.hinted = earlier(w.hinted, t)
}

func (w *worker) dueAt() time.Time {
	w.dueMu.Lock()
	defer w.dueMu.Unlock()
	return w.due
}

// earlier returns the earlier of two times, a zero time counting as none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// promote moves the number's due scheduled messages to the queue when the
// earliest is due, or reads when that will be when the last read is stale.
func (w *worker) promote(ctx context.Context) {
	w.dueMu.Lock()
	due, stale := w.due, time.Since(w.dueRead) > dueRefresh
	w.hinted = time.Time{}
	w.dueMu.Unlock()
	if !stale && (due.IsZero() || w.d.clock.Now().Before(due)) {
		return
	}
	n, next, err := w.d.messages.PromoteDue(ctx, w.number.id)
	if err != nil {
		if ctx.Err() == nil {
			w.d.log.Error("promote scheduled messages failed", "err", err, "number_id", w.number.id)
		}
		w.dueMu.Lock()
		w.due, w.dueRead = w.d.clock.Now().Add(time.Second), time.Now() // try again in a second, not at every poll
		w.dueMu.Unlock()
		return
	}
	w.dueMu.Lock()
	w.due, w.dueRead = earlier(next, w.hinted), time.Now()
	w.dueMu.Unlock()
	if n > 0 {
		w.wake() // claim them now rather than after a poll
	}
}
