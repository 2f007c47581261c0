package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
)

// recorder gathers a worker's outcomes and writes them in batches: one
// transaction per flush instead of one per message.
type recorder struct {
	w       *worker
	account account.Account
	mu      sync.Mutex
	pending []message.Outcome
	kick    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
}

const (
	flushEvery = 5 * time.Millisecond
	flushAt    = 200
	// perRecord bounds one Record call, so a slow database writes a
	// backlog in transactions that each finish well inside their timeout.
	perRecord = 500
	// maxBacklog is how many outcomes may wait to be written before the
	// worker stops claiming: claims must not outrun the writing of their
	// results, or they expire and are sent again.
	maxBacklog = 2000
)

func newRecorder(w *worker) *recorder {
	r := &recorder{w: w, kick: make(chan struct{}, 1), done: make(chan struct{})}
	r.wg.Add(1)
	go r.loop()
	return r
}

// setAccount gives the recorder the account its outcomes belong to (for
// the monthly allowance of skipped messages).
func (r *recorder) setAccount(a account.Account) {
	r.mu.Lock()
	r.account = a
	r.mu.Unlock()
}

func (r *recorder) add(o message.Outcome) {
	r.mu.Lock()
	r.pending = append(r.pending, o)
	n := len(r.pending)
	r.mu.Unlock()
	if n >= flushAt {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// backlog is how many outcomes wait to be written.
func (r *recorder) backlog() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func (r *recorder) loop() {
	defer r.wg.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			r.flush()
			return
		case <-t.C:
		case <-r.kick:
		}
		r.flush()
	}
}

// flush writes what has gathered. It uses its own context: outcomes of
// sends that happened must be written even while the process stops.
func (r *recorder) flush() {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	acct := r.account
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	for len(batch) > 0 {
		chunk := batch[:min(perRecord, len(batch))]
		batch = batch[len(chunk):]
		r.record(acct, chunk)
	}
}

// record writes outcomes, trying again while their claims have a quarter
// of their life left: a write that fails for a moment (a database
// restarting, a dropped connection) would otherwise leave the messages
// claimed until the claims expire, and then send them again. Past that
// point a late write could land on a message claimed anew; the claims are
// left to expire, at most the design's one duplicate per in-flight send.
func (r *recorder) record(acct account.Account, outcomes []message.Outcome) {
	claimFor := r.w.d.cfg.ClaimFor
	until := claimsEnd(outcomes).Add(-claimFor / 4)
	if limit := time.Now().Add(claimFor); until.After(limit) {
		until = limit // a claim cannot outlast its length; a clock set ahead cannot stretch the tries
	}
	wait := recordRetryFirst
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := r.w.d.messages.Record(ctx, acct, outcomes)
		cancel()
		if err == nil {
			return
		}
		if time.Now().Add(wait).After(until) {
			r.w.d.log.Error("record outcomes failed; their messages go again when their claims expire",
				"err", err, "count", len(outcomes), "attempts", attempt)
			return
		}
		r.w.d.log.Warn("record outcomes failed; trying again", "err", err, "count", len(outcomes), "attempt", attempt)
		time.Sleep(wait)
		wait = min(2*wait, recordRetryMax)
	}
}

// The waits between attempts to write outcomes.
const (
	recordRetryFirst = 50 * time.Millisecond
	recordRetryMax   = 2 * time.Second
)

// claimsEnd is when the first of the outcomes' claims runs out; zero when
// one of them has no known claim, which tries the write only once.
func claimsEnd(outcomes []message.Outcome) time.Time {
	var end time.Time
	for i, o := range outcomes {
		u := o.Message.ClaimedUntil
		if u.IsZero() {
			return time.Time{}
		}
		if i == 0 || u.Before(end) {
			end = u
		}
	}
	return end
}

// close writes what is left and stops the loop.
func (r *recorder) close() {
	close(r.done)
	r.wg.Wait()
}
