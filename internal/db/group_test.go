package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// Concurrent callers share commits; one caller's failure undoes only its
// own writes, and every caller that was told success finds its row.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := db.NewGroup(ctx, d, 5*time.Millisecond, 64)
		now := time.Now().UTC()
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = g.Do(ctx, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, 'x', $2, $2)`,
						fmt.Sprintf("acc_%02d", i), now)
					if err == nil && i%10 == 3 {
						return errors.New("this caller changed its mind")
					}
					return err
				})
			}()
		}
		wg.Wait()
		var n int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n))
		require.Equal(t, 45, n, "the five that failed left nothing")
		for i, err := range errs {
			var got int
			require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE id = $1`, fmt.Sprintf("acc_%02d", i)).Scan(&got))
			if i%10 == 3 {
				require.Error(t, err)
				require.Zero(t, got)
			} else {
				require.NoError(t, err)
				require.Equal(t, 1, got)
			}
		}
	})
}

// A caller that gives up never has its work run after it returned: work
// not yet started is dropped, work already running is waited for.
func TestGroupCallerGivesUp(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t, db.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := db.NewGroup(ctx, d, time.Millisecond, 64)

	// Running work: the caller's context ends while fn runs; Do returns
	// only after fn has, and fn's own result is what it returns.
	callerCtx, giveUp := context.WithCancel(ctx)
	running, release := make(chan struct{}), make(chan struct{})
	wrote := false
	done := make(chan error, 1)
	go func() {
		done <- g.Do(callerCtx, func(*sql.Tx) error {
			close(running)
			<-release
			wrote = true
			return nil
		})
	}()
	<-running
	giveUp()
	select {
	case <-done:
		t.Fatal("Do returned while its work was still running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-done)
	require.True(t, wrote)

	// Work whose caller gave up before the group reached it never runs.
	blockCtx, unblock := context.WithCancel(ctx)
	defer unblock()
	blocking := make(chan struct{})
	go func() {
		_ = g.Do(ctx, func(*sql.Tx) error { close(blocking); <-blockCtx.Done(); return nil })
	}()
	<-blocking // the group is busy; the next job waits for the next batch
	late, giveUpLate := context.WithCancel(ctx)
	ran := make(chan struct{}, 1)
	lateDone := make(chan error, 1)
	go func() {
		lateDone <- g.Do(late, func(*sql.Tx) error { ran <- struct{}{}; return nil })
	}()
	time.Sleep(20 * time.Millisecond)
	giveUpLate()
	require.ErrorIs(t, <-lateDone, context.Canceled)
	unblock()
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, ran, "abandoned work does not run")
}

// Merged work runs the items that arrive together in one call. An item the
// call refuses fails alone and writes nothing; an item that breaks the
// whole call (here a duplicate key) is found by running the items one by
// one, and fails only its own caller.
func TestMergedWork(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := db.NewGroup(ctx, d, 20*time.Millisecond, 64)
		now := time.Now().UTC()
		var mu sync.Mutex
		largest := 0
		insertAll := func(ctx context.Context, tx *sql.Tx, names []string) ([]error, error) {
			mu.Lock()
			largest = max(largest, len(names))
			mu.Unlock()
			errs := make([]error, len(names))
			var rows [][]any
			for i, name := range names {
				if name == "refused" {
					errs[i] = errors.New("no accounts called refused")
					continue
				}
				rows = append(rows, []any{"acc_" + name, name, now, now})
			}
			return errs, db.InsertRows(ctx, tx, "accounts", []string{"id", "name", "created_at", "updated_at"}, rows, "")
		}
		insert := db.NewMerged(d, g, insertAll)
		require.NoError(t, insert.Do(ctx, "taken"))

		names := []string{"refused", "taken"}
		for i := range 30 {
			names = append(names, fmt.Sprintf("n%02d", i))
		}
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = insert.Do(ctx, name) }()
		}
		wg.Wait()
		require.Greater(t, largest, 1, "items that arrived together ran in one call")
		require.ErrorContains(t, errs[0], "no accounts called refused")
		require.True(t, db.IsUniqueViolation(errs[1]), "the duplicate fails its own caller: %v", errs[1])
		for i, err := range errs[2:] {
			require.NoError(t, err, names[i+2])
		}
		var n int
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n))
		require.Equal(t, 31, n, "taken once, and the thirty others")

		// Without a group each item runs alone, with the same results.
		alone := db.NewMerged(d, nil, insertAll)
		require.ErrorContains(t, alone.Do(ctx, "refused"), "no accounts called refused")
		require.True(t, db.IsUniqueViolation(alone.Do(ctx, "taken")))
		require.NoError(t, alone.Do(ctx, "solo"))
		require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n))
		require.Equal(t, 32, n)
	})
}

// A batch closes as soon as it is as large as the batch before it, without
// waiting out the window: callers that wait for their commit before sending
// more come back about as many as they were. A batch that falls short waits
// the window, and the next expects only as many as it had.
func TestGroupBatchClosesAtTheSizeOfTheOneBefore(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t, db.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const window = 2 * time.Second
	g := db.NewGroup(ctx, d, window, 64)

	// round runs n callers at once and returns how long the last took and
	// how many transactions they shared.
	round := func(n int) (time.Duration, int) {
		start := time.Now()
		var mu sync.Mutex
		txs := map[*sql.Tx]bool{}
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				require.NoError(t, g.Do(ctx, func(tx *sql.Tx) error {
					mu.Lock()
					defer mu.Unlock()
					txs[tx] = true
					return nil
				}))
			})
		}
		wg.Wait()
		return time.Since(start), len(txs)
	}

	took, _ := round(1)
	require.Less(t, took, window/2, "the first batch has none before it to wait for")

	// Eight callers queued behind a busy group make a batch of eight.
	release := make(chan struct{})
	busy := make(chan struct{})
	go func() {
		_ = g.Do(ctx, func(*sql.Tx) error { close(busy); <-release; return nil })
	}()
	<-busy
	queued := make(chan time.Duration, 1)
	go func() { took, _ := round(8); queued <- took }()
	time.Sleep(100 * time.Millisecond)
	close(release)
	require.Less(t, <-queued, window/2)

	took, txs := round(8)
	require.Less(t, took, window/2, "eight after eight close the batch at once")
	require.Equal(t, 1, txs, "the eight share one commit")

	took, txs = round(3)
	require.GreaterOrEqual(t, took, window, "three after eight wait the window for more")
	require.Equal(t, 1, txs)

	took, txs = round(3)
	require.Less(t, took, window/2, "three after three do not wait")
	require.Equal(t, 1, txs)
}

// A batch that holds plain jobs and a Merged's items commits them
// together, and each keeps its own result: a plain job that fails undoes
// only its own writes, and a Merged call that breaks is run item by item
// while the plain jobs' writes stay.
func TestGroupBatchOfSeveralKindsKeepsEachResult(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := db.NewGroup(ctx, d, 5*time.Millisecond, 64)
		now := time.Now().UTC()
		var mu sync.Mutex
		txs := map[*sql.Tx]bool{}
		seen := func(tx *sql.Tx) {
			mu.Lock()
			defer mu.Unlock()
			txs[tx] = true
		}
		addAccount := func(tx *sql.Tx, id string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, 'x', $2, $2)`, id, now)
			return err
		}
		insert := db.NewMerged(d, g, func(ctx context.Context, tx *sql.Tx, ids []string) ([]error, error) {
			seen(tx)
			for _, id := range ids {
				if err := addAccount(tx, id); err != nil {
					return nil, err
				}
			}
			return make([]error, len(ids)), nil
		})
		require.NoError(t, insert.Do(ctx, "acc_taken"))

		// Hold the group so that everything below queues for one batch.
		release, busy := make(chan struct{}), make(chan struct{})
		go func() {
			_ = g.Do(ctx, func(*sql.Tx) error { close(busy); <-release; return nil })
		}()
		<-busy
		var wg sync.WaitGroup
		var plainOK, plainBad error
		wg.Go(func() {
			plainOK = g.Do(ctx, func(tx *sql.Tx) error { seen(tx); return addAccount(tx, "acc_plain") })
		})
		wg.Go(func() {
			plainBad = g.Do(ctx, func(tx *sql.Tx) error {
				seen(tx)
				if err := addAccount(tx, "acc_undone"); err != nil {
					return err
				}
				return errors.New("this caller changed its mind")
			})
		})
		ids := []string{"acc_m1", "acc_taken", "acc_m2"}
		merged := make([]error, len(ids))
		for i, id := range ids {
			wg.Go(func() { merged[i] = insert.Do(ctx, id) })
		}
		time.Sleep(100 * time.Millisecond)
		close(release)
		wg.Wait()

		require.Len(t, txs, 2, "the first item's commit, then one shared by all the rest")
		require.NoError(t, plainOK)
		require.ErrorContains(t, plainBad, "changed its mind")
		require.NoError(t, merged[0])
		require.True(t, db.IsUniqueViolation(merged[1]), "the duplicate fails its own caller: %v", merged[1])
		require.NoError(t, merged[2])
		var got []string
		rows, err := d.Read().QueryContext(ctx, `SELECT id FROM accounts ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			got = append(got, id)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"acc_m1", "acc_m2", "acc_plain", "acc_taken"}, got)
	})
}
