// Package delivery sends queued messages: per sender number, one process at
// a time holds the number's lease and a token bucket at its rate, claims
// rows in batches, re-checks the audience rules, calls the carrier with many
// requests in flight, and records the outcomes in batches.
package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/provider"
)

// Config tunes a Dispatcher. Zero values take the defaults.
type Config struct {
	Holder         string        // this process's name in number leases
	StatusCallback string        // the URL the carrier reports statuses to
	InFlight       int           // carrier requests in flight, whole process (64)
	Batch          int           // most messages claimed at once (300; see below)
	LeaseFor       time.Duration // how long a number lease lasts unrenewed (15 s)
	ClaimFor       time.Duration // how long a claim lasts before it is requeued (60 s: a send times out at 30 s)
	Poll           time.Duration // how often an idle number looks for work (250 ms)
	MaxAttempts    int           // attempts before a retryable failure is final (6)
	AuthPause      time.Duration // how long a number waits after the carrier refused its credentials (1 min)
}

func (c *Config) defaults() {
	if c.InFlight == 0 {
		c.InFlight = 64
	}
	if c.Batch == 0 {
		// While a promotion's pages are written, a claim waits behind
		// transactions of about 50 ms, so a number sends one batch per
		// transaction: with batches of 100 it sent 4,600/s.
		c.Batch = 300
	}
	if c.LeaseFor == 0 {
		c.LeaseFor = 15 * time.Second
	}
	if c.ClaimFor == 0 {
		c.ClaimFor = time.Minute
	}
	if c.Poll == 0 {
		c.Poll = 250 * time.Millisecond
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 6
	}
	if c.AuthPause == 0 {
		c.AuthPause = time.Minute
	}
}

// Accounts is what the dispatcher reads of an account.
type Accounts interface {
	Get(ctx context.Context, accountID string) (account.Account, error)
	Credentials(ctx context.Context, accountID string) (provider.Credentials, error)
	MoveWaitingMessages(ctx context.Context, accountID string) error
	// CarrierRefused and CarrierAccepted note, for the admin, that the
	// carrier began or stopped refusing the account's credentials.
	CarrierRefused(ctx context.Context, accountID string, at time.Time, used provider.Credentials) (bool, error)
	CarrierAccepted(ctx context.Context, accountID string) error
}

// Dispatcher runs the number workers of one process.
type Dispatcher struct {
	cfg      Config
	db       *db.DB
	messages *message.Service
	accounts Accounts
	provider provider.Provider
	clock    clock.Clock
	log      *slog.Logger
	inFlight chan struct{}

	mu      sync.Mutex
	workers map[string]*worker

	watch numberWatch // used by Run's goroutine alone
}

// New returns a Dispatcher; Run starts it.
func New(cfg Config, d *db.DB, messages *message.Service, accounts Accounts, p provider.Provider, c clock.Clock, log *slog.Logger) *Dispatcher {
	cfg.defaults()
	return &Dispatcher{cfg: cfg, db: d, messages: messages, accounts: accounts, provider: p, clock: c, log: log,
		inFlight: make(chan struct{}, cfg.InFlight), workers: map[string]*worker{}}
}

// statusCallback is the URL the carrier reports a message's statuses to:
// the configured one, naming the message, so that a report which outruns
// the send's result can wait for it (message.Service.Expect).
func (d *Dispatcher) statusCallback(messageID string) string {
	cb := d.cfg.StatusCallback
	if cb == "" {
		return ""
	}
	sep := "?"
	if strings.Contains(cb, "?") {
		sep = "&"
	}
	return cb + sep + message.CallbackParam + "=" + url.QueryEscape(messageID)
}

// Wake tells a number's worker that messages wait, if this process runs it.
func (d *Dispatcher) Wake(numberID string) {
	d.mu.Lock()
	w := d.workers[numberID]
	d.mu.Unlock()
	if w != nil {
		w.wake()
	}
}

// Run keeps a worker for each number this process holds the lease of, and
// requeues expired claims, until ctx is done; then it stops the workers,
// lets their sends finish and gives up its leases.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastSweep := time.Time{}
	for {
		if err := d.refresh(ctx, &wg); err != nil && ctx.Err() == nil {
			d.log.Error("dispatcher refresh failed", "err", err)
		}
		d.moveDue(ctx, time.Now())
		if time.Since(lastSweep) > 5*time.Second {
			if n, err := d.messages.RequeueExpired(ctx, d.cfg.MaxAttempts); err != nil && ctx.Err() == nil {
				d.log.Error("requeue expired claims failed", "err", err)
			} else if n > 0 {
				d.log.Warn("requeued messages whose claim expired", "count", n)
			}
			lastSweep = time.Now()
		}
		select {
		case <-ctx.Done():
			d.stopAll()
			wg.Wait()
			d.releaseLeases()
			return nil
		case <-tick.C:
		}
	}
}

type numberRow struct {
	id, accountID, phone string
	mps                  float64
}

const enabledNumbers = `
SELECT n.id, n.account_id, n.phone, n.mps FROM sender_numbers n
JOIN accounts a ON a.id = n.account_id WHERE a.sms_enabled = $1`

// refresh takes or renews the lease of every sending number and starts or
// stops workers to match.
func (d *Dispatcher) refresh(ctx context.Context, wg *sync.WaitGroup) error {
	rows, err := d.db.Read().QueryContext(ctx, enabledNumbers, true)
	if err != nil {
		return fmt.Errorf("delivery: numbers: %w", err)
	}
	var nums []numberRow
	for rows.Next() {
		var n numberRow
		if err := rows.Scan(&n.id, &n.accountID, &n.phone, &n.mps); err != nil {
			rows.Close()
			return fmt.Errorf("delivery: numbers: %w", err)
		}
		nums = append(nums, n)
	}
	rows.Close()
	d.watch.observe(nums, time.Now())
	keep := map[string]bool{}
	for _, n := range nums {
		held, err := d.lease(ctx, n.id)
		if err != nil {
			return err
		}
		if held {
			keep[n.id] = true
			d.ensureWorker(ctx, n, wg)
		}
	}
	d.mu.Lock()
	for id, w := range d.workers {
		if !keep[id] {
			w.stop()
			delete(d.workers, id)
		}
	}
	d.mu.Unlock()
	return nil
}

func (d *Dispatcher) ensureWorker(ctx context.Context, n numberRow, wg *sync.WaitGroup) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.workers[n.id]; ok {
		w.setRate(n.mps)
		return
	}
	w := newWorker(d, n)
	d.workers[n.id] = w
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.run(ctx)
	}()
}

func (d *Dispatcher) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, w := range d.workers {
		w.stop()
		delete(d.workers, id)
	}
}

const takeLease = `
INSERT INTO number_leases (number_id, holder, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (number_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE number_leases.holder = excluded.holder OR number_leases.expires_at < $4
RETURNING holder`

// lease takes or renews a number's lease; it fails (false) while another
// live process holds it.
func (d *Dispatcher) lease(ctx context.Context, numberID string) (bool, error) {
	now := d.clock.Now()
	var holder string
	err := d.db.Write().QueryRowContext(ctx, takeLease, numberID, d.cfg.Holder, now.Add(d.cfg.LeaseFor), now).Scan(&holder)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delivery: lease: %w", err)
	}
	return holder == d.cfg.Holder, nil
}

func (d *Dispatcher) releaseLeases() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _ = d.db.Write().ExecContext(ctx, `DELETE FROM number_leases WHERE holder = $1`, d.cfg.Holder)
}
