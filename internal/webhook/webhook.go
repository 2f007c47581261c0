// Package webhook tells an account's own systems what happened in Herald:
// consent changes, message outcomes, replies and usage marks. An account
// registers endpoints (a URL and the events it wants); Emit writes one
// delivery row and one job per subscribed endpoint, in the caller's
// transaction, and a River worker POSTs the signed event, retrying with
// backoff for a day. Every attempt is kept, so the account can see what its
// endpoint answered and ask for a delivery again.
//
// Deliveries never run in a request: a slow or dead endpoint holds up only
// the webhook queue's workers, never sending.
package webhook

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/secret"
)

// Event types an endpoint can subscribe to.
const (
	ContactOptedOut    = "contact.sms_opted_out"
	ContactOptedIn     = "contact.sms_opted_in"
	MessageDelivered   = "message.delivered"
	MessageFailed      = "message.failed"
	MessageSkipped     = "message.skipped"
	MessageLimitQueued = "message.limit_queued"
	InboundReceived    = "inbound.received"
	UsageThreshold     = "usage.threshold"
	CarrierRefused     = "carrier.credentials_refused"
)

// Events lists every event type, in the order the API documents them.
var Events = []string{ContactOptedOut, ContactOptedIn, MessageDelivered, MessageFailed, MessageSkipped,
	MessageLimitQueued, InboundReceived, UsageThreshold, CarrierRefused}

var knownEvents = func() map[string]bool {
	m := make(map[string]bool, len(Events))
	for _, e := range Events {
		m[e] = true
	}
	return m
}()

// UsageThresholdData is the data of a usage.threshold event: the account's
// messages this month crossed Mark percent of its monthly limit.
type UsageThresholdData struct {
	Mark  int    `json:"mark"`  // 50, 80 or 100
	Month string `json:"month"` // YYYY-MM in the account's time zone
	Used  int64  `json:"used"`
	Limit int64  `json:"limit"`
}

// CarrierRefusedData is the data of a carrier.credentials_refused event:
// the carrier began refusing the account's sub-account credentials, and
// its sends wait until they work again.
type CarrierRefusedData struct {
	AccountSID string    `json:"account_sid"`
	RefusedAt  time.Time `json:"refused_at"`
}

// Queue is the job queue deliveries run on; give it Workers workers.
const Queue = "webhooks"

// Workers is how many deliveries run at once in one process by default:
// enough to keep many endpoints busy, few enough that endpoints which hang
// for the whole timeout cost at most this many goroutines and sockets.
const Workers = 20

// Config tunes deliveries. The zero value gives the documented defaults.
type Config struct {
	// Timeout bounds one attempt, connection to last byte. Default 10 s.
	Timeout time.Duration
	// FirstRetry is the wait after the first failed attempt; each later
	// wait doubles, up to MaxRetryDelay. Defaults 30 s and 1 h.
	FirstRetry    time.Duration
	MaxRetryDelay time.Duration
	// RetryFor is how long after the event (or a redelivery) Herald keeps
	// trying before it marks the delivery failed. Default 24 h.
	RetryFor time.Duration
	// Keep is how long settled deliveries stay in the log. Default 30 days.
	Keep time.Duration
	// CacheTTL is how long Emit trusts what it read of an account's
	// subscriptions. Changes made through this process apply at once;
	// changes made by another process apply within the TTL. Default 5 s.
	CacheTTL time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Timeout, 10*time.Second)
	def(&c.FirstRetry, 30*time.Second)
	def(&c.MaxRetryDelay, time.Hour)
	def(&c.RetryFor, 24*time.Hour)
	def(&c.Keep, 30*24*time.Hour)
	def(&c.CacheTTL, 5*time.Second)
	return c
}

// JobQueue is where deliveries are queued; *jobs.Queue is one.
type JobQueue interface {
	Insert(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error)
}

// Service keeps endpoints, emits events and delivers them.
type Service struct {
	db     *db.DB
	clock  clock.Clock
	log    *slog.Logger
	box    *secret.Box
	cfg    Config
	queue  JobQueue
	client *http.Client
	cache  *subscriptionCache
}

// NewService returns a Service. Endpoint secrets are sealed with box. It
// cannot emit until SetQueue is called.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger, box *secret.Box, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{
		db: d, clock: c, log: log, box: box, cfg: cfg,
		client: newHTTPClient(cfg.Timeout),
		cache:  newSubscriptionCache(cfg.CacheTTL),
	}
}

// AddWorkers registers the service's workers (deliveries, pruning); call
// it before building the job queue with workers.
func (s *Service) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &deliveryWorker{s: s})
	river.AddWorker(workers, &pruneWorker{s: s})
}

// SetQueue connects the job queue, which is built after the service
// because it needs the service's worker.
func (s *Service) SetQueue(q JobQueue) { s.queue = q }

// newHTTPClient makes the client deliveries go out on. It follows no
// redirects: an endpoint answers for itself, and a redirect would let a
// signed event go somewhere the account never registered.
func newHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
