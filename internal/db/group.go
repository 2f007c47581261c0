package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// Group commits the work of concurrent callers together: it gathers what
// arrives within a short window into one transaction, so a burst of small
// writes pays for one commit (one fsync) instead of one each. Each caller's
// work runs in a savepoint of its own, so one caller's failure rolls back
// only its own writes; every caller returns after the shared commit, so
// what it was told succeeded is durable.
type Group struct {
	db     *DB
	window time.Duration
	max    int
	jobs   chan *groupJob
}

type groupJob struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
	// state settles the race between a caller giving up and the group
	// starting its work: exactly one of them moves it from pending.
	state atomic.Int32
}

const (
	jobPending int32 = iota
	jobStarted
	jobAbandoned
)

// NewGroup starts a group committer: work waits at most window for
// company, and at most max pieces share a transaction. Stop it with ctx.
func NewGroup(ctx context.Context, d *DB, window time.Duration, max int) *Group {
	g := &Group{db: d, window: window, max: max, jobs: make(chan *groupJob, max)}
	go g.loop(ctx)
	return g
}

// Do runs fn in a transaction shared with other callers and returns once
// that transaction has committed (or fn's error, with fn's writes undone).
// When ctx ends first, fn is never run if it had not started; if it had,
// Do waits for it, so fn never runs after Do has returned (callers read
// what fn wrote).
func (g *Group) Do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	j := &groupJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case g.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobPending, jobAbandoned) {
			return ctx.Err()
		}
		return <-j.done
	}
}

func (g *Group) loop(ctx context.Context) {
	for {
		var first *groupJob
		select {
		case <-ctx.Done():
			return
		case first = <-g.jobs:
		}
		batch := []*groupJob{first}
		timer := time.NewTimer(g.window)
	gather:
		for len(batch) < g.max {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		g.run(batch)
	}
}

// run executes a batch in one transaction, each job in a savepoint.
func (g *Group) run(batch []*groupJob) {
	results := make([]error, len(batch))
	err := g.db.InTx(context.Background(), func(tx *sql.Tx) error {
		for i, j := range batch {
			if !j.state.CompareAndSwap(jobPending, jobStarted) {
				results[i] = context.Canceled // its caller has gone
				continue
			}
			if err := j.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if _, err := tx.Exec("SAVEPOINT group_job"); err != nil {
				return fmt.Errorf("db: savepoint: %w", err)
			}
			if results[i] = j.fn(tx); results[i] != nil {
				if _, err := tx.Exec("ROLLBACK TO SAVEPOINT group_job"); err != nil {
					return fmt.Errorf("db: rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.Exec("RELEASE SAVEPOINT group_job"); err != nil {
				return fmt.Errorf("db: release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, j := range batch {
		if err != nil {
			results[i] = err
		}
		j.done <- results[i]
	}
}
