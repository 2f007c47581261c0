// Package sim is a carrier simulator that speaks Twilio's Programmable
// Messaging protocol: the Messages REST call, HTTP Basic auth with a
// sub-account's SID and token, Twilio's error bodies and codes, signed status
// callbacks and signed inbound-message webhooks answered with TwiML.
//
// It exists so that Herald's default set-up runs the real carrier code path
// end to end. The Twilio provider cannot tell the simulator from Twilio: it
// sends over HTTP, is refused with real error codes, and receives callbacks it
// must verify exactly as in production. A developer gets a working SMS loop on
// one machine, with phone "handsets" whose inboxes can be read and answered
// (STOP, HELP…) from the admin UI; tests and benchmarks get a carrier that
// can be made slow, rate-limited, failing or out of order on demand, and that
// is fast enough never to be the bottleneck being measured.
//
// The simulator keeps everything in memory, bounded, and forgets it on
// restart. It is not a security boundary: like Twilio it trusts the first
// token it sees for a sub-account SID.
package sim

import (
	"context"
	"crypto/rand"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

// Defaults for the zero values of Config.
const (
	DefaultInboxPerHandset = 1_000
	DefaultInboxTotal      = 100_000
	DefaultQueueLimit      = 100_000
	DefaultWorkers         = 32
	DefaultCallbackRetries = 3
	DefaultRetryBackoff    = time.Second
)

// Config sets up a Sim. The zero value is a working carrier that delivers
// every message and reports it at once.
type Config struct {
	// CallbackDelay is the wait before each status callback: before "sent",
	// and again between "sent" and the final status. 0 reports at once.
	CallbackDelay time.Duration
	// Mix weighs the final outcomes of accepted messages. The zero value
	// delivers everything.
	Mix Mix
	// InboundURL is where a handset's text is posted as a signed Twilio
	// inbound-message webhook, e.g. Herald's /webhooks/twilio/inbound.
	InboundURL string
	// Seed seeds the outcome mix and the failure probability, so a run can
	// be repeated.
	Seed int64
	// Clock stamps messages (ReceivedAt, date_created) and times failure
	// windows. Nil means time.Now. Delays are always real time.
	Clock func() time.Time
	// Logger receives a warning when a callback is given up. Nil discards.
	Logger *slog.Logger
	// HTTPClient posts status callbacks and inbound webhooks. Nil means a
	// keep-alive client with a 10 s timeout per attempt.
	HTTPClient *http.Client

	// DuplicateCallbacks posts every status callback twice, with the same
	// idempotency token, as Twilio does when it retries a callback whose
	// answer it did not see.
	DuplicateCallbacks bool
	// ShuffleCallbacks reports the final status before "sent", as a carrier
	// whose callbacks overtake each other does.
	ShuffleCallbacks bool

	// InboxPerHandset and InboxTotal bound what is kept: the newest messages
	// per handset and overall. Defaults 1,000 and 100,000.
	InboxPerHandset, InboxTotal int
	// QueueLimit bounds the messages whose callbacks are still to be posted.
	// When it is reached, sends are refused with 429 (code 20429) until the
	// queue drains, as Twilio refuses a sender whose queue is full, so no
	// status is ever silently lost. Default 100,000.
	QueueLimit int
	// Workers is how many callbacks are posted at once. Default 32.
	Workers int
	// CallbackRetries is how many times a failed callback (a non-2xx answer,
	// a network error, a timeout) is tried again; RetryBackoff is the first
	// wait, doubled each time. Defaults 3 and 1 s; a negative count means no
	// retries.
	CallbackRetries int
	RetryBackoff    time.Duration
}

// Mix weighs the final outcomes of accepted messages: each message ends
// delivered, undelivered or failed with probability weight/total. The zero
// value means 100/0/0.
type Mix struct {
	Delivered, Undelivered, Failed int
	// ErrorCodes are what an undelivered or failed message reports, drawn
	// uniformly. Nil means DefaultErrorCodes.
	ErrorCodes []string
}

// DefaultErrorCodes are Twilio's delivery error codes for a message the
// carrier accepted but could not deliver: 30003 unreachable handset, 30005
// unknown destination, 30006 landline or unreachable carrier, 30007 carrier
// filtering, 30008 unknown error.
var DefaultErrorCodes = []string{"30003", "30005", "30006", "30007", "30008"}

// Sim is a Twilio-compatible carrier. It is safe for concurrent use.
type Sim struct {
	cfg  Config
	now  func() time.Time
	log  *slog.Logger
	http *http.Client
	mux  *http.ServeMux
	ids  idSource
	urls callbackURLs
	cb   *dispatcher

	rngMu sync.Mutex
	rng   *mrand.Rand

	latency  atomic.Int64 // time.Duration added to every API request
	accepted atomic.Int64 // messages taken since New or Reset
	fail     failureState

	acctMu sync.RWMutex
	// accounts maps a sub-account SID to the account first seen with it.
	// Its strings are copies: every message and callback job holds them,
	// and a SID or token read from a request would keep that request's
	// line and header alive with each of them.
	accounts map[string]account

	mu sync.Mutex
	st store // guarded by mu

	ownClient bool // the HTTP client is the simulator's own, to close with it
	closeOnce sync.Once
}

// New returns a running simulator. Call Close to stop its callback workers.
func New(cfg Config) *Sim {
	own := cfg.HTTPClient == nil
	cfg = withDefaults(cfg)
	s := &Sim{
		cfg:       cfg,
		now:       cfg.Clock,
		log:       cfg.Logger,
		http:      cfg.HTTPClient,
		rng:       mrand.New(mrand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		accounts:  make(map[string]account),
		st:        newStore(cfg.InboxPerHandset, cfg.InboxTotal),
		ownClient: own,
	}
	_, _ = rand.Read(s.ids.prefix[:])
	s.cb = newDispatcher(dispatcherConfig{
		http: s.http, log: s.log, now: s.now,
		workers: cfg.Workers, limit: cfg.QueueLimit,
		retries: max(cfg.CallbackRetries, 0), backoff: cfg.RetryBackoff,
		report: s.markStatus,
	})
	s.mux = s.routes()
	return s
}

func withDefaults(cfg Config) Config {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = twilio.NewHTTPClient(10 * time.Second)
	}
	mix := &cfg.Mix
	mix.Delivered, mix.Undelivered, mix.Failed = max(mix.Delivered, 0), max(mix.Undelivered, 0), max(mix.Failed, 0)
	if mix.Delivered+mix.Undelivered+mix.Failed == 0 {
		mix.Delivered = 100
	}
	if len(mix.ErrorCodes) == 0 {
		mix.ErrorCodes = DefaultErrorCodes
	}
	mix.ErrorCodes = slices.Clone(mix.ErrorCodes) // the caller's slice may change later
	cfg.InboxPerHandset = positiveOr(cfg.InboxPerHandset, DefaultInboxPerHandset)
	cfg.InboxTotal = positiveOr(cfg.InboxTotal, DefaultInboxTotal)
	cfg.QueueLimit = positiveOr(cfg.QueueLimit, DefaultQueueLimit)
	cfg.Workers = positiveOr(cfg.Workers, DefaultWorkers)
	if cfg.CallbackRetries == 0 {
		cfg.CallbackRetries = DefaultCallbackRetries
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	return cfg
}

func positiveOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Handler serves the Twilio API and the simulator's own control endpoints,
// at paths relative to where it is mounted (mount it with http.StripPrefix).
func (s *Sim) Handler() http.Handler { return s.mux }

// Close stops the callback workers and waits for them. Callbacks not yet
// posted are dropped; the handler still answers, but posts nothing more.
// Close is safe to call more than once.
func (s *Sim) Close() {
	s.closeOnce.Do(func() {
		s.cb.close()
		if s.ownClient {
			s.http.CloseIdleConnections()
		}
	})
}

// Pending reports how many accepted messages still have status callbacks to
// post, so a test can wait for the carrier to go quiet.
func (s *Sim) Pending() int { return int(s.cb.pending.Load()) }

// Accepted reports how many messages the carrier has taken (answered 201)
// since New or the last Reset, however few its inboxes keep: a benchmark
// counts hand-overs without asking Herald's database.
func (s *Sim) Accepted() int { return int(s.accepted.Load()) }

// Reset forgets every message, handset state, failure mode and added latency,
// so one process can serve several test scenarios. Sub-account tokens and
// which sub-account owns which sender number are kept, as Herald's
// configuration outlives a scenario; callbacks already queued still go out.
func (s *Sim) Reset() {
	s.mu.Lock()
	s.st.reset()
	s.accepted.Store(0)
	s.mu.Unlock()
	s.SetFailure(Failure{})
	s.SetLatency(0)
}

// SetLatency adds d to every Twilio API request before it is answered, to
// imitate a carrier far away. 0 removes it.
func (s *Sim) SetLatency(d time.Duration) { s.latency.Store(int64(max(d, 0))) }

// SetUnsubscribed marks a handset as having texted STOP at the carrier:
// sends to it are refused with code 21610 until it is set back.
func (s *Sim) SetUnsubscribed(handset string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.setFlag(handset, func(f *flags) { f.unsubscribed = on })
}

// SetLandline marks a handset as a landline: sends to it are refused with
// code 21614 (not a mobile number) until it is set back.
func (s *Sim) SetLandline(handset string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.setFlag(handset, func(f *flags) { f.landline = on })
}

// routes lists every path the simulator serves.
func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", s.handleSend)
	mux.HandleFunc("/2010-04-01/", handleTwilioNotFound)
	mux.HandleFunc("GET /inbox", s.handleInbox)
	mux.HandleFunc("GET /handsets", s.handleHandsets)
	mux.HandleFunc("POST /reply", s.handleReply)
	return mux
}

// sleep waits d, or less if ctx ends first, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// randIntN and randFloat draw from the seeded source.
func (s *Sim) randIntN(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

func (s *Sim) randFloat() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}
