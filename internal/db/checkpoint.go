package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"modernc.org/sqlite"
)

// SQLite in WAL mode appends commits to the WAL file; a checkpoint copies
// them back into the database file. Left to itself SQLite checkpoints
// inside the commit that crosses 1,000 pages, so now and then one commit
// also writes and syncs the database file while every writer behind it
// waits. Herald turns that off and checkpoints from a connection of its
// own: a PASSIVE checkpoint takes no writer lock, so commits go on while it
// copies.

// checkpointEvery is how often the WAL is copied back. Under a steady load
// of writes it holds the WAL to a few thousand pages.
const checkpointEvery = 250 * time.Millisecond

func (d *DB) startCheckpoints(dsn string, drv *sqlite.Driver) error {
	conn := sql.OpenDB(cachingConnector{dsn: dsn, drv: drv})
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	ctx, stop := context.WithCancel(context.Background())
	if err := conn.PingContext(ctx); err != nil {
		stop()
		_ = conn.Close()
		return fmt.Errorf("db: checkpoint connection: %w", err)
	}
	d.stopCheckpoints, d.checkpointsDone = stop, make(chan struct{})
	go func() {
		defer close(d.checkpointsDone)
		defer conn.Close()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failure (the file busy, say) is tried again next tick.
				_, _ = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return nil
}
