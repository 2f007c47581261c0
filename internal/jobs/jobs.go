// Package jobs is Herald's durable job queue: River, on Herald's own
// database, so a job can be inserted in the transaction that writes the row
// it is about and commits or rolls back with it.
//
// Both engines go through database/sql, the same pools Herald uses:
// riversqlite on SQLite and riverdatabasesql (pgx's stdlib driver) on
// PostgreSQL. On SQLite River shares Herald's single writer connection.
// That is on purpose: River's own statements are short and already
// serialised by SQLite's one write lock, and a second connection would only
// turn Go-side queuing into busy-waiting inside the engine. It is safe
// because River never holds the connection while it waits for another one:
// a job inserted in a caller's transaction goes through that transaction,
// and River's own transactions use only themselves. The one rule for
// callers follows from it: on SQLite, code running inside db.InTx must not
// call the queue without passing its *sql.Tx (Insert with a nil tx would
// wait for the connection the caller holds).
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/heraldsms/herald/internal/db"
)

// QueueDefault is the queue a job goes to unless its InsertOpts say another.
const QueueDefault = river.QueueDefault

// Config tunes the queue. The zero value is usable.
type Config struct {
	// Queues maps a queue name to how many of its jobs run at once. A job
	// whose queue is not listed is never worked by this process. Default:
	// QueueDefault with 10 workers.
	Queues map[string]int
	// FetchCooldown is the shortest wait between two fetches of a queue.
	// River's default (100 ms) caps a queue at about workers × 10 jobs/s;
	// Herald's default is 5 ms.
	FetchCooldown time.Duration
	// FetchPollInterval is how often a queue looks for jobs when nothing
	// told it of one. On PostgreSQL (poll only: database/sql has no
	// LISTEN) it bounds how long a job inserted in a transaction waits;
	// default 100 ms. On SQLite River's listener polls its notification
	// table every 50 ms and wakes the queue on inserts, so this only
	// catches retries coming due; default 500 ms, since each fetch takes
	// the one write lock.
	FetchPollInterval time.Duration
	// JobTimeout cancels a job's context after this long. Default 1 minute.
	JobTimeout time.Duration
	// StopTimeout is how long Stop lets running jobs finish before it
	// cancels them. Default 10 s.
	StopTimeout time.Duration
	// RetryPolicy decides when a failed job runs again, for jobs whose
	// worker has no NextRetry of its own. Default: River's attempt⁴ seconds.
	RetryPolicy river.ClientRetryPolicy
	// Periodic are jobs River inserts on a schedule (in one process of a
	// cluster: the elected leader).
	Periodic []*river.PeriodicJob
	// Test makes maintenance services start without their random stagger.
	Test bool
}

func (c Config) withDefaults(e db.Engine) Config {
	if len(c.Queues) == 0 {
		c.Queues = map[string]int{QueueDefault: 10}
	}
	if c.FetchCooldown <= 0 {
		c.FetchCooldown = 5 * time.Millisecond
	}
	if c.FetchPollInterval <= 0 {
		c.FetchPollInterval = 100 * time.Millisecond
		if e == db.SQLite {
			c.FetchPollInterval = 500 * time.Millisecond
		}
	}
	c.FetchPollInterval = max(c.FetchPollInterval, c.FetchCooldown)
	if c.JobTimeout <= 0 {
		c.JobTimeout = time.Minute
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 10 * time.Second
	}
	return c
}

// Queue is a River client on Herald's database.
type Queue struct {
	client *river.Client[*sql.Tx]
}

// New builds a queue on d that runs the given workers. River's tables must
// exist: call Migrate first. The queue does not work jobs until Start; it
// can insert them at once.
func New(d *db.DB, log *slog.Logger, workers *river.Workers, cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults(d.Engine)
	queues := make(map[string]river.QueueConfig, len(cfg.Queues))
	for name, n := range cfg.Queues {
		queues[name] = river.QueueConfig{MaxWorkers: n}
	}
	rc := &river.Config{
		FetchCooldown:     cfg.FetchCooldown,
		FetchPollInterval: cfg.FetchPollInterval,
		JobTimeout:        cfg.JobTimeout,
		SoftStopTimeout:   cfg.StopTimeout,
		Logger:            riverLogger(log),
		PeriodicJobs:      cfg.Periodic,
		Queues:            queues,
		RetryPolicy:       cfg.RetryPolicy,
		Workers:           workers,
		TestOnly:          cfg.Test,
	}
	client, err := river.NewClient(driverFor(d), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	return &Queue{client: client}, nil
}

// driverFor returns River's driver for the engine, on Herald's write pool.
func driverFor(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Engine == db.SQLite {
		return riversqlite.New(d.Write())
	}
	// Poll only: database/sql has no LISTEN. FetchPollInterval bounds how
	// long a job inserted in a transaction waits.
	return riverdatabasesql.New(d.Write())
}

// Start begins working jobs. Jobs run with contexts derived from ctx;
// cancelling it stops the queue abruptly, so prefer Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish; after the
// configured StopTimeout their contexts are cancelled. It returns early with
// ctx's error if ctx ends first.
func (q *Queue) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Insert adds a job. With a tx the job is part of it: it runs only if the
// transaction commits, so a job commits with the row it is about. With a
// nil tx it is inserted on its own (on SQLite, never from inside another
// write transaction: see the package comment).
func (q *Queue) Insert(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	var (
		res *rivertype.JobInsertResult
		err error
	)
	if tx != nil {
		res, err = q.client.InsertTx(ctx, tx, args, opts)
	} else {
		res, err = q.client.Insert(ctx, args, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job, nil
}

// Client is the River client, for what this package does not wrap
// (listing jobs, subscribing to their events in tests).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }
