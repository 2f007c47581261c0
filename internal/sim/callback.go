package sim

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

// step is one status callback still to post.
type step struct {
	status, errorCode string
	after             time.Duration // wait before posting it
	n                 int           // which planned callback it is; a duplicate shares its original's
}

// job is the status-callback work of one accepted message: its steps, in
// order, each posted only after the one before it was answered or given up,
// so callbacks arrive in the order planned.
type job struct {
	msg     *Received // the stored message; its status moves as steps are reported
	acct    account
	cb      callbackURL
	service string
	steps   []step
	next    int
	attempt int
	due     time.Time
	seq     uint64 // orders jobs due at the same instant
}

// plan draws a message's outcome from the mix and lists its callbacks. A
// failed message never reached a carrier, so it reports failed alone;
// otherwise sent comes first, then the outcome.
func (s *Sim) plan() []step {
	mix := s.cfg.Mix // weights are non-negative with a positive sum; see withDefaults
	n := s.randIntN(mix.Delivered + mix.Undelivered + mix.Failed)
	switch {
	case n < mix.Delivered:
		return []step{{status: "sent"}, {status: "delivered"}}
	case n < mix.Delivered+mix.Undelivered:
		return []step{{status: "sent"}, {status: "undelivered", errorCode: s.errorCode()}}
	default:
		return []step{{status: "failed", errorCode: s.errorCode()}}
	}
}

func (s *Sim) errorCode() string {
	codes := s.cfg.Mix.ErrorCodes
	return codes[s.randIntN(len(codes))]
}

// newJob prepares a message's callbacks, applying the ordering options. It
// keeps steps, which plan made for it. A job waits for every callback
// before it, and when Herald answers callbacks more slowly than it sends,
// tens of thousands wait: so a job holds little (its tokens are made when
// posted, and the part of its URL before the query is shared with every
// job whose URL has the same).
func newJob(m *Received, acct account, req sendRequest, steps []step, cfg Config, urls *callbackURLs) *job {
	if cfg.ShuffleCallbacks {
		slices.Reverse(steps)
	}
	for i := range steps {
		steps[i].n, steps[i].after = i, cfg.CallbackDelay
	}
	if cfg.DuplicateCallbacks {
		doubled := make([]step, 0, 2*len(steps))
		for _, st := range steps {
			dup := st
			dup.after = 0
			doubled = append(doubled, st, dup)
		}
		steps = doubled
	}
	return &job{msg: m, acct: acct, cb: urls.parse(req.callback), service: req.service, steps: steps}
}

// idempotencyToken names one planned callback of a message, in Twilio's
// 32 hex digits: its repeats carry the same token, as Twilio's retries of
// a callback do.
func idempotencyToken(sid string, n int) string {
	sum := sha256.Sum256([]byte(sid + "/" + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:16])
}

// callbackURL is a status callback URL split for posting: the part before
// the query, shared, and the message's own query. Basic credentials in the
// URL are sent as a header and left out of what is requested and signed.
type callbackURL struct {
	base  *callbackBase
	query string // from the '?' on; empty when the URL has none
}

// callbackBase is the part of a callback URL before its query.
type callbackBase struct {
	raw        string // as the sender gave it, credentials and all
	url        string // without credentials
	user, pass string
}

// String is the URL that is requested and signed.
func (c callbackURL) String() string { return c.base.url + c.query }

// callbackURLs remembers the part before the query of the last callback URL
// it split. A sender usually gives the same one with every message and
// differs, if at all, in the query (Herald's names the message there), so
// the part is parsed once and its copy shared by every job that has it.
type callbackURLs struct{ last atomic.Pointer[callbackBase] }

func (c *callbackURLs) parse(raw string) callbackURL {
	base, query := raw, ""
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		base, query = raw[:i], strings.Clone(raw[i:])
	}
	if b := c.last.Load(); b != nil && b.raw == base {
		return callbackURL{base: b, query: query}
	}
	b := &callbackBase{raw: strings.Clone(base)}
	b.url = b.raw
	if strings.Contains(base, "@") {
		if u, err := url.Parse(b.raw); err == nil && u.User != nil {
			b.user = u.User.Username()
			b.pass, _ = u.User.Password()
			u.User = nil
			b.url = u.String()
		}
	}
	c.last.Store(b)
	return callbackURL{base: b, query: query}
}

// dispatcher posts status callbacks from a fixed pool of workers. Jobs wait
// in a heap ordered by when they are due; one scheduler goroutine hands due
// jobs to the workers. So thousands of messages a second cost heap entries,
// not goroutines or timers.
type dispatcher struct {
	dispatcherConfig
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	queue jobHeap
	seq   uint64
	wake  chan struct{}
	ready chan *job

	pending atomic.Int64 // messages accepted whose callbacks are not all done
}

type dispatcherConfig struct {
	http    *http.Client
	log     *slog.Logger
	now     func() time.Time
	workers int
	limit   int
	retries int
	backoff time.Duration
	report  func(m *Received, status, errorCode string)
}

func newDispatcher(cfg dispatcherConfig) *dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	d := &dispatcher{
		dispatcherConfig: cfg, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), ready: make(chan *job),
	}
	d.wg.Go(d.schedule)
	for range cfg.workers {
		d.wg.Go(d.work)
	}
	return d
}

func (d *dispatcher) close() {
	d.cancel()
	d.wg.Wait()
}

// reserve takes a place in the queue for a message about to be accepted.
func (d *dispatcher) reserve() bool {
	if d.pending.Add(1) > int64(d.limit) {
		d.pending.Add(-1)
		return false
	}
	return true
}

func (d *dispatcher) release() { d.pending.Add(-1) }

// start queues a reserved job's first step.
func (d *dispatcher) start(j *job) { d.after(j, j.steps[0].after) }

func (d *dispatcher) after(j *job, wait time.Duration) {
	d.mu.Lock()
	j.due, j.seq = time.Now().Add(wait), d.seq
	d.seq++
	heap.Push(&d.queue, j)
	first := d.queue[0] == j
	d.mu.Unlock()
	if first {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// schedule hands each job to a worker when it falls due.
func (d *dispatcher) schedule() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due *job
		wait := time.Hour
		d.mu.Lock()
		if len(d.queue) > 0 {
			if wait = time.Until(d.queue[0].due); wait <= 0 {
				due = heap.Pop(&d.queue).(*job)
			}
		}
		d.mu.Unlock()
		if due != nil {
			select {
			case d.ready <- due:
				continue
			case <-d.ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-d.ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

func (d *dispatcher) work() {
	for {
		select {
		case <-d.ctx.Done():
			return
		case j := <-d.ready:
			d.deliver(j)
		}
	}
}

// deliver posts a job's current step, then queues a retry or the next step.
// The carrier's record moves on whether or not the callback landed, and a
// step given up on does not hold back the ones after it.
func (d *dispatcher) deliver(j *job) {
	st := j.steps[j.next]
	if j.attempt == 0 {
		d.report(j.msg, st.status, st.errorCode)
	}
	if err := d.post(j, st); err != nil {
		if d.ctx.Err() != nil {
			return
		}
		if j.attempt < d.retries {
			j.attempt++
			d.after(j, d.backoff<<(j.attempt-1))
			return
		}
		d.log.Warn("sim: status callback given up", slog.String("message_sid", j.msg.SID),
			slog.String("status", st.status), slog.Int("attempts", j.attempt+1), slog.String("error", err.Error()))
	}
	j.next, j.attempt = j.next+1, 0
	if j.next < len(j.steps) {
		d.after(j, j.steps[j.next].after)
		return
	}
	d.pending.Add(-1)
}

// post sends one status callback as Twilio does: form-encoded, signed with
// the sub-account's token over the exact callback URL and every parameter.
func (d *dispatcher) post(j *job, st step) error {
	m := j.msg
	form := url.Values{
		"MessageSid": {m.SID}, "SmsSid": {m.SID}, "AccountSid": {j.acct.sid},
		"To": {m.To}, "MessageStatus": {st.status}, "SmsStatus": {st.status}, "ApiVersion": {apiVersion},
	}
	if j.service != "" {
		form.Set("MessagingServiceSid", j.service)
	}
	if m.From != j.service {
		form.Set("From", m.From)
	}
	if st.errorCode != "" {
		form.Set("ErrorCode", st.errorCode)
	}
	if st.status == "delivered" || st.status == "undelivered" {
		form.Set("RawDlrDoneDate", d.now().UTC().Format("0601021504"))
	}
	target := j.cb.String()
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(j.acct.token, target, form))
	req.Header.Set("I-Twilio-Idempotency-Token", idempotencyToken(j.msg.SID, st.n))
	if b := j.cb.base; b.user != "" {
		req.SetBasicAuth(b.user, b.pass)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("callback answered %d", resp.StatusCode)
	}
	return nil
}

// jobHeap orders jobs by due time, then by when they were queued.
type jobHeap []*job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(a, b int) bool {
	if h[a].due.Equal(h[b].due) {
		return h[a].seq < h[b].seq
	}
	return h[a].due.Before(h[b].due)
}
func (h jobHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *jobHeap) Push(x any)   { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}
