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
