package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
)

// envelope is the body of every delivery.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	AccountID string          `json:"account_id"`
	Data      json.RawMessage `json:"data"`
}

// deliveryArgs is the job that sends one delivery. Generation is the
// delivery's at the time the job was queued: a redelivery bumps it, and an
// older job still waiting to retry then stands down.
type deliveryArgs struct {
	AccountID  string `json:"account_id"`
	DeliveryID string `json:"delivery_id"`
	Generation int    `json:"generation"`
}

func (deliveryArgs) Kind() string { return "webhook_delivery" }

// InsertOpts puts deliveries on their own queue. Attempts are bounded by
// Config.RetryFor, not by a count; the cap here is only a backstop.
func (deliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 200}
}

var errNoQueue = errors.New("webhook: no job queue (SetQueue was not called)")

// Emit tells every enabled endpoint of the account that subscribes to
// event: for each it writes a delivery row and queues its job. With a tx,
// both are part of it, so the event commits (or rolls back) with the
// change that caused it; on SQLite, code inside a transaction must pass it.
// With a nil tx Emit writes in a transaction of its own. data becomes the
// body's "data" and must marshal to a JSON object.
//
// When no endpoint subscribes, Emit costs a map lookup, or one indexed
// query when the account's subscriptions are not cached.
func (s *Service) Emit(ctx context.Context, tx *sql.Tx, accountID, event string, data any) error {
	if !knownEvents[event] {
		return fmt.Errorf("webhook: emit: unknown event %q", event)
	}
	var q db.Querier = s.db.Read()
	if tx != nil {
		q = tx
	}
	targets, err := s.subscribers(ctx, q, accountID, event)
	if err != nil || len(targets) == 0 {
		return err
	}
	if s.queue == nil {
		return errNoQueue
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhook: emit %s: data: %w", event, err)
	}
	now := s.clock.Now()
	rows := make([][]any, len(targets))
	jobs := make([]deliveryArgs, len(targets))
	for i, endpointID := range targets {
		did := id.New(id.Delivery)
		body, err := json.Marshal(envelope{ID: did, Type: event, CreatedAt: now, AccountID: accountID, Data: raw})
		if err != nil {
			return fmt.Errorf("webhook: emit %s: %w", event, err)
		}
		rows[i] = []any{did, accountID, endpointID, event, string(body), statusPending, now, now.Add(s.cfg.RetryFor), now, now}
		jobs[i] = deliveryArgs{AccountID: accountID, DeliveryID: did, Generation: 1}
	}
	write := func(tx *sql.Tx) error {
		if err := db.InsertRows(ctx, tx, "webhook_deliveries", deliveryColumns, rows, ""); err != nil {
			return fmt.Errorf("webhook: emit %s: %w", event, err)
		}
		for _, j := range jobs {
			if _, err := s.queue.Insert(ctx, tx, j, nil); err != nil {
				return fmt.Errorf("webhook: emit %s: %w", event, err)
			}
		}
		return nil
	}
	if tx != nil {
		return write(tx)
	}
	return s.db.InTx(ctx, write)
}

var deliveryColumns = []string{"id", "account_id", "endpoint_id", "event", "payload", "status",
	"next_attempt_at", "retry_until", "created_at", "updated_at"}

// subscribers returns the ids of the account's enabled endpoints that
// subscribe to event.
func (s *Service) subscribers(ctx context.Context, q db.Querier, accountID, event string) ([]string, error) {
	subs, gen, ok := s.cache.get(accountID, time.Now())
	if !ok {
		var err error
		if subs, err = loadSubscriptions(ctx, q, accountID); err != nil {
			return nil, err
		}
		s.cache.put(accountID, subs, gen, time.Now())
	}
	var out []string
	for _, sub := range subs {
		if sub.events[event] {
			out = append(out, sub.endpointID)
		}
	}
	return out, nil
}

// subscription is what Emit needs of an enabled endpoint.
type subscription struct {
	endpointID string
	events     map[string]bool
}

// loadSubscriptions reads an account's enabled endpoints through the
// webhook_endpoints_account index.
func loadSubscriptions(ctx context.Context, q db.Querier, accountID string) ([]subscription, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, events FROM webhook_endpoints WHERE account_id = $1 AND enabled = $2`, accountID, true)
	if err != nil {
		return nil, fmt.Errorf("webhook: subscriptions: %w", err)
	}
	defer rows.Close()
	subs := []subscription{}
	for rows.Next() {
		var endpointID, events string
		if err := rows.Scan(&endpointID, &events); err != nil {
			return nil, fmt.Errorf("webhook: subscriptions: %w", err)
		}
		sub := subscription{endpointID: endpointID, events: map[string]bool{}}
		for _, e := range splitEvents(events) {
			sub.events[e] = true
		}
		subs = append(subs, sub)
	}
	return subs, rows.Err()
}

// maxCachedAccounts bounds the cache; past it, it starts over.
const maxCachedAccounts = 10000

// subscriptionCache keeps each account's subscriptions for a short while,
// so an account without webhooks costs a busy code path nothing. It uses
// the wall clock, not the service's: it is about freshness, not about
// anything a test controls.
type subscriptionCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cacheEntry
	// gen counts forgets: a load that began before a change must not be
	// kept after it.
	gen uint64
}

type cacheEntry struct {
	subs    []subscription
	expires time.Time
}

func newSubscriptionCache(ttl time.Duration) *subscriptionCache {
	return &subscriptionCache{ttl: ttl, entries: map[string]cacheEntry{}}
}

// get returns the cached subscriptions, or the generation to hand to put
// after loading them.
func (c *subscriptionCache) get(accountID string, now time.Time) ([]subscription, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[accountID]
	if !ok || now.After(e.expires) {
		return nil, c.gen, false
	}
	return e.subs, c.gen, true
}

func (c *subscriptionCache) put(accountID string, subs []subscription, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxCachedAccounts {
		clear(c.entries)
	}
	c.entries[accountID] = cacheEntry{subs: subs, expires: now.Add(c.ttl)}
}

func (c *subscriptionCache) forget(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, accountID)
}
