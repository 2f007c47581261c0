package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" with database/sql
	_ "modernc.org/sqlite"

	"github.com/heraldsms/herald/bench/internal/benchkit"
)

type sqlRun struct {
	engine  string
	url     string
	n       int
	batch   int
	streams int
	listing bool
}

// The fewest columns and indexes a message row with the record can
// have: its status, body, numbers, carrier id and claim, the index the
// claims read, the carrier id's unique index the reports find it by, and a
// history row for every status it takes.
const schema = `
CREATE TABLE floor_messages (
	id            BIGINT PRIMARY KEY,
	account_id    BIGINT NOT NULL,
	contact_id    BIGINT NOT NULL,
	status        TEXT NOT NULL,
	to_phone      TEXT NOT NULL,
	from_phone    TEXT NOT NULL,
	body          TEXT NOT NULL,
	carrier_id    TEXT,
	claimed_until BIGINT,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX floor_messages_claimable ON floor_messages (id) WHERE status = 'queued';
CREATE UNIQUE INDEX floor_messages_carrier ON floor_messages (carrier_id) WHERE carrier_id IS NOT NULL;
CREATE TABLE floor_history (
	message_id BIGINT NOT NULL,
	status     TEXT NOT NULL,
	at         BIGINT NOT NULL
);
CREATE INDEX floor_history_message ON floor_history (message_id);
`

// What GET /api/v1/messages filters by needs these three more.
const listingIndexes = `
CREATE INDEX floor_messages_account ON floor_messages (account_id, id);
CREATE INDEX floor_messages_status ON floor_messages (account_id, status, id);
CREATE INDEX floor_messages_contact ON floor_messages (account_id, contact_id, id);
`

// runSQL takes n messages through the four writes of their lives, a batch
// at a time, each write its own transaction as in the pipeline: made
// (queued), claimed (sending), sent with a carrier id, delivered by that
// id; every one adds the batch's history rows.
func runSQL(ctx context.Context, run sqlRun) (*result, error) {
	db, cleanup, err := openFloorDB(ctx, run.engine, run.url)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	for _, stmts := range []string{schema, listingIndexes} {
		if stmts == listingIndexes && !run.listing {
			continue
		}
		for stmt := range strings.SplitSeq(stmts, ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return nil, fmt.Errorf("schema: %w", err)
			}
		}
	}
	w := &writer{db: db, pg: run.engine == "postgres", batch: run.batch}
	res, err := measure("sql", run.n, func() error {
		var (
			made    atomic.Int64
			wg      sync.WaitGroup
			errOnce sync.Once
			first   error
		)
		for range run.streams {
			wg.Go(func() {
				if err := w.stream(ctx, &made, int64(run.n)); err != nil {
					errOnce.Do(func() { first = err })
				}
			})
		}
		wg.Wait()
		return first
	})
	if err != nil {
		return nil, err
	}
	var delivered int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM floor_messages WHERE status = 'delivered'`).Scan(&delivered); err != nil {
		return nil, err
	}
	if delivered != run.n {
		return nil, fmt.Errorf("%d of %d messages delivered", delivered, run.n)
	}
	res.Engine = run.engine
	res.Listing = run.listing
	res.PerMessageUs = res.MachineCPUUs
	return res, nil
}

func openFloorDB(ctx context.Context, engine, url string) (*sql.DB, func(), error) {
	switch engine {
	case "postgres":
		schemaURL, drop, err := benchkit.FreshSchema(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		db, err := sql.Open("pgx", schemaURL)
		if err != nil {
			drop()
			return nil, nil, err
		}
		return db, func() { db.Close(); drop() }, nil
	case "sqlite":
		dir, err := os.MkdirTemp("", "herald-floor-")
		if err != nil {
			return nil, nil, err
		}
		dsn := "file:" + filepath.Join(dir, "floor.db") +
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=temp_store(MEMORY)&_txlock=immediate"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		// One writer, as SQLite allows.
		db.SetMaxOpenConns(1)
		return db, func() { db.Close(); os.RemoveAll(dir) }, nil
	}
	return nil, nil, fmt.Errorf("unknown engine %q", engine)
}

// sqliteChunk keeps a SQLite statement near 150 parameters: the driver
// binds each by name, in time that grows with the statement's count.
const sqliteChunk = 150

type writer struct {
	db    *sql.DB
	pg    bool
	batch int
}

// stream makes batches until n messages are made, and takes every batch
// it makes or finds queued through its life.
func (w *writer) stream(ctx context.Context, made *atomic.Int64, n int64) error {
	for {
		end := made.Add(int64(w.batch))
		if start := end - int64(w.batch); start < n {
			ids := make([]int64, 0, w.batch)
			for id := start + 1; id <= min(end, n); id++ {
				ids = append(ids, id)
			}
			if err := w.make(ctx, ids); err != nil {
				return fmt.Errorf("make: %w", err)
			}
		}
		claimed, err := w.claim(ctx)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(claimed) == 0 {
			if end >= n {
				return nil
			}
			continue
		}
		if err := w.sent(ctx, claimed); err != nil {
			return fmt.Errorf("sent: %w", err)
		}
		if err := w.delivered(ctx, claimed); err != nil {
			return fmt.Errorf("delivered: %w", err)
		}
	}
}

func (w *writer) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func now() int64 { return time.Now().UnixMilli() }

func (w *writer) make(ctx context.Context, ids []int64) error {
	return w.inTx(ctx, func(tx *sql.Tx) error {
		if w.pg {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO floor_messages (id, account_id, contact_id, status, to_phone, from_phone, body, updated_at)
				SELECT id, 1, id, 'queued', '+1500555' || lpad(id::text, 4, '0'), '+18885550100',
				       'Hi Ada, your order #' || id || ' is on its way.', $2
				FROM unnest($1::bigint[]) AS id`, ids, now()); err != nil {
				return err
			}
		} else {
			for chunk := range chunks(ids, sqliteChunk/5) {
				q := "INSERT INTO floor_messages (id, account_id, contact_id, status, to_phone, from_phone, body, updated_at) VALUES " +
					repeatJoin("(?, 1, ?, 'queued', ?, '+18885550100', ?, ?)", len(chunk))
				args := make([]any, 0, 5*len(chunk))
				for _, id := range chunk {
					args = append(args, id, id, "+1500555"+strconv.FormatInt(id, 10), "Hi Ada, your order #"+strconv.FormatInt(id, 10)+" is on its way.", now())
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		return w.history(ctx, tx, ids, "queued")
	})
}

func (w *writer) claim(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := w.inTx(ctx, func(tx *sql.Tx) error {
		ids = ids[:0]
		q := `UPDATE floor_messages SET status = 'sending', claimed_until = ?, updated_at = ?
			WHERE id IN (SELECT id FROM floor_messages WHERE status = 'queued' ORDER BY id LIMIT ?)
			RETURNING id`
		if w.pg {
			q = `UPDATE floor_messages SET status = 'sending', claimed_until = $1, updated_at = $2
				WHERE id IN (SELECT id FROM floor_messages WHERE status = 'queued' ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
				RETURNING id`
		}
		rows, err := tx.QueryContext(ctx, q, now()+60_000, now(), w.batch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return w.history(ctx, tx, ids, "sending")
	})
	return ids, err
}

func carrierID(id int64) string { return fmt.Sprintf("SM%032d", id) }

func (w *writer) sent(ctx context.Context, ids []int64) error {
	return w.inTx(ctx, func(tx *sql.Tx) error {
		if w.pg {
			if _, err := tx.ExecContext(ctx, `
				UPDATE floor_messages SET status = 'sent', carrier_id = 'SM' || lpad(id::text, 32, '0'), claimed_until = NULL, updated_at = $2
				WHERE id = ANY($1::bigint[])`, ids, now()); err != nil {
				return err
			}
		} else {
			for chunk := range chunks(ids, sqliteChunk) {
				q := "UPDATE floor_messages SET status = 'sent', carrier_id = printf('SM%032d', id), claimed_until = NULL, updated_at = ? WHERE id IN (" +
					repeatJoin("?", len(chunk)) + ")"
				args := []any{now()}
				for _, id := range chunk {
					args = append(args, id)
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		return w.history(ctx, tx, ids, "sent")
	})
}

// delivered finds the messages by carrier id, as a status callback does.
func (w *writer) delivered(ctx context.Context, ids []int64) error {
	sids := make([]string, len(ids))
	for i, id := range ids {
		sids[i] = carrierID(id)
	}
	return w.inTx(ctx, func(tx *sql.Tx) error {
		if w.pg {
			if _, err := tx.ExecContext(ctx, `
				UPDATE floor_messages SET status = 'delivered', updated_at = $2 WHERE carrier_id = ANY($1::text[])`,
				sids, now()); err != nil {
				return err
			}
		} else {
			for chunk := range chunks(sids, sqliteChunk) {
				q := "UPDATE floor_messages SET status = 'delivered', updated_at = ? WHERE carrier_id IN (" + repeatJoin("?", len(chunk)) + ")"
				args := []any{now()}
				for _, sid := range chunk {
					args = append(args, sid)
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		return w.history(ctx, tx, ids, "delivered")
	})
}

func (w *writer) history(ctx context.Context, tx *sql.Tx, ids []int64, status string) error {
	if w.pg {
		_, err := tx.ExecContext(ctx, `INSERT INTO floor_history (message_id, status, at) SELECT unnest($1::bigint[]), $2, $3`, ids, status, now())
		return err
	}
	for chunk := range chunks(ids, sqliteChunk) {
		q := "INSERT INTO floor_history (message_id, status, at) VALUES " + repeatJoin("(?, '"+status+"', ?)", len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, id, now())
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

func chunks[T any](s []T, size int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(size, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

func repeatJoin(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ")
}
