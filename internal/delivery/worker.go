package delivery

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http/httptrace"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/provider"
)

// worker sends one number's messages at that number's rate.
type worker struct {
	d      *Dispatcher
	number numberRow
	// limiter paces the claims and sizes them; starts spaces the carrier
	// calls themselves. A claimed batch can be held (behind the batch ahead
	// of it, its re-check, a 429 pause) and then leave with the next one,
	// and the carrier counts requests as they arrive.
	limiter *rate.Limiter
	starts  *rate.Limiter
	// written is closed once the last carrier call started has put its
	// request on the wire, or ended without doing so; the next call takes
	// its start only then. A call held up between its start and the wire
	// (the scheduler, the collector) would otherwise reach the carrier
	// together with the calls started after it, and the headroom absorbs
	// only one send interval of such bunching.
	written <-chan struct{}
	wakeC   chan struct{}
	stopC   chan struct{}
	once    sync.Once
	sends   sync.WaitGroup // this worker's batches being handed out and carrier calls in flight

	// pausedUntil holds the number back after the carrier answered 429 or
	// refused the account's credentials (authHeld).
	mu          sync.Mutex
	pausedUntil time.Time
	authHeld    bool

	// due is when the number's earliest scheduled message falls due, as
	// last read or told (zero: none known); hinted collects what WakeAt
	// says while a read is under way, so the read cannot overwrite it.
	// dueRead is when due was read, by the wall clock: it is read again
	// now and then for messages scheduled by other processes.
	dueMu   sync.Mutex
	due     time.Time
	hinted  time.Time
	dueRead time.Time
}

// closed is a channel that never blocks a receive.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newWorker(d *Dispatcher, n numberRow) *worker {
	w := &worker{d: d, number: n, wakeC: make(chan struct{}, 1), stopC: make(chan struct{}), written: closed}
	w.limiter = rate.NewLimiter(paced(n.mps), burstFor(n.mps))
	w.starts = rate.NewLimiter(paced(n.mps), burstFor(n.mps))
	return w
}

// headroom is the share of a number's rate Herald uses. The carrier counts
// what it receives, and requests that leave on time can arrive bunched
// (network, scheduler, GC); a tenth in reserve absorbs a delay of up to one
// send interval without the carrier seeing the rate exceeded.
const headroom = 0.9

func paced(mps float64) rate.Limit { return rate.Limit(mps * headroom) }

// burstFor is how many sends a number may make at once: a tenth of a
// second's worth, at least one.
func burstFor(mps float64) int { return max(1, int(math.Floor(mps*headroom/10))) }

func (w *worker) setRate(mps float64) {
	if w.limiter.Limit() != paced(mps) {
		for _, l := range []*rate.Limiter{w.limiter, w.starts} {
			l.SetLimit(paced(mps))
			l.SetBurst(burstFor(mps))
		}
	}
}

func (w *worker) wake() {
	select {
	case w.wakeC <- struct{}{}:
	default:
	}
}

func (w *worker) stop() { w.once.Do(func() { close(w.stopC) }) }

func (w *worker) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.stopC:
			cancel()
		case <-ctx.Done():
		}
	}()
	rec := newRecorder(w)
	defer func() {
		w.sends.Wait() // every send that started gets its outcome written
		rec.close()
	}()
	handing := handoff{before: closed, last: closed}
	for ctx.Err() == nil {
		if !w.waitPause(ctx) {
			return
		}
		w.promote(ctx)
		for rec.backlog() > maxBacklog && ctx.Err() == nil {
			w.sleep(ctx, flushEvery)
		}
		// At most one claimed batch waits behind the one being sent.
		select {
		case <-handing.before:
		case <-ctx.Done():
			return
		}
		// Wait for one token, then claim as many more as the bucket holds,
		// and take tokens only for what the claim found: taking a full
		// batch's tokens for a claim that finds three starved a steady
		// trickle (at 1,000/s offered, sending ran at 750/s).
		if err := w.limiter.Wait(ctx); err != nil {
			return
		}
		n := 1 + max(0, min(w.d.cfg.Batch-1, int(w.limiter.Tokens())))
		msgs, err := w.d.messages.Claim(ctx, w.number.id, n, w.d.cfg.ClaimFor)
		if len(msgs) > 1 {
			// The bucket held them when n was set, and nothing else
			// takes from it meanwhile, so this waits for nothing.
			w.limiter.ReserveN(time.Now(), len(msgs)-1)
		}
		if err != nil {
			if ctx.Err() == nil {
				w.d.log.Error("claim failed", "err", err, "number_id", w.number.id)
				w.sleep(ctx, time.Second)
			}
			continue
		}
		if len(msgs) == 0 {
			w.idle(ctx)
			continue
		}
		for _, m := range msgs {
			// A message goes from the number that claimed it: the
			// operator may have moved it here from a number since
			// replaced, and Record keeps the phone each attempt used.
			m.From = w.number.phone
		}
		w.chargeSegments(msgs)
		handing = w.handOut(ctx, msgs, rec, handing)
	}
}

// handoff tracks the batches being handed to the carrier: last is closed
// once the latest claimed batch has been, before once the one ahead of it
// has been.
type handoff struct{ before, last <-chan struct{} }

// handOut sends a batch once the batch claimed before it has gone, and
// returns at once, so the next claim is made while this batch is sent.
// Claiming only after a batch's sends had all started left the carrier
// idle during each claim's commit and re-check (see docs/benchmarks.md);
// a higher in-flight limit hid that too, but a carrier limits the requests
// an account may have open at once. A batch waits out a 429 pause that
// began while it waited, and is re-checked just before it goes.
func (w *worker) handOut(ctx context.Context, msgs []*message.Message, rec *recorder, h handoff) handoff {
	done := make(chan struct{})
	w.sends.Add(1)
	go func() {
		defer w.sends.Done()
		defer close(done)
		select {
		case <-h.last:
			if w.heldForAuth() {
				for _, m := range msgs {
					rec.add(w.heldOutcome(m))
				}
				return
			}
			if w.waitPause(ctx) {
				w.send(ctx, msgs, rec)
				return
			}
		case <-ctx.Done():
		}
		w.putBack(msgs, rec)
	}()
	return handoff{before: h.last, last: done}
}

// chargeSegments takes the tokens of a batch's extra segments: the carrier
// counts a three-segment message as three against the number's rate.
func (w *worker) chargeSegments(msgs []*message.Message) {
	extra := 0
	for _, m := range msgs {
		extra += max(0, m.Segments-1)
	}
	reserve(w.limiter, extra) // a debt the next Wait pays off
}

// reserve takes n tokens from l now, going into debt, in pieces no larger
// than its burst: a reservation of more is refused and would take nothing
// (a three-segment message on a 1-message/s number).
func reserve(l *rate.Limiter, n int) { reserveAt(l, n, time.Now()) }

func reserveAt(l *rate.Limiter, n int, at time.Time) {
	for n > 0 {
		k := max(1, min(n, l.Burst())) // a bucket of none would never take the rest
		l.ReserveN(at, k)
		n -= k
	}
}

// waitStart waits until the number may start sending m: one token for each
// of its segments, as the carrier counts them.
func (w *worker) waitStart(ctx context.Context, m *message.Message) error {
	if err := w.starts.Wait(ctx); err != nil {
		return err
	}
	reserve(w.starts, m.Segments-1) // paid off by the next start's wait
	return nil
}

func (w *worker) idle(ctx context.Context) {
	wait := w.d.cfg.Poll
	if due := w.dueAt(); !due.IsZero() {
		wait = min(wait, max(time.Millisecond, due.Sub(w.d.clock.Now())))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wakeC:
	case <-t.C:
	}
}

func (w *worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// authLook is how often a number held for refused credentials looks
// whether they have been set right.
const authLook = time.Second

// waitPause waits out the number's pause. One for refused credentials ends
// as soon as the refusal is cleared: the operator set new credentials, or
// a send of the account's from another number succeeded.
func (w *worker) waitPause(ctx context.Context) bool {
	for ctx.Err() == nil {
		w.mu.Lock()
		until, auth := w.pausedUntil, w.authHeld
		w.mu.Unlock()
		d := time.Until(until)
		if d <= 0 {
			return true
		}
		if !auth {
			w.sleep(ctx, d)
			continue
		}
		w.sleep(ctx, min(d, authLook))
		if a, err := w.d.accounts.Get(ctx, w.number.accountID); err == nil && (a.Twilio == nil || a.Twilio.RefusedAt == nil) {
			w.mu.Lock()
			lifted := w.authHeld
			if lifted {
				w.pausedUntil, w.authHeld = time.Time{}, false
			}
			w.mu.Unlock()
			if lifted {
				if _, err := w.d.messages.ReleaseHeld(ctx, w.number.id); err != nil && ctx.Err() == nil {
					w.d.log.Error("releasing the messages held for refused credentials failed", "err", err, "number_id", w.number.id)
				}
			}
		}
	}
	return false
}

// heldForAuth reports whether the number is holding its sends because the
// carrier refused the account's credentials.
func (w *worker) heldForAuth() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.authHeld && time.Now().Before(w.pausedUntil)
}

// holdEnd is when the number's pause ends.
func (w *worker) holdEnd() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pausedUntil
}

// heldOutcome gives back a claimed message the number holds for refused
// credentials: queued until the hold ends, its attempt not spent. A batch
// does not wait out the hold with its claims: a claim that expired
// meanwhile would have the message taken and sent twice.
func (w *worker) heldOutcome(m *message.Message) message.Outcome {
	return message.Outcome{Message: m, Status: message.Queued, Reason: message.ReasonCarrierAuthFailed,
		RetryAt: w.holdEnd(), Refund: true}
}

// pause holds the number's sends for d, auth telling whether for refused
// credentials, and reports whether it was sending until now (so that a
// cause is logged once, not once per send).
func (w *worker) pause(d time.Duration, auth bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	was := !now.Before(w.pausedUntil)
	if until := now.Add(d); until.After(w.pausedUntil) {
		w.pausedUntil, w.authHeld = until, auth
	}
	return was
}

// send re-checks the batch's audience rules and hands each message that may
// still go to the carrier, with the process's in-flight limit.
func (w *worker) send(ctx context.Context, msgs []*message.Message, rec *recorder) {
	acct, creds, err := w.account(ctx)
	if err != nil && ctx.Err() != nil {
		w.putBack(msgs, rec)
		return
	}
	if err != nil {
		w.d.log.Error("account for sending", "err", err, "account_id", w.number.accountID)
		for _, m := range msgs {
			rec.add(retry(m, time.Now().Add(30*time.Second), "account_unavailable", ""))
		}
		return
	}
	rec.setAccount(acct)
	accepted := w.noteAccepted(acct)
	holds, err := w.d.messages.Recheck(ctx, acct, msgs)
	if err != nil && ctx.Err() != nil {
		w.putBack(msgs, rec)
		return
	}
	if err != nil {
		// Sending without the re-check could reach someone who said STOP:
		// put the batch back, without spending the attempt.
		w.d.log.Error("recheck failed", "err", err)
		for _, m := range msgs {
			o := retry(m, time.Now().Add(5*time.Second), "recheck_failed", "")
			o.Refund = true
			rec.add(o)
		}
		return
	}
	for _, m := range msgs {
		if h, held := holds[m.ID]; held {
			rec.add(holdOutcome(m, h))
			if h.Reason == "" {
				w.noteDue(h.Until)
			}
			continue
		}
		select {
		case <-w.written:
		case <-ctx.Done():
		}
		if w.heldForAuth() {
			// The carrier refused the credentials for a message of this
			// batch: the rest would be refused alike.
			rec.add(w.heldOutcome(m))
			continue
		}
		if err := w.waitStart(ctx, m); err != nil {
			w.putBack([]*message.Message{m}, rec)
			continue
		}
		select {
		case w.d.inFlight <- struct{}{}:
		case <-ctx.Done():
			w.putBack([]*message.Message{m}, rec)
			continue
		}
		wrote := make(chan struct{})
		w.written = wrote
		w.sends.Add(1)
		go func() {
			defer w.sends.Done()
			defer func() { <-w.d.inFlight }()
			var once sync.Once
			onWire := func() { once.Do(func() { close(wrote) }) }
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { onWire() }}
			o := w.sendOne(httptrace.WithClientTrace(ctx, trace), m, creds)
			onWire() // a call that never wrote (a refused dial, a provider without HTTP)
			if o.Status == message.Sent {
				accepted(ctx)
			}
			rec.add(o)
		}()
	}
}

// noteAccepted returns what a batch's successful send calls: once the
// carrier takes a send with credentials it was noted to refuse, the
// refusal is cleared, once for the batch.
func (w *worker) noteAccepted(acct account.Account) func(context.Context) {
	if acct.Twilio == nil || acct.Twilio.RefusedAt == nil {
		return func(context.Context) {}
	}
	var once sync.Once
	return func(ctx context.Context) {
		once.Do(func() {
			if err := w.d.accounts.CarrierAccepted(context.WithoutCancel(ctx), acct.ID); err != nil {
				w.d.log.Error("clearing the carrier's refusal failed", "err", err, "account_id", acct.ID)
			}
		})
	}
}

// putBack returns a claimed batch when the process stops before sending
// it: due at once, attempt not spent, so another process (or this one after
// a restart) sends it without waiting for the claim to expire.
func (w *worker) putBack(msgs []*message.Message, rec *recorder) {
	for _, m := range msgs {
		rec.add(shutdownOutcome(m))
	}
}

func shutdownOutcome(m *message.Message) message.Outcome {
	o := retry(m, time.Now(), "shutdown", "")
	o.Refund = true
	return o
}

func (w *worker) sendOne(ctx context.Context, m *message.Message, creds provider.Credentials) message.Outcome {
	// A send that started finishes even while the process stops: cutting
	// it off could leave the carrier holding a message Herald resends.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	w.d.messages.Expect(m.ID)
	res, err := w.d.provider.Send(ctx, provider.Message{ID: m.ID, To: m.To, From: m.From, Body: m.Body,
		StatusCallback: w.d.statusCallback(m.ID), Credentials: creds})
	if err == nil {
		return message.Outcome{Message: m, Status: message.Sent, Carrier: "twilio", CarrierID: res.CarrierID}
	}
	return w.outcomeOf(ctx, m, creds, err)
}

// outcomeOf maps a carrier error to what happens to the message.
func (w *worker) outcomeOf(ctx context.Context, m *message.Message, creds provider.Credentials, err error) message.Outcome {
	var perr *provider.Error
	errors.As(err, &perr)
	code := ""
	if perr != nil {
		code = perr.Code
	}
	switch provider.ClassOf(err) {
	case provider.RateLimited:
		wait := time.Second
		if perr != nil && perr.RetryAfter > 0 {
			wait = perr.RetryAfter
		}
		w.pause(wait, false)
		return message.Outcome{Message: m, Status: message.RateLimited, Reason: "carrier_rate_limited", ErrorCode: code,
			RetryAt: time.Now().Add(wait), Refund: true}
	case provider.Retryable:
		if m.Attempts >= w.d.cfg.MaxAttempts {
			return message.Outcome{Message: m, Status: message.Failed, Reason: message.ReasonRetriesExhausted, ErrorCode: code}
		}
		return retry(m, time.Now().Add(backoff(m.Attempts)), "carrier_unavailable", code)
	case provider.Unauthorized:
		// The account's credentials, not this message: its attempt is
		// given back. Refused credentials the operator has since replaced
		// say nothing of the new ones, so it goes again at once; otherwise
		// the number holds its sends (waitPause) until the refusal is
		// cleared or the hold ends.
		o := message.Outcome{Message: m, Status: message.Queued, Reason: message.ReasonCarrierAuthFailed, ErrorCode: code,
			RetryAt: time.Now(), Refund: true}
		noted, nerr := w.d.accounts.CarrierRefused(ctx, m.AccountID, time.Now(), creds)
		if nerr != nil {
			w.d.log.Error("noting the carrier's refusal failed", "err", nerr, "account_id", m.AccountID)
		} else if !noted {
			return o // refused credentials the operator has since replaced: the new ones go now
		}
		wait := w.d.cfg.AuthPause
		if w.pause(wait, true) {
			w.d.log.Error("the carrier refused the account's credentials; its sends wait",
				"err", err, "account_id", m.AccountID, "number_id", w.number.id, "wait", wait)
		}
		// Due when the hold ends, so no claim takes it meanwhile; lifting
		// the hold early releases it (waitPause).
		o.RetryAt = w.holdEnd()
		return o
	case provider.Unsubscribed:
		return message.Outcome{Message: m, Status: message.Failed, Reason: message.ReasonUnsubscribed, ErrorCode: code}
	case provider.InvalidNumber:
		return message.Outcome{Message: m, Status: message.Failed, Reason: message.ReasonInvalidPhone, ErrorCode: code}
	case provider.Permanent:
		return message.Outcome{Message: m, Status: message.Failed, Reason: message.ReasonCarrierRejected, ErrorCode: code}
	}
	if ctx.Err() != nil {
		return shutdownOutcome(m) // put back at once, the attempt not spent
	}
	w.d.log.Error("send failed", "err", err, "message_id", m.ID)
	return retry(m, time.Now().Add(backoff(m.Attempts)), "send_error", "")
}

// holdOutcome is what a recheck's hold makes of a claimed message: skipped,
// or back to scheduled until its window opens, the attempt given back.
func holdOutcome(m *message.Message, h message.Hold) message.Outcome {
	if h.Reason != "" {
		return message.Outcome{Message: m, Status: message.Skipped, Reason: h.Reason}
	}
	return message.Outcome{Message: m, Status: message.Scheduled, Reason: message.ReasonSendingWindow, RetryAt: h.Until, Refund: true}
}

func retry(m *message.Message, at time.Time, reason, code string) message.Outcome {
	return message.Outcome{Message: m, Status: message.Queued, Reason: reason, ErrorCode: code, RetryAt: at}
}

// backoff is the wait before attempt n+1: 5 s, 30 s, 2 min, 10 min, 30 min,
// each with up to 20 % jitter so retries of a batch spread out.
func backoff(attempts int) time.Duration {
	steps := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}
	d := steps[min(max(attempts-1, 0), len(steps)-1)]
	return d + time.Duration(rand.Int64N(int64(d/5)+1))
}

// account returns the number's account and carrier credentials.
func (w *worker) account(ctx context.Context) (account.Account, provider.Credentials, error) {
	a, err := w.d.accounts.Get(ctx, w.number.accountID)
	if err != nil {
		return a, provider.Credentials{}, err
	}
	creds, err := w.d.accounts.Credentials(ctx, w.number.accountID)
	return a, creds, err
}
