package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/rivermigrate"

	"github.com/heraldsms/herald/internal/db"
)

// migrateLockKey is the PostgreSQL advisory lock taken while River's
// migrations run (Herald's own take 7236001).
const migrateLockKey = 7236002

// Migrate applies River's migrations for the engine in use, after Herald's
// own. River's migrator takes no lock of its own, so on PostgreSQL several
// processes starting at once take turns on an advisory lock held by one
// connection while the migrator runs on the others; SQLite has one writer.
func Migrate(ctx context.Context, d *db.DB, log *slog.Logger) error {
	m, err := rivermigrate.New(driverFor(d), &rivermigrate.Config{Logger: riverLogger(log)})
	if err != nil {
		return fmt.Errorf("jobs: migrator: %w", err)
	}
	if d.Engine == db.Postgres {
		conn, err := d.Write().Conn(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migration lock: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("jobs: migration lock: %w", err)
		}
		// Unlock on a context that outlives ctx, so the lock is never left
		// with a connection that goes back to the pool.
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
		}()
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if len(res.Versions) > 0 {
		log.Info("migrated job queue", "engine", d.Engine, "applied", len(res.Versions))
	}
	return nil
}
