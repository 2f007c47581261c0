package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Group commits the work of concurrent callers together: it gathers what
// is queued and what arrives within a short window (see gather) into one
// transaction, so a burst of small writes pays for one commit (one fsync)
// instead of one each. One caller's failure rolls back only its own
// writes (see run); every caller returns after the shared commit, so what
// it was told succeeded is durable.
type Group struct {
	db     *DB
	window time.Duration
	max    int
	jobs   chan *groupJob
}

type groupJob struct {
	ctx context.Context
	fn  func(tx *sql.Tx) error
	// merge, when set, is the Merged that runs this job together with the
	// batch's other jobs of the same Merged; item is the job's input.
	merge merger
	item  any
	done  chan error
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
// company, and only until its batch is as large as the one before; at most
// max pieces share a transaction. Stop it with ctx.
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
	return g.submit(ctx, &groupJob{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

func (g *Group) submit(ctx context.Context, j *groupJob) error {
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
	last := 0 // the size of the batch before
	for {
		var first *groupJob
		select {
		case <-ctx.Done():
			return
		case first = <-g.jobs:
		}
		batch := g.gather(first, last)
		last = len(batch)
		g.run(batch)
	}
}

// gather collects a batch behind first: what is queued already, then what
// arrives within the window, until the batch is as large as the one before.
// Callers that wait for their commit before sending more (a carrier's
// callback workers, API clients) come back about as many as they were, so
// waiting out the window for more only delays them; a batch that falls
// short waits the window, and the next one expects only as many.
func (g *Group) gather(first *groupJob, last int) []*groupJob {
	batch := []*groupJob{first}
	var window <-chan time.Time
	for len(batch) < g.max {
		select {
		case j := <-g.jobs:
			batch = append(batch, j)
			continue
		default:
		}
		if len(batch) >= last {
			return batch
		}
		if window == nil {
			t := time.NewTimer(g.window)
			defer t.Stop()
			window = t.C
		}
		select {
		case j := <-g.jobs:
			batch = append(batch, j)
		case <-window:
			return batch
		}
	}
	return batch
}

// run executes a batch in one transaction. The batch is cut into units:
// each plain job is one, and the jobs of one Merged are one, standing where
// the first of them stands. With several units each runs in a savepoint of
// its own, so one unit's failure undoes only its own writes; a batch of one
// unit, the usual case when one kind of work arrives at a time, needs no
// savepoint (see runAlone).
func (g *Group) run(batch []*groupJob) {
	results := make([]error, len(batch))
	units := g.units(batch, results)
	if len(units) == 1 {
		g.runAlone(units[0], batch, results)
	} else if len(units) > 1 {
		err := g.db.InTx(context.Background(), func(tx *sql.Tx) error {
			for _, u := range units {
				var err error
				if u.merge != nil {
					err = g.runMerged(tx, u.merge, batch, u.idx, results)
				} else {
					err = savepoint(tx, func() error { return batch[u.idx[0]].fn(tx) })
					if !errors.Is(err, errSavepoint) {
						results[u.idx[0]], err = err, nil
					}
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			setAll(results, units, err)
		}
	}
	for i, j := range batch {
		j.done <- results[i]
	}
}

// unit is work that succeeds or fails as one: a plain job, or the jobs of
// one Merged (batch indexes idx, in arrival order).
type unit struct {
	merge merger
	idx   []int
}

// units starts the batch's jobs whose callers still wait and cuts them into
// units; a job not started has its result set already. Every job is
// started before the transaction begins, so a caller that gives up after
// that waits for its work (see Do).
func (g *Group) units(batch []*groupJob, results []error) []unit {
	var units []unit
	at := map[merger]int{} // a Merged's place in units
	for i, j := range batch {
		if !g.start(j, &results[i]) {
			continue
		}
		if j.merge == nil {
			units = append(units, unit{idx: []int{i}})
			continue
		}
		if k, ok := at[j.merge]; ok {
			units[k].idx = append(units[k].idx, i)
			continue
		}
		at[j.merge] = len(units)
		units = append(units, unit{merge: j.merge, idx: []int{i}})
	}
	return units
}

// runAlone runs a batch's only unit in a transaction of its own, without a
// savepoint: its failure rolls the whole transaction back, which holds
// nothing else. On PostgreSQL each savepoint was two round trips: a
// 20,000-message pipeline run sent 10,450 of each. When a Merged call
// fails as a whole, its jobs run again one by one in a new transaction,
// each in a savepoint, as in a larger batch.
func (g *Group) runAlone(u unit, batch []*groupJob, results []error) {
	ctx := context.Background()
	if u.merge == nil {
		k := u.idx[0]
		results[k] = g.db.InTx(ctx, batch[k].fn)
		return
	}
	jobs := jobsAt(batch, u.idx)
	var errs []error
	var callErr error
	err := g.db.InTx(ctx, func(tx *sql.Tx) error {
		errs, callErr = u.merge.runAll(tx, jobs)
		return callErr
	})
	switch {
	case callErr != nil && len(jobs) > 1:
		err = g.db.InTx(ctx, func(tx *sql.Tx) error { return g.eachAlone(tx, u.merge, batch, u.idx, results) })
		if err != nil {
			setAll(results, []unit{u}, err)
		}
	case err != nil:
		setAll(results, []unit{u}, err)
	default:
		for n, k := range u.idx {
			results[k] = errs[n]
		}
	}
}

// setAll gives every job of units the result err: their transaction failed.
func setAll(results []error, units []unit, err error) {
	for _, u := range units {
		for _, k := range u.idx {
			results[k] = err
		}
	}
}

func jobsAt(batch []*groupJob, idx []int) []*groupJob {
	jobs := make([]*groupJob, len(idx))
	for n, k := range idx {
		jobs[n] = batch[k]
	}
	return jobs
}

// start claims a job for running; a job whose caller has gone is not run.
func (g *Group) start(j *groupJob, result *error) bool {
	if !j.state.CompareAndSwap(jobPending, jobStarted) {
		*result = context.Canceled // its caller has gone
		return false
	}
	if err := j.ctx.Err(); err != nil {
		*result = err
		return false
	}
	return true
}

// runMerged runs the jobs batch[idx] of one Merged in one call, in a
// savepoint. If that call fails as a whole, its writes are undone and each
// job is run alone, so one bad item fails only its own caller.
func (g *Group) runMerged(tx *sql.Tx, m merger, batch []*groupJob, idx []int, results []error) error {
	var errs []error
	err := savepoint(tx, func() (err error) {
		errs, err = m.runAll(tx, jobsAt(batch, idx))
		return err
	})
	if errors.Is(err, errSavepoint) {
		return err
	}
	if err == nil {
		for n, k := range idx {
			results[k] = errs[n]
		}
		return nil
	}
	if len(idx) == 1 {
		results[idx[0]] = err
		return nil
	}
	return g.eachAlone(tx, m, batch, idx, results)
}

// eachAlone runs the jobs batch[idx] of one Merged one at a time, each in a
// savepoint, and sets each one's result.
func (g *Group) eachAlone(tx *sql.Tx, m merger, batch []*groupJob, idx []int, results []error) error {
	for _, k := range idx {
		var errs []error
		err := savepoint(tx, func() (err error) {
			errs, err = m.runAll(tx, []*groupJob{batch[k]})
			return err
		})
		if errors.Is(err, errSavepoint) {
			return err
		}
		if err == nil {
			err = errs[0]
		}
		results[k] = err
	}
	return nil
}

// errSavepoint marks a failure of the savepoint statements themselves,
// which leaves the transaction unusable.
var errSavepoint = errors.New("db: savepoint")

// savepoint runs fn inside a savepoint, rolled back if fn fails.
func savepoint(tx *sql.Tx, fn func() error) error {
	if _, err := tx.Exec("SAVEPOINT group_job"); err != nil {
		return fmt.Errorf("%w: %w", errSavepoint, err)
	}
	err := fn()
	if err != nil {
		if _, rerr := tx.Exec("ROLLBACK TO SAVEPOINT group_job"); rerr != nil {
			return fmt.Errorf("%w: rollback: %w", errSavepoint, rerr)
		}
	}
	if _, rerr := tx.Exec("RELEASE SAVEPOINT group_job"); rerr != nil {
		return fmt.Errorf("%w: release: %w", errSavepoint, rerr)
	}
	return err
}

// Merged is work a Group runs for many callers in one call: the items that
// arrive together reach fn as one slice, so a few set-based statements do
// the work of a round trip per caller. fn returns each item's own result
// (a refusal that writes nothing), or an error for the whole call; then
// its writes are undone and fn runs again for each item alone.
type Merged[T any] struct {
	d  *DB
	g  *Group
	fn func(ctx context.Context, tx *sql.Tx, items []T) ([]error, error)
}

// NewMerged returns a Merged whose items g commits. With g nil, each item
// runs alone in a transaction of its own on d.
func NewMerged[T any](d *DB, g *Group, fn func(ctx context.Context, tx *sql.Tx, items []T) ([]error, error)) *Merged[T] {
	return &Merged[T]{d: d, g: g, fn: fn}
}

// Do runs item with the other items that arrive with it and returns once
// their transaction has committed, with the item's own result. As with
// Group.Do, an item whose caller gave up before it started never runs.
func (m *Merged[T]) Do(ctx context.Context, item T) error {
	if m.g == nil {
		var errs []error
		err := m.d.InTx(ctx, func(tx *sql.Tx) (err error) {
			errs, err = m.fn(ctx, tx, []T{item})
			return err
		})
		if err != nil {
			return err
		}
		return errs[0]
	}
	return m.g.submit(ctx, &groupJob{ctx: ctx, merge: m, item: item, done: make(chan error, 1)})
}

type merger interface {
	runAll(tx *sql.Tx, jobs []*groupJob) ([]error, error)
}

func (m *Merged[T]) runAll(tx *sql.Tx, jobs []*groupJob) ([]error, error) {
	items := make([]T, len(jobs))
	for i, j := range jobs {
		items[i] = j.item.(T)
	}
	// The callers' contexts only decide whether their items start; once
	// started, the shared transaction runs to its end.
	errs, err := m.fn(context.Background(), tx, items)
	if err == nil && len(errs) != len(items) {
		return nil, fmt.Errorf("db: merged work returned %d results for %d items", len(errs), len(items))
	}
	return errs, err
}
