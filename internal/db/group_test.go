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
