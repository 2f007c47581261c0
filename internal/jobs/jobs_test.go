package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/jobs"
)

// noteArgs is a job that notes its name when it runs.
type noteArgs struct {
	Name string `json:"name"`
	// Fail is how many attempts fail before one succeeds.
	Fail int `json:"fail"`
}

func (noteArgs) Kind() string { return "test_note" }

// noteWorker records every attempt of every job by name.
type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	mu       sync.Mutex
	attempts map[string]int
	done     chan string
}

func (w *noteWorker) Work(ctx context.Context, job *river.Job[noteArgs]) error {
	w.mu.Lock()
	w.attempts[job.Args.Name]++
	n := w.attempts[job.Args.Name]
	w.mu.Unlock()
	if n <= job.Args.Fail {
		return errors.New("failing on purpose")
	}
	w.done <- job.Args.Name
	return nil
}

// NextRetry keeps retries fast; the policy under test is River's retry
// itself, not its timing.
func (w *noteWorker) NextRetry(*river.Job[noteArgs]) time.Time {
	return time.Now().Add(10 * time.Millisecond)
}

func (w *noteWorker) attemptsOf(name string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempts[name]
}

type testBundle struct {
	db     *db.DB
	queue  *jobs.Queue
	worker *noteWorker
}

func setup(t *testing.T, d *db.DB) *testBundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	require.NoError(t, jobs.Migrate(ctx, d, log))
	require.NoError(t, jobs.Migrate(ctx, d, log), "migrating twice is a no-op")
	w := &noteWorker{attempts: map[string]int{}, done: make(chan string, 16)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := jobs.New(d, log, workers, jobs.Config{FetchPollInterval: 20 * time.Millisecond, Test: true})
	require.NoError(t, err)
	require.NoError(t, q.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, q.Stop(stopCtx))
	})
	return &testBundle{db: d, queue: q, worker: w}
}

func (b *testBundle) waitDone(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-b.worker.done:
		require.Equal(t, want, got)
	case <-time.After(15 * time.Second):
		t.Fatalf("job %q did not run", want)
	}
}

func TestJobInCommittedTransactionRuns(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		// The job and a row of Herald's commit together, through Herald's
		// own write transaction (on SQLite its one writer connection).
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
				"acc_committed", "Committed", time.Now().UTC()); err != nil {
				return err
			}
			_, err := b.queue.Insert(ctx, tx, noteArgs{Name: "committed"}, nil)
			return err
		})
		require.NoError(t, err)
		b.waitDone(t, "committed")
		require.Equal(t, 1, b.worker.attemptsOf("committed"))
	})
}

func TestJobInRolledBackTransactionNeverRuns(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		boom := errors.New("the change failed")
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := b.queue.Insert(ctx, tx, noteArgs{Name: "rolled back"}, nil); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		// A job inserted afterwards runs; the queue is working, and the
		// rolled-back job is not in it.
		_, err = b.queue.Insert(ctx, nil, noteArgs{Name: "after"}, nil)
		require.NoError(t, err)
		b.waitDone(t, "after")
		list, err := b.queue.Client().JobList(ctx, river.NewJobListParams().Kinds("test_note"))
		require.NoError(t, err)
		require.Len(t, list.Jobs, 1)
		require.Zero(t, b.worker.attemptsOf("rolled back"))
	})
}

func TestFailingJobRetries(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		job, err := b.queue.Insert(ctx, nil, noteArgs{Name: "flaky", Fail: 2}, nil)
		require.NoError(t, err)
		b.waitDone(t, "flaky")
		require.Equal(t, 3, b.worker.attemptsOf("flaky"))
		require.Eventually(t, func() bool {
			row, err := b.queue.Client().JobGet(ctx, job.ID)
			return err == nil && row.State == "completed" && len(row.Errors) == 2
		}, 10*time.Second, 10*time.Millisecond, "River records two errors and then completes the job")
	})
}

// TestHeraldWritesWhileJobsRun checks that River and Herald share SQLite's
// single writer connection without starving or deadlocking each other.
func TestHeraldWritesWhileJobsRun(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const n = 40
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := d.InTx(ctx, func(tx *sql.Tx) error {
					_, err := b.queue.Insert(ctx, tx, noteArgs{Name: "job"}, nil)
					return err
				})
				require.NoError(t, err, "insert %d", i)
			}()
		}
		wg.Wait()
		for range n {
			select {
			case <-b.worker.done:
			case <-ctx.Done():
				t.Fatal("jobs did not all run")
			}
		}
	})
}
